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
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from peewee import BigIntegerField, CharField, IntegerField

from kiosk.domain.loyalty.coupons import coupon_from_dict
from kiosk.store.connection import database
from kiosk.store.member_models import CouponRow, Member, MemberCard, MemberSnapshot
from kiosk.store.members.coupons import add_coupon
from kiosk.store.members.registry import MEMBER_FIELDS
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
    query = MemberHubVersion.select(MemberHubVersion.member_id, MemberHubVersion.version).where(
        MemberHubVersion.member_id.in_([s["id"] for s in states])
    )
    held = dict(cast("Iterable[tuple[str, int]]", query.tuples()))
    newer = {s["id"]: s for s in states if held.get(s["id"], -1) < s["version"]}  # the last one wins
    fresh = list(newer.values())
    for state in fresh:
        if state["erased"]:
            erase_local(state["id"])
    _store_profiles([s for s in fresh if not s["erased"]])
    versions = [{"member_id": s["id"], "version": s["version"]} for s in fresh]
    for rows in _chunks(versions):
        MemberHubVersion.insert_many(rows).on_conflict_replace().execute()
    return len(fresh)


def _chunks(rows: list[dict[str, Any]], size: int = 200) -> list[list[dict[str, Any]]]:
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def _store_profiles(states: list[dict[str, Any]]) -> None:
    """Profiles, cards and balance snapshots of many members at once.

    A page at a time: a snapshot of 2,000 members is a handful of multi-row
    statements, not 14,000 single ones.
    """
    if not states:
        return
    profiles = [_profile(s["member"]) for s in states]
    ids = [p["id"] for p in profiles]
    owner = {p["phone_index"]: p["id"] for p in profiles}
    # a local member with the same phone and another id is one the hub merged away
    duplicates = Member.select().where(Member.phone_index.in_(list(owner)), Member.id.not_in(ids))
    for duplicate in duplicates:
        duplicate.merged_into = owner[duplicate.phone_index]
        duplicate.phone_index = f"merged:{duplicate.id}"
        duplicate.save()
    for rows in _chunks(profiles):
        Member.insert_many(rows).on_conflict_replace().execute()
    cards = [card for s in states for card in s["cards"]]
    for rows in _chunks(cards):
        MemberCard.insert_many(rows).on_conflict_replace().execute()
    MemberSnapshot.delete().where(MemberSnapshot.member_id.in_(ids)).execute()
    balances = [
        {"member_id": s["id"], "account": account, "amount": amount, "through_seq": s["through_seq"]}
        for s in states
        for account, amount in s["balances"].items()
    ]
    for rows in _chunks(balances):
        MemberSnapshot.insert_many(rows).execute()
    _store_coupons([c for s in states for c in s.get("coupons", [])])


def _store_coupons(coupons: list[dict[str, Any]]) -> None:
    """Coupons the hub knows the members hold; one the hub saw used is marked used here too."""
    for held in coupons:
        coupon = coupon_from_dict(held["body"])
        add_coupon(coupon)
        if held.get("used_sale_id"):
            CouponRow.update(used_sale_id=held["used_sale_id"], used_at="hub").where(
                CouponRow.id == coupon.id, CouponRow.used_sale_id.is_null()
            ).execute()


def _profile(member: dict[str, Any]) -> dict[str, Any]:
    profile = {name: member[name] for name in MEMBER_FIELDS if name in member}
    if profile.get("merged_into"):
        # a merged-away member shares its phone with the survivor: only the survivor answers to it
        profile["phone_index"] = f"merged:{profile['id']}"
    return profile


PERSONAL_FIELDS = ("phone_enc", "name_enc", "birthday_enc", "gender", "pin_hash")


def erase_local(member_id: str) -> None:
    """Remove the member's personal data, cards and wrong-PIN count here; the ledger stays, anonymised.

    Events this terminal already delivered (the hub acked them, and has erased
    its own copy) lose the personal fields too. Their stored ``hash`` stays, so
    the chain of later events is untouched; unsent events are never edited.
    """
    erased = {name: "" for name in PERSONAL_FIELDS}
    held = Member.get_or_none(Member.id == member_id)
    if held is not None:
        forget_pin_tries(held.phone_index)
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


def apply_delta(first: int, last: int, states: list[dict[str, Any]]) -> str:
    """Apply a delta covering versions ``first + 1 .. last`` atomically with the member version.

    Returns ``applied``, ``duplicate`` (nothing new: already at or past ``last``)
    or ``gap`` (versions between ours and ``first`` are missing; nothing applied).
    """
    with database.atomic("IMMEDIATE"):
        held = position()
        if not held.has_snapshot:
            return "gap"
        if last <= held.version:
            return "duplicate"
        if first > held.version:
            return "gap"
        apply_states(states)
        MemberFeedState.update(version=last).where(MemberFeedState.id == 1).execute()
    return "applied"


def apply_snapshot_page(states: list[dict[str, Any]]) -> int:
    """Apply one snapshot page in one transaction; the version moves only at :func:`finish_snapshot`."""
    with database.atomic("IMMEDIATE"):
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
