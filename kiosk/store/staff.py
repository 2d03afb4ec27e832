"""The terminal's copy of its store's staff roster: who may sign in, their roles, what each role may do.

The hub sends the roster retained on ``pos/{d}/down/staff`` (``kiosk sync`` applies it
here, a newer version only, in one ``IMMEDIATE`` transaction); ``kiosk run`` reads it
to check a PIN or a badge offline. PINs are only ever salted scrypt hashes
(:func:`kiosk.domain.staff.verify_pin`). A disabled person is dropped, so their PIN
and badge stop working as soon as the roster arrives.
"""

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from peewee import CharField, IntegerField, TextField

from kiosk.domain.staff import ROLES, StaffError, check_permissions, pin_tag, verify_pin
from kiosk.store.connection import database
from kiosk.store.models import BaseModel


class StaffRow(BaseModel):
    """One person of this terminal's store."""

    id = CharField(primary_key=True)
    name = CharField()
    role = CharField()
    badge = CharField(null=True, index=True)  # card UID, upper case
    pin_hash = CharField()
    pin_tag = CharField(default="")  # the PIN's lookup tag under the roster's key ("": check by hash)

    class Meta:
        table_name = "staff"


class RosterRow(BaseModel):
    """One row: the applied roster's version, its store, the permission matrix and when it came."""

    id = IntegerField(primary_key=True)
    version = IntegerField()
    store = CharField()
    permissions = TextField()
    applied_at = CharField()
    pin_tag_key = CharField(default="")  # scrypt$n$r$p$salt of the PIN lookup tags ("": none sent)

    class Meta:
        table_name = "staff_roster"


STAFF_MODELS = [StaffRow, RosterRow]


@dataclass(frozen=True)
class StaffMember:
    """Who authorised an action: their id (named in audits and events), name and role."""

    id: str
    name: str
    role: str


def parse_roster(payload: bytes) -> dict[str, Any]:
    """A roster message, checked; StaffError (zh, en) naming what is wrong."""
    try:
        body = json.loads(payload)
        version, store, people = int(body["version"]), str(body["store"]), list(body["staff"])
        permissions = check_permissions(body["permissions"])
        for person in people:
            if person["role"] not in ROLES or not str(person["pin_hash"]).startswith("scrypt$"):
                raise StaffError("员工名单有误。", f"A roster entry is wrong: {person.get('id')!r}.")
    except (ValueError, KeyError, TypeError) as exc:
        raise StaffError("员工名单无法读取。", f"The staff roster cannot be read: {exc!r}.") from exc
    tag_key = str(body.get("pin_tag_key") or "")  # absent from a hub older than the tags
    return {
        "version": version,
        "store": store,
        "staff": people,
        "permissions": permissions,
        "tag_key": tag_key,
    }


def apply_roster(payload: bytes, now: dt.datetime) -> bool:
    """Apply a roster message if it is newer than the one held; True when applied."""
    roster = parse_roster(payload)
    with database.atomic("IMMEDIATE"):
        held = RosterRow.get_or_none(RosterRow.id == 1)
        if held is not None and held.version >= roster["version"]:
            return False
        StaffRow.delete().execute()
        rows = [
            {"id": p["id"], "name": p["name"], "role": p["role"], "pin_hash": p["pin_hash"],
             "pin_tag": str(p.get("pin_tag") or ""), "badge": (p.get("badge") or "").upper() or None}
            for p in roster["staff"] if p.get("active", True)
        ]  # fmt: skip
        if rows:
            StaffRow.insert_many(rows).execute()
        RosterRow.insert(
            id=1, version=roster["version"], store=roster["store"],
            permissions=json.dumps(roster["permissions"]), applied_at=now.isoformat(timespec="seconds"),
            pin_tag_key=roster["tag_key"],
        ).on_conflict_replace().execute()  # fmt: skip
    return True


def roster_version() -> int:
    """The applied roster's version; 0 when none ever arrived."""
    row = RosterRow.get_or_none(RosterRow.id == 1)
    return int(row.version) if row else 0


def has_staff() -> bool:
    """True when a roster with at least one active person is applied."""
    return StaffRow.select().exists()


def permissions() -> dict[str, list[str]] | None:
    """The roster's role → actions matrix; None before any roster."""
    row = RosterRow.get_or_none(RosterRow.id == 1)
    return json.loads(row.permissions) if row else None


@dataclass(frozen=True)
class PinCandidates:
    """What a PIN check needs, read at once: the roster's tag key and each person with their PIN
    hash and tag ("" when the hub sent none), in a fixed order."""

    tag_key: str
    people: list[tuple[StaffMember, str, str]]

    def __len__(self) -> int:
        return len(self.people)


def pin_candidates() -> PinCandidates:
    """Everyone on the roster with their PIN hash and tag: what :func:`match_pin` checks.

    Read on the UI thread (two quick queries); the slow part, :func:`match_pin`, needs no database.
    """
    rows = StaffRow.select(StaffRow.id, StaffRow.name, StaffRow.role, StaffRow.pin_hash, StaffRow.pin_tag)
    roster = RosterRow.get_or_none(RosterRow.id == 1)
    people = [(StaffMember(r.id, r.name, r.role), r.pin_hash, r.pin_tag) for r in rows.order_by(StaffRow.id)]
    return PinCandidates(roster.pin_tag_key if roster is not None else "", people)


def match_pin(pin: str, candidates: PinCandidates) -> StaffMember | None:
    """The person whose PIN this is, or None.

    With the roster's tag key: one scrypt for the PIN's tag, then the salted hash of only the
    people whose tag matches (about one), then of anyone the hub sent without a tag. Without it:
    every person's hash in turn, one scrypt each (seconds for a roster of hundreds on a Pi). Either
    way it is slow: run it off the UI thread.
    """
    tag = pin_tag(pin, candidates.tag_key) if candidates.tag_key else ""
    if tag:
        order = [c for c in candidates.people if c[2] == tag] + [c for c in candidates.people if not c[2]]
    else:
        order = candidates.people
    for person, pin_hash, _tag in order:
        if verify_pin(pin, pin_hash):
            return person
    return None


def staff_for_pin(pin: str) -> StaffMember | None:
    """The person whose PIN this is (see :func:`match_pin`), or None."""
    return match_pin(pin, pin_candidates())


def staff_for_badge(uid: str) -> StaffMember | None:
    """The person whose badge has card ``uid``, or None."""
    row = StaffRow.get_or_none(StaffRow.badge == uid.upper())
    return StaffMember(row.id, row.name, row.role) if row else None


def staff_by_id(staff_id: str) -> StaffMember | None:
    """A person of the roster by id, or None."""
    row = StaffRow.get_or_none(StaffRow.id == staff_id)
    return StaffMember(row.id, row.name, row.role) if row else None
