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
from dataclasses import dataclass
from typing import Any

from peewee import BigIntegerField, CharField, IntegerField

from kiosk.store.db import database
from kiosk.store.member_models import Member, MemberCard
from kiosk.store.members.registry import apply_member_delta
from kiosk.store.models import BaseModel


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
    ids = [s["id"] for s in states]
    held = dict(
        MemberHubVersion.select(MemberHubVersion.member_id, MemberHubVersion.version)
        .where(MemberHubVersion.member_id.in_(ids))
        .tuples()
    )
    applied = 0
    for state in states:
        if held.get(state["id"], -1) >= state["version"]:
            continue
        if state["erased"]:
            erase_local(state["id"])
        else:
            _store(state)
        version = {"member_id": state["id"], "version": state["version"]}
        MemberHubVersion.insert(**version).on_conflict_replace().execute()
        held[state["id"]] = state["version"]
        applied += 1
    return applied


def _store(state: dict[str, Any]) -> None:
    member = dict(state["member"])
    if member.get("merged_into"):
        # a merged-away member shares its phone with the survivor: only the survivor answers to it
        member["phone_index"] = f"merged:{member['id']}"
    delta = {
        "member": member,
        "cards": state["cards"],
        "balances": state["balances"],
        "through_seq": state["through_seq"],
    }
    apply_member_delta(delta)


def erase_local(member_id: str) -> None:
    """Remove the member's personal data and cards here; balances and the ledger stay, anonymised."""
    Member.update(
        phone_index=f"erased:{member_id}",
        phone_enc="",
        name_enc="",
        birthday_enc="",
        gender="",
        pin_hash="",
    ).where(Member.id == member_id).execute()
    MemberCard.delete().where(MemberCard.member_id == member_id).execute()


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
