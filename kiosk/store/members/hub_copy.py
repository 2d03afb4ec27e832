"""The terminal's copy of the hub's members: applied from snapshots and deltas, at a member version.

The hub numbers every member change with a hub-wide **member version** and
sends each changed member's whole state (see docs/protocol.md, "Member
downlink"). Here a state is applied only when it is newer than the one held for
that member, so a duplicate or late message changes nothing; and the terminal's
own version moves in the same transaction as the members it covers.

Balances: the hub's balance of a member is cut at this terminal's ledger
sequence ``through_seq``; what the terminal shows is that balance plus its own
entries after ``through_seq`` (:func:`kiosk.store.members.member_balances`). So
an older hub balance never hides a spend made here that the hub has not booked.
"""

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from peewee import BigIntegerField, CharField, IntegerField

from kiosk.domain.loyalty.coupons import coupon_from_dict, coupon_to_dict
from kiosk.store import business_keys
from kiosk.store.connection import database
from kiosk.store.member_models import Member, MemberCard
from kiosk.store.models import BaseModel, Outbox
from kiosk.store.pin_tries import forget as forget_pin_tries


class MemberFeedState(BaseModel):
    """How far this terminal's member copy is (one row): the member version and the last snapshot."""

    id = IntegerField(primary_key=True, default=1)
    version = BigIntegerField(default=0)
    snapshot_at = CharField(null=True)  # None: never had a snapshot, so deltas alone cannot be trusted

    class Meta:
        table_name = "member_feed_state"


class MemberHubVersion(BaseModel):
    """The member version of the hub state this terminal holds for each member."""

    member_id = CharField(primary_key=True)
    version = BigIntegerField()

    class Meta:
        table_name = "member_hub_version"


HUB_COPY_MODELS = [MemberFeedState, MemberHubVersion]


@dataclass(frozen=True)
class FeedPosition:
    """Where the member copy stands: its version, and whether a snapshot ever completed."""

    version: int
    has_snapshot: bool


def position() -> FeedPosition:
    """The member copy's version and whether it was ever snapshotted."""
    row = MemberFeedState.get_or_none(MemberFeedState.id == 1)
    if row is None:
        return FeedPosition(0, False)
    return FeedPosition(int(row.version), row.snapshot_at is not None)


def apply_states(states: list[dict[str, Any]]) -> int:
    """Apply member states newer than the ones held (inside the caller's transaction); return how many."""
    if not database.in_transaction():
        raise RuntimeError("apply_states must run inside the transaction that moves the member version")
    held: dict[str, int] = {}
    for ids in _chunks([s["id"] for s in states]):
        held.update(_select_in("SELECT member_id, version FROM member_hub_version WHERE member_id", ids))
    newer = {s["id"]: s for s in states if held.get(s["id"], -1) < s["version"]}  # the last one wins
    fresh = list(newer.values())
    for state in fresh:
        if state["erased"]:
            erase_local(state["id"])
    _store_profiles([s for s in fresh if not s["erased"]])
    database.cursor().executemany(_UPSERT_VERSION, [(s["id"], s["version"]) for s in fresh])
    return len(fresh)


# A snapshot of a million members is a thousand pages: each page's rows go in with fixed SQL and
# executemany on tuples, no per-row ORM objects or dicts (peewee's insert_many built a statement of
# up to 3,200 parameters per 200 rows; docs/perf.md, member snapshot).
_MEMBER_FIELD_LIST = list(Member._meta.sorted_fields)
_MEMBER_COLUMNS = ", ".join(f'"{f.column_name}"' for f in _MEMBER_FIELD_LIST)
_UPSERT_MEMBER = (
    f"INSERT OR REPLACE INTO member ({_MEMBER_COLUMNS}) VALUES ({', '.join('?' * len(_MEMBER_FIELD_LIST))})"
)
_UPSERT_CARD = "INSERT OR REPLACE INTO member_card (uid, member_id, kind, linked_at) VALUES (?, ?, ?, ?)"
_INSERT_BALANCE = "INSERT INTO member_snapshot (member_id, account, amount, through_seq) VALUES (?, ?, ?, ?)"
_UPSERT_VERSION = "INSERT OR REPLACE INTO member_hub_version (member_id, version) VALUES (?, ?)"
_INSERT_COUPON = "INSERT OR IGNORE INTO coupon_row (id, member_id, body, single_use) VALUES (?, ?, ?, ?)"
_COUPON_USED_AT_HUB = (
    "UPDATE coupon_row SET used_sale_id = ?, used_at = 'hub' WHERE id = ? AND used_sale_id IS NULL"
)


def _chunks(rows: list[Any], size: int = 500) -> list[list[Any]]:
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def _select_in(sql: str, values: list[str], extra: str = "", params: tuple[Any, ...] = ()) -> list[Any]:
    """Rows of ``{sql} IN (values){extra}``: one statement for up to 500 values."""
    marks = ", ".join("?" * len(values))
    return database.execute_sql(f"{sql} IN ({marks}){extra}", (*values, *params)).fetchall()


_MEMBER_NAMES_DEFAULTS = [(f.name, f.default) for f in _MEMBER_FIELD_LIST]
_PHONE_INDEX = [f.name for f in _MEMBER_FIELD_LIST].index("phone_index")


def _member_row(member: dict[str, Any]) -> tuple[Any, ...]:
    """A member's columns in table order (a field the hub left out gets the model's default).

    A merged-away member shares its phone with the survivor: only the survivor answers to it.
    """
    row = [member.get(name, default) for name, default in _MEMBER_NAMES_DEFAULTS]
    if member.get("merged_into"):
        row[_PHONE_INDEX] = f"merged:{member['id']}"
    return tuple(row)


