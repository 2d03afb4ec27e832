"""The member feed: a hub-wide member version, member states for terminals, snapshot pages.

Every change the hub makes to a member (registration, card link, ledger entries
from any store, tier change, merge, erasure, PIN, import) calls :func:`touch`
inside the change's own transaction. ``touch`` bumps the one-row counter in
``member_feed`` (the **member version**) and records it as the member's latest
version. The counter row is locked by the update until commit, so versions
commit in the order they were handed out: whoever sees version ``n`` committed
also sees every version below it.

Terminals receive the changes as deltas on ``pos/{d}/down/members``
(:mod:`hub.members.downlink`) and fetch a full snapshot over HTTP when they are
new or have missed a delta (:mod:`hub.api.member_snapshot`). Both carry the same
:func:`member_state`, so applying one twice, or an older one after a newer one,
changes nothing at the terminal.
"""

import datetime as dt
import json
from typing import Any

from peewee import BigIntegerField, CharField, DateTimeField, IntegerField, SqliteDatabase, fn

from hub.db import database, transaction
from hub.ingest.models import BaseModel
from hub.members.business_keys import downlink_keys
from hub.members.models import (
    CouponUse,
    HubCard,
    HubCoupon,
    HubLedgerEntry,
    HubLedgerHead,
    HubMember,
    IssuedCoupon,
)
from hub.members.settings import settings

FEED_VERSION = 1  # schema version of member states and snapshot pages (``v``)
SNAPSHOT_PAGE_MAX = 2000


class MemberFeed(BaseModel):
    """The hub's member version (one row) and how far the downlink has published it."""

    id = IntegerField(primary_key=True, default=1)
    version = BigIntegerField(default=0)
    published = BigIntegerField(default=0)


class MemberVersion(BaseModel):
    """The member version of each member's latest change."""

    member_id = CharField(primary_key=True)
    version = BigIntegerField(index=True)


class MemberSubscriber(BaseModel):
    """A terminal that holds a copy of the members: it gets every delta after its snapshot.

    ``reported_version`` is the member version its heartbeat last reported.
    """

    device = CharField(primary_key=True)
    snapshot_version = BigIntegerField(default=0)
    snapshot_at = DateTimeField(null=True)
    reported_version = BigIntegerField(null=True)
    reported_at = DateTimeField(null=True)


MODELS = [MemberFeed, MemberVersion, MemberSubscriber]


def touch(member_id: str) -> int:
    """Bump the member version for a change to ``member_id``; return the new version.

    Call it inside the change's transaction: the counter row stays locked until
    commit, which keeps versions in commit order across hub workers. Outside one
    (a change made in autocommit mode) it runs in a transaction of its own.
    """
    if not database.in_transaction():
        with transaction():
            return touch(member_id)
    query = MemberFeed.update(version=MemberFeed.version + 1).where(MemberFeed.id == 1)
    version = int(query.returning(MemberFeed.version).execute()[0].version)
    MemberVersion.insert(member_id=member_id, version=version).on_conflict(
        conflict_target=[MemberVersion.member_id], update={MemberVersion.version: version}
    ).execute()
    return version


def touch_many(member_ids: list[str]) -> None:
    """:func:`touch` for many members in one counter update: they get consecutive versions.

    Call it inside the change's transaction, like ``touch``; ``member_ids`` must be distinct.
    """
    if not member_ids:
        return
    if not database.in_transaction():
        raise RuntimeError("touch_many must run inside the transaction of the change")
    query = MemberFeed.update(version=MemberFeed.version + len(member_ids)).where(MemberFeed.id == 1)
    first = int(query.returning(MemberFeed.version).execute()[0].version) - len(member_ids) + 1
    rows = [{"member_id": m, "version": first + n} for n, m in enumerate(member_ids)]
    for start in range(0, len(rows), 500):
        MemberVersion.insert_many(rows[start : start + 500]).on_conflict(
            conflict_target=[MemberVersion.member_id], preserve=[MemberVersion.version]
        ).execute()


def current_version() -> int:
    """The latest committed member version (0: no member ever changed)."""
    row = MemberFeed.get_or_none(MemberFeed.id == 1)
    return int(row.version) if row else 0


def device_head(device: str) -> int:
    """``device``'s last ledger sequence number the hub has booked (0: none)."""
    head = HubLedgerHead.get_or_none(HubLedgerHead.device == device)
    return int(head.seq) if head else 0


def balances_through(member_ids: list[str], device: str, through_seq: int) -> dict[str, dict[str, int]]:
    """Balances per member and account, leaving out ``device``'s entries after ``through_seq``.

    Read after the head, so an entry of ``device`` booked in between is neither
    in the balance nor after ``through_seq``'s cut at the terminal: each entry
    is counted exactly once, whatever commits meanwhile.
    """
    if not member_ids:
        return {}
    own_later = (HubLedgerEntry.device == device) & (HubLedgerEntry.seq > through_seq)
    rows = (
        HubLedgerEntry.select(HubLedgerEntry.member_id, HubLedgerEntry.account, fn.SUM(HubLedgerEntry.amount))
        .where(HubLedgerEntry.member_id.in_(member_ids), ~own_later)
        .group_by(HubLedgerEntry.member_id, HubLedgerEntry.account)
        .tuples()
    )
    totals: dict[str, dict[str, int]] = {m: {} for m in member_ids}
    for member_id, account, amount in rows:
        totals[member_id][account] = int(amount)
    return totals


