"""Staff accounts and the role permission matrix, kept at the hub and sent to the terminals.

A staff account has a name, a role (attendant, supervisor, manager, owner), the
stores it works in, an optional badge card UID and a PIN. The PIN is stored only
as a salted scrypt hash (:func:`kiosk.domain.staff.hash_pin`; the terminal checks a PIN
offline with :func:`kiosk.domain.staff.verify_pin`). Every change moves the roster's version, which
the terminals compare before applying a roster (:mod:`hub.staff.downlink`), and is
written to the owner's audit trail in the same transaction.
"""

import datetime as dt
import json
import os
import secrets
from dataclasses import dataclass
from typing import Any

from peewee import BooleanField, CharField, IntegerField, TextField

from hub.accounts import audit
from hub.db import database
from hub.ingest.models import BaseModel
from kiosk.domain.staff import (
    ACTIONS,
    DEFAULT_PERMISSIONS,
    ROLES,
    StaffError,
    check_permissions,
    check_pin_format,
    hash_pin,
    new_tag_key,
    pin_tag,
)


class StaffAccount(BaseModel):
    """One person who works at the terminals of one or more stores."""

    id = CharField(primary_key=True)  # st-xxxxxxxx, what events and audits name
    name = CharField()
    role = CharField()  # attendant / supervisor / manager / owner
    stores = TextField()  # JSON list of store ids
    badge = CharField(null=True, unique=True)  # card UID as the reader gives it, upper case
    pin_hash = CharField()  # scrypt$n$r$p$salt$hash, never the PIN
    pin_tag = CharField(default="")  # the PIN's lookup tag under the roster's tag key ("": from before tags)
    active = BooleanField(default=True)
    updated_at = CharField()

    class Meta:
        table_name = "staff_account"


class StaffRoster(BaseModel):
    """One row: the roster's version (moves on every change) and the permission matrix (JSON)."""

    id = IntegerField(primary_key=True)
    version = IntegerField(default=0)
    permissions = TextField(default="")  # {role: [action, ...]}; empty: the built-in defaults
    close_after_h = IntegerField(default=12)  # a shift still open this long: a forgotten clock-out
    pin_tag_key = CharField(default="")  # scrypt$n$r$p$salt: the one salt of every PIN's lookup tag

    class Meta:
        table_name = "staff_roster"


MODELS = [StaffAccount, StaffRoster]


@dataclass(frozen=True)
class Staff:
    """A staff account as pages, the CLI and the downlink read it (never the hash for display)."""

    id: str
    name: str
    role: str
    stores: tuple[str, ...]
    badge: str | None
    pin_hash: str
    active: bool


def _staff(row: StaffAccount) -> Staff:
    return Staff(
        row.id, row.name, row.role, tuple(json.loads(row.stores)), row.badge, row.pin_hash, bool(row.active)
    )


def _bump() -> int:
    """Move the roster version by one (inside the change's transaction); return the new version."""
    StaffRoster.insert(id=1, version=0, permissions="").on_conflict_ignore().execute()
    StaffRoster.update(version=StaffRoster.version + 1).where(StaffRoster.id == 1).execute()
    return int(StaffRoster.get_by_id(1).version)


def roster_version() -> int:
    """The roster's version: 0 before any staff change."""
    row = StaffRoster.get_or_none(StaffRoster.id == 1)
    return int(row.version) if row else 0


def add_staff(
    name: str,
    role: str,
    stores: list[str],
    pin: str,
    now: dt.datetime,
    by: str,
    badge: str | None = None,
) -> Staff:
    """Create a staff account; StaffError (zh and en) for a bad role, store list, PIN or a badge in use."""
    name = name.strip()
    if not name:
        raise StaffError("请填写员工姓名。", "Give the staff member's name.")
    if role not in ROLES:
        raise StaffError(
            f"角色只能是 {'、'.join(ROLES)}，不是 {role!r}。",
            f"The role is one of {', '.join(ROLES)}, not {role!r}.",
        )
    stores = sorted({s.strip() for s in stores if s.strip()})
    if not stores:
        raise StaffError("请至少选择一个门店。", "Choose at least one store.")
    check_pin_format(pin)
    badge = badge.strip().upper() if badge and badge.strip() else None
    with database.atomic():
        if badge and StaffAccount.get_or_none(StaffAccount.badge == badge) is not None:
            raise StaffError(
                f"员工卡 {badge} 已被其他员工使用。", f"Badge {badge} already belongs to someone."
            )
        staff_id = f"st-{secrets.token_hex(4)}"
        StaffAccount.create(
            id=staff_id, name=name, role=role, stores=json.dumps(stores), badge=badge,
            pin_hash=hash_pin(pin, os.urandom(16)), pin_tag=pin_tag(pin, _tag_key()), active=True,
            updated_at=now.isoformat(timespec="seconds"),
        )  # fmt: skip
        version = _bump()
        audit.record(by, "staff_add", staff_id, now, name=name, role=role, stores=stores, roster=version)
    return get_staff(staff_id)


