"""Business keys a terminal received over the member downlink during a key rotation.

``kiosk.toml`` holds the key the terminal was provisioned with. When the owner
rotates the business key (``hub keys rotate``), the hub sends the new key, and the
one before it, with every member delta and snapshot page, each sealed under the
other (docs/protocol.md, "Member downlink"; docs/security.md, "Key rotation"). The
sync agent stores them here, still sealed, in the same transaction as the members
they came with; the app opens them with its provisioned key (:func:`key_ring`). So
this database never holds a key in clear: without ``kiosk.toml`` the rows open nothing.
"""

import datetime as dt
from typing import Any

from peewee import BooleanField, CharField, TextField

from kiosk.store import device_status
from kiosk.store.models import BaseModel
from kiosk.store.pii import PiiError, PiiKey, key_id_of

KEY_COMPONENT = "business_key"  # device_status row: the key id the app encrypts with, for the heartbeat


class WrappedKeyRow(BaseModel):
    """A business key sealed under another (``wrapped_by``); ``current``: the one the hub writes with."""

    key_id = CharField()
    wrapped_by = CharField()
    wrapped = TextField()
    current = BooleanField(default=False)
    received_at = CharField()

    class Meta:
        table_name = "wrapped_key"
        primary_key = False
        indexes = ((("key_id", "wrapped_by"), True),)


BUSINESS_KEY_MODELS = [WrappedKeyRow]


def check_keys(keys: Any) -> dict[str, Any] | None:
    """The ``keys`` field of a delta or snapshot page, or None when absent; ValueError when malformed."""
    if keys is None:
        return None
    if not isinstance(keys, dict) or not isinstance(keys.get("current"), str):
        raise ValueError("keys must be an object with the current key's id")
    wrapped = keys.get("wrapped")
    if not isinstance(wrapped, list) or not all(
        isinstance(w, dict) and all(isinstance(w.get(f), str) for f in ("id", "by", "key")) for w in wrapped
    ):
        raise ValueError("keys.wrapped must be a list of {id, by, key}")
    return keys


def store_keys(keys: dict[str, Any] | None, now: dt.datetime) -> None:
    """Keep the wrapped keys the hub sent (inside the caller's transaction) and which one is current."""
    if not keys:
        return
    stamp = now.isoformat(timespec="seconds")
    for each in keys["wrapped"]:
        WrappedKeyRow.insert(
            key_id=each["id"], wrapped_by=each["by"], wrapped=each["key"], received_at=stamp
        ).on_conflict_ignore().execute()
    WrappedKeyRow.update(current=WrappedKeyRow.key_id == keys["current"]).execute()


def key_ring(provisioned: bytes) -> PiiKey:
    """Every key this terminal can open, starting from its provisioned key; the current one first.

    The current key is the newest one the hub announced that opens here; the provisioned key
    when none does (no rotation yet, or the terminal was provisioned with the newest key).
    """
    held = {key_id_of(provisioned): provisioned}
    rows = list(WrappedKeyRow.select().order_by(WrappedKeyRow.received_at, WrappedKeyRow.key_id))
    while opened := _open_one(rows, held):
        held[opened[0]] = opened[1]
    current = next((r.key_id for r in rows if r.current and r.key_id in held), key_id_of(provisioned))
    return PiiKey(held[current], tuple(k for i, k in held.items() if i != current))


def _open_one(rows: list[WrappedKeyRow], held: dict[str, bytes]) -> tuple[str, bytes] | None:
    """The first stored key not yet held that a held key opens, or None."""
    for row in rows:
        if row.key_id in held or row.wrapped_by not in held:
            continue
        try:
            return row.key_id, PiiKey(held[row.wrapped_by]).unwrap(row.wrapped, row.key_id, row.wrapped_by)
        except PiiError:
            continue  # sealed under a key of another business, or damaged: it opens nothing
    return None


def report_key(ring: PiiKey, now: dt.datetime) -> bool:
    """Store the key id the app writes with, for the heartbeat; True when it changed."""
    return device_status.record(KEY_COMPONENT, ring.key_id, now)


def reported_key() -> str:
    """The key id the app last stored ("" before the app ran with a key)."""
    stored = device_status.current(KEY_COMPONENT)
    return stored[0] if stored else ""
