"""Points expiry at the hub (积分过期): the hub writes the expire entries, once, on its own chain.

The lots and what is due come from :func:`kiosk.domain.loyalty.expire_entries` (oldest points
are spent and expire first). The hub is authoritative for expiry: terminals receive the lower
balance with the member copy (the entries are in the hub's balance snapshot), so an offline
terminal never expires points on its own and nothing is expired twice.
"""

import datetime as dt
import itertools
import uuid
from dataclasses import dataclass

from peewee import SqliteDatabase

from hub.db import database
from hub.members.book import HUB_DEVICE, move_ledger_head
from hub.members.feed import touch_many
from hub.members.models import HubLedgerEntry, HubLedgerHead, HubMember
from hub.members.settings import settings
from kiosk.domain.loyalty import POINTS, LedgerEntry, Stamp, chain, expire_entries
from kiosk.domain.loyalty.ledger import GENESIS


@dataclass(frozen=True)
class ExpiryResult:
    """What one expiry run wrote: members touched, entries, points taken (a positive number)."""

    members: int
    entries: int
    points: int


def points_entries() -> dict[str, list[LedgerEntry]]:
    """Every member's points entries (members not merged away), read in one query, by member.

    The jobs walk every member's lots: one query instead of one per member (docs/perf.md, jobs).
    """
    names = set(LedgerEntry.__dataclass_fields__)
    query = (
        HubLedgerEntry.select(HubLedgerEntry)
        .join(HubMember, on=(HubMember.id == HubLedgerEntry.member_id))
        .where(HubLedgerEntry.account == POINTS, HubMember.merged_into.is_null())
        .dicts()
    )
    found: dict[str, list[LedgerEntry]] = {}
    for row in query:
        found.setdefault(row["member_id"], []).append(
            LedgerEntry.from_dict({k: v for k, v in row.items() if k in names})
        )
    return found


def hub_chain(entries: list[LedgerEntry]) -> list[LedgerEntry]:
    """Number and hash entries the hub makes after its chain head, and store them.

    Call it inside the caller's transaction. On PostgreSQL the head row is locked first, so two
    hub processes writing hub entries at once queue instead of forking the hub's chain (SQLite's
    IMMEDIATE transaction already holds the one write lock).
    """
    query = HubLedgerHead.select().where(HubLedgerHead.device == HUB_DEVICE)
    if not isinstance(database.obj, SqliteDatabase):
        query = query.for_update()
    head = query.first()
    linked = chain(entries, head.seq if head else 0, head.hash if head else GENESIS)
    if linked:
        move_ledger_head(HUB_DEVICE, linked[-1].seq, linked[-1].hash)
    return linked


def expire_due_points(now: dt.datetime) -> ExpiryResult:
    """Write the expire entries due on ``now``'s day (``now`` in the shop's time zone) for every member.

    Idempotent: an expired lot has nothing left, so a second run the same day writes nothing.
    """
    rule = settings.rules.expiry
    if not rule.months:
        return ExpiryResult(0, 0, 0)
    at = now.isoformat(timespec="milliseconds")
    ids = (str(uuid.uuid4()) for _ in itertools.count())
    due: list[LedgerEntry] = []
    members = 0
    for member_id, history in sorted(points_entries().items()):
        entries = expire_entries(history, member_id, rule, Stamp(HUB_DEVICE, at, ids))
        if entries:
            members += 1
            due.extend(entries)
    linked = hub_chain(due)
    event = f"expiry:{now.date().isoformat()}"
    rows = [{**e.to_dict(), "event_id": event} for e in linked]
    for start in range(0, len(rows), 500):
        HubLedgerEntry.insert_many(rows[start : start + 500]).execute()
    touch_many(sorted({e.member_id for e in linked}))  # terminals get the lower balances
    return ExpiryResult(members, len(linked), -sum(e.amount for e in linked))
