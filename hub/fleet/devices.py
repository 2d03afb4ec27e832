"""The hub's device registry: which terminals exist, for which store, and which are revoked.

Stored as one JSON file, ``{hub data}/devices.json``, written atomically::

    {"version": 1, "devices": {"d-7f3a": {"store": "s-001", "name": "Front till",
      "created_at": "2026-11-24T08:00:00+00:00", "revoked_at": null}}}

It holds no secrets: device passwords live only in the device's
``kiosk.toml`` and, hashed, in Mosquitto's password file.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

__all__ = [
    "DeviceRecord",
    "DeviceRegistry",
    "RegistryError",
    "StoreBook",
    "check_device_id",
    "check_device_name",
    "check_store_id",
    "new_device_id",
    "new_password",
]

REGISTRY_FILE = "devices.json"
FORMAT_VERSION = 1
# ids become MQTT usernames, topic levels, ACL lines, file names and certificate names: nothing in
# them may mean something to any of those (no '/', '+', '#', spaces, newlines, NUL)
ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
NAME_MAX = 40
# a name is only shown, but it is kept out of the broker's files anyway; these would mean something
# there (a newline starts a new ACL line, '#' a comment, '+' and '/' topic wildcards and levels)
NAME_FORBIDDEN = set("#+/\\")


class RegistryError(Exception):
    """The registry refused a change; the message is bilingual and says what to do."""


def check_device_id(device_id: str) -> str:
    """``device_id`` when it is a safe id (letters, digits, ``_``, ``-``; up to 32); else RegistryError."""
    if not ID.fullmatch(device_id):
        raise RegistryError(
            f"device id {device_id[:40]!r}: use 1–32 letters, digits, '_' or '-', "
            "starting with a letter or digit"
            f"\n终端编号 {device_id[:40]!r} 无效：只能包含字母、数字、_ 和 -，最多 32 个字符"
        )
    return device_id


def check_store_id(store: str) -> str:
    """``store`` when it is a safe store id (as device ids); else RegistryError."""
    if not ID.fullmatch(store):
        raise RegistryError(
            f"store id {store[:40]!r}: use 1–32 letters, digits, '_' or '-', e.g. s-001"
            f"\n门店编号 {store[:40]!r} 无效：只能包含字母、数字、_ 和 -，如 s-001"
        )
    return store


def check_device_name(name: str) -> str:
    """``name`` when it is a printable name of up to 40 characters without ``# + / \\``."""
    bad = [c for c in name if not c.isprintable() or c in NAME_FORBIDDEN]
    if not name.strip() or len(name) > NAME_MAX or bad:
        shown = ", ".join(sorted({repr(c) for c in bad})) or "(empty or too long)"
        raise RegistryError(
            f"terminal name {name[:NAME_MAX]!r}: 1–{NAME_MAX} printable characters without # + / \\ "
            f"or line breaks; found {shown}"
            f"\n终端名称无效：1–{NAME_MAX} 个可见字符，不能包含 # + / \\ 或换行"
        )
    return name


@dataclass(frozen=True)
class DeviceRecord:
    """One terminal the hub knows."""

    id: str
    store: str
    name: str
    created_at: str
    revoked_at: str | None = None

    @property
    def active(self) -> bool:
        """True until the device is revoked."""
        return self.revoked_at is None


def new_device_id(taken: set[str]) -> str:
    """A fresh ``d-xxxxxx`` id not in ``taken`` (lowercase hex: valid as host name and topic)."""
    while True:
        candidate = f"d-{secrets.token_hex(3)}"
        if candidate not in taken:
            return candidate


def new_password() -> str:
    """A 32-character URL-safe password (192 bits) for the device's broker login."""
    return secrets.token_urlsafe(24)


class DeviceRegistry:
    """The registry file under the hub's data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / REGISTRY_FILE
        self._devices: dict[str, DeviceRecord] = {}
        if self.path.exists():
            self._load()

    def _load(self) -> None:
        raw = json.loads(self.path.read_text(encoding="utf-8"))
        if raw.get("version") != FORMAT_VERSION:
            raise RegistryError(
                f"{self.path}: registry version {raw.get('version')!r} is not {FORMAT_VERSION}; "
                f"upgrade the hub\n{self.path}：设备登记表版本不符，请升级 hub"
            )
        self._devices = {key: DeviceRecord(id=key, **value) for key, value in raw["devices"].items()}

    def save(self) -> None:
        """Write the registry atomically (temp file, fsync, rename)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        devices = {d.id: {k: v for k, v in asdict(d).items() if k != "id"} for d in self.all()}
        text = json.dumps({"version": FORMAT_VERSION, "devices": devices}, indent=2, ensure_ascii=False)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)

    def all(self) -> list[DeviceRecord]:
        """Every device, revoked ones included, by id."""
        return [self._devices[key] for key in sorted(self._devices)]

    def active(self) -> list[DeviceRecord]:
        """Devices that may connect, by id."""
        return [d for d in self.all() if d.active]

    def get(self, device_id: str) -> DeviceRecord:
        """The device ``device_id``; :class:`RegistryError` if unknown."""
        try:
            return self._devices[device_id]
        except KeyError:
            raise RegistryError(
                f"no device {device_id!r}; see `hub device list`\n"
                f"没有终端 {device_id!r}；请用 `hub device list` 查看"
            ) from None

    def add(self, store: str, name: str, now: datetime, device_id: str | None = None) -> DeviceRecord:
        """Register a new device (with a fresh id unless one is given)."""
        device_id = check_device_id(device_id) if device_id is not None else new_device_id(set(self._devices))
        check_store_id(store)
        check_device_name(name)
        if device_id in self._devices:
            raise RegistryError(
                f"device {device_id!r} already exists; pick another id or revoke it first\n"
                f"终端 {device_id!r} 已存在；请换一个编号或先吊销它"
            )
        record = DeviceRecord(device_id, store, name, now.isoformat(timespec="seconds"))
        self._devices[device_id] = record
        return record

    def revoke(self, device_id: str, now: datetime) -> DeviceRecord:
        """Mark ``device_id`` revoked (kept in the registry for the audit trail)."""
        record = self.get(device_id)
        if not record.active:
            raise RegistryError(
                f"device {device_id!r} was already revoked at {record.revoked_at}\n"
                f"终端 {device_id!r} 已于 {record.revoked_at} 吊销"
            )
        revoked = DeviceRecord(**{**asdict(record), "revoked_at": now.isoformat(timespec="seconds")})
        self._devices[device_id] = revoked
        return revoked


class StoreBook:
    """``book(device)``: the store the registry gives ``device`` (None if unknown), re-read on change.

    The ingest asks it for every event; the file is read again only when its modification time
    changes, so ``hub device add`` takes effect without restarting the hub.
    """

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / REGISTRY_FILE
        self._stamp: float | None = None
        self._stores: dict[str, str] = {}

    def __call__(self, device_id: str) -> str | None:
        """The store of ``device_id`` in the registry, or None."""
        try:
            stamp = self.path.stat().st_mtime
        except FileNotFoundError:
            return None
        if stamp != self._stamp:
            self._stores = {d.id: d.store for d in DeviceRegistry(self.path.parent).all()}
            self._stamp = stamp
        return self._stores.get(device_id)