_MEMBER_FIELDS = [f.name for f in HubMember._meta.sorted_fields if f.name not in ("erased_at", "key_id")]


def member_states(members: list[HubMember], device: str) -> list[dict[str, Any]]:
    """What ``device`` stores for each member: profile (still encrypted), cards, balances, version.

    An erased member is sent as ``{"id", "version", "erased": true}`` only: the
    terminal deletes what it held.
    """
    ids = [m.id for m in members]
    versions = dict(
        MemberVersion.select(MemberVersion.member_id, MemberVersion.version)
        .where(MemberVersion.member_id.in_(ids))
        .tuples()
    )
    through = device_head(device)
    balances = balances_through([m.id for m in members if not m.erased_at], device, through)
    cards: dict[str, list[dict[str, str]]] = {m: [] for m in ids}
    for card in HubCard.select().where(HubCard.member_id.in_(ids)).order_by(HubCard.uid):
        cards[card.member_id].append(
            {"uid": card.uid, "member_id": card.member_id, "kind": card.kind, "linked_at": card.linked_at}
        )
    coupons = member_coupons(ids)
    # each member's data key (wrapped under the business key) travels with them: the terminal
    # reads their fields with it; an erased member's is gone from the key store
    data_keys = settings.key_store.get_many(ids) if settings.key_store is not None else {}
    states = []
    for member in members:
        version = int(versions.get(member.id, 0))
        if member.erased_at:
            states.append({"id": member.id, "version": version, "erased": True})
            continue
        states.append(
            {
                "id": member.id,
                "version": version,
                "erased": False,
                "member": {
                    **{name: getattr(member, name) for name in _MEMBER_FIELDS},
                    "data_key": data_keys.get(member.id, ""),
                },
                "cards": cards[member.id],
                "coupons": coupons[member.id],
                "balances": balances[member.id],
                "through_seq": through,
            }
        )
    return states


def member_coupons(member_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Coupons the members hold: issued by a campaign (hub) or at registration (a terminal).

    ``used_sale_id`` is the first sale the hub booked with it (None: unused as far as the hub knows).
    """
    held: dict[str, list[dict[str, Any]]] = {m: [] for m in member_ids}
    issued = list(HubCoupon.select().where(HubCoupon.member_id.in_(member_ids)))
    welcome = list(IssuedCoupon.select().where(IssuedCoupon.member_id.in_(member_ids)))
    uses = {}
    if welcome:
        query = CouponUse.select().where(CouponUse.coupon_id.in_([w.id for w in welcome]))
        for use in query.order_by(CouponUse.id.desc()):
            uses[use.coupon_id] = use.sale_id  # the first use wins
    for row in issued:
        body = json.loads(row.body)
        entry = {"body": body, "used_sale_id": row.used_sale_id}
        if "occasion" in body:
            # beside the body, not in it: a terminal of an older version reads the body strictly
            entry["occasion"] = body.pop("occasion")
        held[row.member_id].append(entry)
    for row in welcome:
        held[row.member_id].append({"body": json.loads(row.body), "used_sale_id": uses.get(row.id)})
    for coupons in held.values():
        coupons.sort(key=lambda c: c["body"]["id"])
    return held


def read_consistently() -> None:
    """Make the caller's read transaction see one snapshot of the database (PostgreSQL).

    SQLite in WAL mode already reads one snapshot per transaction; PostgreSQL's
    default (read committed) would let a page mix two commits.
    """
    if not isinstance(database.obj, SqliteDatabase):
        database.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")


def snapshot_page(device: str, after: str, limit: int) -> dict[str, Any]:
    """One page of the members ``device`` needs, by member id after ``after``.

    ``version`` is the member version the page is at least as new as: a terminal
    keeps the first page's version, applies every page, then the deltas after it.
    """
    limit = max(1, min(limit, SNAPSHOT_PAGE_MAX))
    with database.atomic():
        read_consistently()
        version = current_version()
        members = list(HubMember.select().where(HubMember.id > after).order_by(HubMember.id).limit(limit))
        states = member_states(members, device)
        # the first page says how many pages to expect, so the terminal can show its progress
        total = HubMember.select().count() if not after else None
    last = members[-1].id if len(members) == limit else None
    page = {"v": FEED_VERSION, "version": version, "members": states, "next": last}
    if total is not None:
        page["total"] = total
    keys = downlink_keys(settings.key)
    if keys is not None:  # during a key rotation: the members may be under either key
        page["keys"] = keys
    return page


def subscribe(device: str, now: dt.datetime) -> int:
    """Record that ``device`` takes a snapshot now; return the version it starts from.

    Committed before the snapshot is read, so the downlink publisher, which reads
    the versions before the subscribers, never skips this terminal for a version
    the snapshot did not see.
    """

    with transaction():
        version = current_version()
        values = {"snapshot_version": version, "snapshot_at": now}
        MemberSubscriber.insert(device=device, **values).on_conflict(
            conflict_target=[MemberSubscriber.device], update=values
        ).execute()
    return version


def record_reported(device: str, version: int, now: dt.datetime) -> None:
    """Store the member version a terminal's heartbeat reported."""
    values = {"reported_version": version, "reported_at": now}
    MemberSubscriber.insert(device=device, **values).on_conflict(
        conflict_target=[MemberSubscriber.device], update=values
    ).execute()


def reported_versions() -> dict[str, int | None]:
    """The member version each terminal last reported (None: it never said)."""
    return {s.device: s.reported_version for s in MemberSubscriber.select()}