def _tag_key() -> str:
    """The roster's PIN tag key, made (random salt) the first time a PIN is tagged; call in a transaction."""
    StaffRoster.insert(id=1, version=0, permissions="").on_conflict_ignore().execute()
    row = StaffRoster.get_by_id(1)
    if not row.pin_tag_key:
        row.pin_tag_key = new_tag_key(os.urandom(16))
        StaffRoster.update(pin_tag_key=row.pin_tag_key).where(StaffRoster.id == 1).execute()
    return str(row.pin_tag_key)


def get_staff(staff_id: str) -> Staff:
    """One account; StaffError when there is none."""
    row = StaffAccount.get_or_none(StaffAccount.id == staff_id)
    if row is None:
        raise StaffError(f"没有员工 {staff_id}。", f"No staff member {staff_id}.")
    return _staff(row)


def list_staff(store: str | None = None, active_only: bool = False) -> list[Staff]:
    """Every account by name (of one store, active ones only when asked)."""
    rows = [_staff(r) for r in StaffAccount.select().order_by(StaffAccount.name, StaffAccount.id)]
    return [s for s in rows if (store is None or store in s.stores) and (s.active or not active_only)]


def disable_staff(staff_id: str, now: dt.datetime, by: str) -> Staff:
    """Switch an account off: its PIN and badge stop working on every terminal with the next roster."""
    with database.atomic():
        get_staff(staff_id)
        StaffAccount.update(active=False, updated_at=now.isoformat(timespec="seconds")).where(
            StaffAccount.id == staff_id
        ).execute()
        version = _bump()
        audit.record(by, "staff_disable", staff_id, now, roster=version)
    return get_staff(staff_id)


def permissions() -> dict[str, list[str]]:
    """The role → allowed actions matrix in force (the built-in defaults until the owner edits it)."""
    row = StaffRoster.get_or_none(StaffRoster.id == 1)
    if row is None or not row.permissions:
        return {role: list(actions) for role, actions in DEFAULT_PERMISSIONS.items()}
    stored: dict[str, list[str]] = json.loads(row.permissions)
    return stored


def set_permissions(matrix: dict[str, list[str]], now: dt.datetime, by: str) -> dict[str, list[str]]:
    """Store the owner's matrix (checked: known roles and actions, owner may do everything); audited."""
    clean = check_permissions(matrix)
    with database.atomic():
        StaffRoster.insert(id=1, version=0, permissions="").on_conflict_ignore().execute()
        StaffRoster.update(permissions=json.dumps(clean, sort_keys=True)).where(StaffRoster.id == 1).execute()
        version = _bump()
        audit.record(by, "staff_permissions", "roles", now, permissions=clean, roster=version)
    return clean


def roster_for(store: str) -> dict[str, Any]:
    """What a terminal of ``store`` gets: the version, the permission matrix and the store's staff
    (disabled ones too, marked, so a terminal drops them), with the PIN lookup tags and their key."""
    tags = {row.id: row.pin_tag for row in StaffAccount.select(StaffAccount.id, StaffAccount.pin_tag)}
    return {
        "v": 1,
        "version": roster_version(),
        "store": store,
        "permissions": permissions(),
        "actions": list(ACTIONS),
        "pin_tag_key": row.pin_tag_key if (row := StaffRoster.get_or_none(StaffRoster.id == 1)) else "",
        "staff": [
            {"id": s.id, "name": s.name, "role": s.role, "badge": s.badge, "pin_hash": s.pin_hash,
             "pin_tag": tags.get(s.id, ""), "active": s.active}
            for s in list_staff(store)
        ],
    }  # fmt: skip


def close_after_hours() -> int:
    """The owner's rule: a shift still open this many hours after it started is closed and flagged."""
    row = StaffRoster.get_or_none(StaffRoster.id == 1)
    return int(row.close_after_h) if row else 12


def set_close_after_hours(hours: int, now: dt.datetime, by: str) -> int:
    """Set the forgotten clock-out rule (1-24 hours); audited."""
    if not 1 <= hours <= 24:
        raise StaffError("请设为 1–24 小时。", "Set it between 1 and 24 hours.")
    with database.atomic():
        StaffRoster.insert(id=1, version=0, permissions="").on_conflict_ignore().execute()
        StaffRoster.update(close_after_h=hours).where(StaffRoster.id == 1).execute()
        audit.record(by, "staff_close_after", "roles", now, hours=hours)
    return hours