def _store_profiles(states: list[dict[str, Any]]) -> None:
    """Profiles, cards and balance snapshots of many members at once.

    A page at a time: a snapshot page of 1,000 members is five ``executemany`` calls and a
    few ``IN`` queries, not 7,000 single statements.
    """
    if not states:
        return
    rows = [_member_row(s["member"]) for s in states]
    ids = [s["id"] for s in states]
    owner = {row[_PHONE_INDEX]: state["id"] for row, state in zip(rows, states, strict=True)}
    # a local member with the same phone and another id is one the hub merged away
    phones = list(owner)
    for start in range(0, len(phones), 250):
        part, others = phones[start : start + 250], list(owner.values())
        duplicates = _select_in(
            "SELECT id, phone_index FROM member WHERE phone_index", part,
            f" AND id NOT IN ({', '.join('?' * len(others))})", tuple(others),
        )  # fmt: skip
        for member_id, phone_index in duplicates:
            database.execute_sql(
                "UPDATE member SET merged_into = ?, phone_index = ? WHERE id = ?",
                (owner[phone_index], f"merged:{member_id}", member_id),
            )
    cursor = database.cursor()
    cursor.executemany(_UPSERT_MEMBER, rows)
    cursor.executemany(
        _UPSERT_CARD,
        [
            (c["uid"], c["member_id"], c.get("kind", "nfc"), c["linked_at"])
            for s in states
            for c in s["cards"]
        ],
    )
    for part in _chunks(ids):
        database.execute_sql(
            f"DELETE FROM member_snapshot WHERE member_id IN ({', '.join('?' * len(part))})", part
        )
    cursor.executemany(
        _INSERT_BALANCE,
        [
            (s["id"], account, amount, s["through_seq"])
            for s in states
            for account, amount in s["balances"].items()
        ],
    )
    _store_coupons([c for s in states for c in s.get("coupons", [])])


def _store_coupons(coupons: list[dict[str, Any]]) -> None:
    """Coupons the hub knows the members hold; one the hub saw used is marked used here too."""
    if not coupons:
        return
    parsed = [
        (coupon_from_dict({**held["body"], "occasion": held.get("occasion", "")}), held.get("used_sale_id"))
        for held in coupons
    ]
    cursor = database.cursor()
    cursor.executemany(
        _INSERT_COUPON,
        [
            (c.id, c.member_id, json.dumps(coupon_to_dict(c), ensure_ascii=False), c.single_use)
            for c, _ in parsed
        ],
    )
    cursor.executemany(_COUPON_USED_AT_HUB, [(used, c.id) for c, used in parsed if used])


PERSONAL_FIELDS = ("phone_enc", "name_enc", "birthday_enc", "gender", "pin_hash", "data_key")


def erase_local(member_id: str) -> None:
    """Remove the member's personal data, cards and wrong-PIN count here; the ledger stays, anonymised.

    Events this terminal already delivered (the hub acked them, and has erased
    its own copy) lose the personal fields too. Their stored ``hash`` stays, so
    the chain of later events is untouched; unsent events are never edited.
    """
    erased = {name: "" for name in PERSONAL_FIELDS}
    forget_pin_tries(member_id)
    Member.update(phone_index=f"erased:{member_id}", **erased).where(Member.id == member_id).execute()
    MemberCard.delete().where(MemberCard.member_id == member_id).execute()
    delivered = Outbox.select().where(
        Outbox.sent_at.is_null(False),
        Outbox.type.in_(["member.registered", "member.updated"]),
        Outbox.body.contains(member_id),
    )
    for row in delivered:
        event = json.loads(row.body)
        data = event["data"]
        target = data.get("member", data)
        if member_id not in (target.get("id"), data.get("member_id")):
            continue
        target.update({k: "" for k in PERSONAL_FIELDS if target.get(k)})
        if "phone_index" in target:
            target["phone_index"] = f"erased:{member_id}"
        row.body = json.dumps(event, ensure_ascii=False, sort_keys=True)
        row.save()


def apply_delta(
    first: int, last: int, states: list[dict[str, Any]], keys: dict[str, Any] | None = None
) -> str:
    """Apply a delta covering versions ``first + 1 .. last`` atomically with the member version.

    Returns ``applied``, ``duplicate`` (nothing new: already at or past ``last``)
    or ``gap`` (versions between ours and ``first`` are missing; nothing applied).
    ``keys`` (during a key rotation) are stored in the same transaction, so the terminal never
    holds a member under a key it was not given (:mod:`kiosk.store.business_keys`).
    """
    with database.atomic("IMMEDIATE"):
        held = position()
        if not held.has_snapshot:
            return "gap"
        if last <= held.version:
            return "duplicate"
        if first > held.version:
            return "gap"
        business_keys.store_keys(keys, dt.datetime.now(dt.UTC))
        apply_states(states)
        MemberFeedState.update(version=last).where(MemberFeedState.id == 1).execute()
    return "applied"


def apply_snapshot_page(states: list[dict[str, Any]], keys: dict[str, Any] | None = None) -> int:
    """Apply one snapshot page (and the keys it carries) in one transaction; the version moves only
    at :func:`finish_snapshot`."""
    with database.atomic("IMMEDIATE"):
        business_keys.store_keys(keys, dt.datetime.now(dt.UTC))
        return apply_states(states)


def finish_snapshot(version: int, now: dt.datetime) -> None:
    """Record that every page of the snapshot at ``version`` is applied.

    Never moves the version backwards: deltas applied meanwhile stay applied.
    """
    with database.atomic("IMMEDIATE"):
        held = position()
        values = {"version": max(version, held.version), "snapshot_at": now.isoformat(timespec="seconds")}
        MemberFeedState.insert(id=1, **values).on_conflict(
            conflict_target=[MemberFeedState.id], update=values
        ).execute()
