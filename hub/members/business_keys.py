"""The business key's files at the hub, and the state of a key rotation.

``business.key`` in the hub's data directory is the current key (base64 of 32 bytes,
0600): ``hub device add`` writes it into each terminal's ``kiosk.toml``. During a
rotation ``business.key.previous`` holds the key before it, still read (terminals that
have not yet got the new key keep sending data under it) until ``hub keys retire``
deletes it. Keys are never stored in the database, so a database backup holds none.

Rotation steps (docs/security.md, "Key rotation"):

1. :func:`begin_rotation` keeps the current key as ``business.key.previous`` and
   writes a new ``business.key``; every hub process reads the files again when they
   change (:class:`KeyFiles`), so sales keep flowing.
2. :mod:`hub.members.rotation` re-encrypts the members in short batches.
3. The member downlink carries the two keys, each sealed under the other
   (:func:`downlink_keys`), so every terminal learns the new key with the first member
   it receives under it; its heartbeat then reports the key id it writes with.
4. :func:`retire_previous` once no member and no terminal uses the previous key.
"""

import base64
import logging
import os
import secrets
import time
from pathlib import Path
from typing import Any

from kiosk.store.pii import PiiKey, key_id_of

log = logging.getLogger(__name__)

KEY_FILE = "business.key"
PREVIOUS_FILE = "business.key.previous"


class KeyFileError(Exception):
    """A key file is missing or unreadable, or a rotation step is not possible now (zh/en text)."""


def read_key(path: Path) -> bytes:
    """The 32-byte key in ``path``; KeyFileError when it is not one."""
    try:
        raw = base64.b64decode(path.read_text().strip(), validate=True)
    except (OSError, ValueError) as exc:
        raise KeyFileError(f"{path}: not a business key ({exc}) / {path} 不是有效的业务密钥") from exc
    if len(raw) != 32:
        raise KeyFileError(f"{path}: a business key is 32 bytes, found {len(raw)} / {path} 密钥长度错误")
    return raw


def load_ring(data_dir: Path) -> PiiKey | None:
    """The hub's keys (current first, then the previous one during a rotation); None without a key."""
    current = data_dir / KEY_FILE
    if not current.exists():
        return None
    key = read_key(current)
    previous = data_dir / PREVIOUS_FILE
    older = read_key(previous) if previous.exists() else None
    return PiiKey(key, (older,) if older is not None and older != key else ())


class KeyFiles:
    """The keys in ``data_dir``, read again when a key file changes (looked at once a second at most)."""

    def __init__(self, data_dir: Path, check_every: float = 1.0) -> None:
        self.data_dir = data_dir
        self.check_every = check_every
        self._seen: tuple[tuple[int, int] | None, ...] | None = None
        self._ring: PiiKey | None = None
        self._checked = float("-inf")

    def _stamps(self) -> tuple[tuple[int, int] | None, ...]:
        stamps = []
        for name in (KEY_FILE, PREVIOUS_FILE):
            try:
                stat = (self.data_dir / name).stat()
            except OSError:  # absent, or a data directory this user may not read: no key from it
                stamps.append(None)
            else:
                stamps.append((stat.st_mtime_ns, stat.st_ino))
        return tuple(stamps)

    def __call__(self) -> PiiKey | None:
        now = time.monotonic()
        if now - self._checked < self.check_every:
            return self._ring
        self._checked = now
        stamps = self._stamps()
        if stamps != self._seen:
            try:
                self._ring = load_ring(self.data_dir)
            except KeyFileError as exc:  # a half-copied file: keep the keys in use, say so, look again
                log.error("%s; still using key(s) %s", exc, self._ring.key_ids if self._ring else "none")
                return self._ring
            self._seen = stamps
        return self._ring


def _write_new(path: Path, key: bytes) -> None:
    """Write ``key`` to ``path`` atomically (a temporary file renamed over it), mode 0600."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.b64encode(key).decode() + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def begin_rotation(data_dir: Path) -> tuple[str, str]:
    """Make a new current key and keep the old one as the previous key; return (old id, new id).

    Resumable: a rotation already begun (a previous key that differs from the current one)
    returns its ids unchanged, so ``hub keys rotate`` run again finishes the re-encryption.
    A crash between the two file writes leaves a previous key equal to the current one: the
    next call goes on from there.
    """
    current_path, previous_path = data_dir / KEY_FILE, data_dir / PREVIOUS_FILE
    if not current_path.exists():
        raise KeyFileError(
            f"no business key in {data_dir}: nothing to rotate (`hub device add` makes the first)"
            f" / {data_dir} 中没有业务密钥"
        )
    current = read_key(current_path)
    if previous_path.exists():
        previous = read_key(previous_path)
        if previous != current:
            return key_id_of(previous), key_id_of(current)
    else:
        _write_new(previous_path, current)
    new = secrets.token_bytes(32)
    _write_new(current_path, new)
    return key_id_of(current), key_id_of(new)


def previous_key_id(data_dir: Path) -> str | None:
    """The id of the previous key while a rotation is open, else None."""
    ring = load_ring(data_dir)
    return ring.key_ids[1] if ring is not None and len(ring.key_ids) > 1 else None


def retire_previous(data_dir: Path) -> str:
    """Delete the previous key (the caller checked nothing uses it); return its id."""
    previous = previous_key_id(data_dir)
    if previous is None:
        raise KeyFileError("no rotation to finish: there is no previous key / 没有需要停用的旧密钥")
    (data_dir / PREVIOUS_FILE).unlink()
    return previous


def downlink_keys(ring: PiiKey | None) -> dict[str, Any] | None:
    """What member deltas and snapshot pages carry during a rotation: the current key sealed under
    the previous one (for terminals still on it) and the previous sealed under the current (for a
    terminal provisioned with the new key, whose copy still holds members not yet moved)."""
    if ring is None or len(ring.key_ids) < 2:
        return None
    current, previous = ring.key_ids[0], ring.key_ids[1]
    older = ring.older(previous)
    return {
        "current": current,
        "wrapped": [
            {"id": current, "by": previous, "key": ring.wrap_current(by=previous)},
            {"id": previous, "by": current, "key": older.wrap_current(by=current)},
        ],
    }
