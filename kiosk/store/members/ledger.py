"""Writing and reading this terminal's ledger: chained entries with their events, balances."""

import dataclasses
import datetime as dt
import itertools
import uuid
from collections.abc import Iterable
from typing import Any, cast

from kiosk.domain.loyalty import (
    BONUS,
    POINTS,
    PRINCIPAL,
    Kind,
    LedgerEntry,
    OfflineSpend,
    RiskDecision,
    Stamp,
    check_offline_spend,
)
from kiosk.domain.loyalty.ledger import GENESIS, chain_with_dicts
from kiosk.domain.loyalty.rules import RiskCap
from kiosk.store.connection import database
from kiosk.store.member_models import (
    LedgerRow,
    MemberSnapshot,
)
from kiosk.store.models import Outbox
from kiosk.store.outbox import record_event
from kiosk.store.sales import Terminal


def timestamp(now: dt.datetime) -> str:
    """The event and entry time format: ISO 8601 with milliseconds and the offset."""
    return now.isoformat(timespec="milliseconds")


def new_stamp(terminal: Terminal, now: dt.datetime) -> Stamp:
    """A stamp for entries made now on this terminal, with fresh UUIDs."""
    return Stamp(terminal.device, timestamp(now), (str(uuid.uuid4()) for _ in itertools.count()))


def write_ledger(entries: Iterable[LedgerEntry], event_id: str) -> list[LedgerEntry]:
    """Chain ``entries`` after this device's ledger head and insert them (inside a transaction)."""
    return [entry for entry, _ in write_ledger_rows(entries, event_id)]


# Plain SQL on a member sale's hot path, as for the sale itself (kiosk/store/sales.py): peewee's
# get_or_create + insert_many + update built SQL for 60 % of a member sale's commit (docs/perf.md).
_LEDGER_HEAD = "SELECT seq, hash FROM ledger_head WHERE id = 1"
_UPSERT_LEDGER_HEAD = (
    "INSERT INTO ledger_head (id, seq, hash) VALUES (1, ?, ?)"
    " ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash"
)
_LEDGER_COLUMNS = (*(f.name for f in dataclasses.fields(LedgerEntry)), "event_id")
_LEDGER_ROW = "(" + ", ".join("?" * len(_LEDGER_COLUMNS)) + ")"
_INSERT_LEDGER = f"INSERT INTO ledger_row ({', '.join(_LEDGER_COLUMNS)}) VALUES "
_ROWS_PER_INSERT = 500  # 16 parameters a row stays far under SQLite's limit of 32,766


def write_ledger_rows(
    entries: Iterable[LedgerEntry], event_id: str
) -> list[tuple[LedgerEntry, dict[str, Any]]]:
    """:func:`write_ledger`, each linked entry with its ``to_dict()`` for the event that carries it.

    The rows go in as one multi-row ``INSERT`` (per 500 entries), the head as one upsert.
    """
    if not database.in_transaction():
        raise RuntimeError("write_ledger must run inside the change's own transaction")
    head = database.execute_sql(_LEDGER_HEAD).fetchone()
    seq, prev = (head[0], head[1]) if head else (0, GENESIS)
    linked = chain_with_dicts(entries, seq, prev)
    if not linked:
        return []
    for start in range(0, len(linked), _ROWS_PER_INSERT):
        part = linked[start : start + _ROWS_PER_INSERT]
        params = [value for _, data in part for value in (*data.values(), event_id)]
        database.execute_sql(_INSERT_LEDGER + ", ".join([_LEDGER_ROW] * len(part)), params)
    last = linked[-1][0]
    database.execute_sql(_UPSERT_LEDGER_HEAD, (last.seq, last.hash))
    return linked


def adjust(
    terminal: Terminal,
    now: dt.datetime,
    entries: list[LedgerEntry],
    reason: str,
    detail: dict[str, Any] | None = None,
) -> list[LedgerEntry]:
    """Write ``entries`` and their ``ledger.adjusted`` event in one transaction.

    ``detail`` adds fields the hub re-checks to the event (a reward's ``reward`` block).
    """
    event_id = str(uuid.uuid4())
    with database.atomic("IMMEDIATE"):
        linked = write_ledger_rows(entries, event_id)
        data = {"reason": reason, "entries": [d for _, d in linked], **(detail or {})}
        record_event(terminal, timestamp(now), "ledger.adjusted", data, event_id)
    return [e for e, _ in linked]


def ledger_entries(member_id: str | None = None) -> list[LedgerEntry]:
    """This terminal's ledger entries (of one member, or all), in sequence order."""
    query = LedgerRow.select()
    if member_id is not None:
        query = query.where(LedgerRow.member_id == member_id)
    return _entries(query)


ENTRY_FIELDS_ORDERED = tuple(f.name for f in dataclasses.fields(LedgerEntry))
ENTRY_FIELDS = frozenset(ENTRY_FIELDS_ORDERED)


def _entries(query: Any) -> list[LedgerEntry]:
    rows = query.order_by(LedgerRow.seq).dicts()
    return [LedgerEntry.from_dict({k: v for k, v in r.items() if k in ENTRY_FIELDS}) for r in rows]


def sale_entries(sale_id: str) -> list[LedgerEntry]:
    """The ledger entries a sale wrote (not its refund reversals), in sequence order."""
    query = LedgerRow.select().where(
        LedgerRow.sale_id == sale_id, LedgerRow.kind != Kind.REFUND_REVERSAL.value
    )
    return _entries(query)


def member_balances(member_id: str) -> dict[str, int]:
    """The member's balance per account: the hub's last snapshot plus this device's later entries.

    Without a snapshot (a member only this terminal has seen) it is the sum of
    the local entries.
    """
    snapshot = list(MemberSnapshot.select().where(MemberSnapshot.member_id == member_id))
    totals = {row.account: row.amount for row in snapshot}
    through = max((row.through_seq for row in snapshot), default=0)
    rows = (
        LedgerRow.select(LedgerRow.account, LedgerRow.amount)
        .where(LedgerRow.member_id == member_id, LedgerRow.seq > through)
        .tuples()
    )
    for account, amount in cast("Iterable[tuple[str, int]]", rows):  # .tuples() rows; peewee is untyped
        totals[account] = totals.get(account, 0) + amount
    return totals


def offline_spent(member_id: str) -> OfflineSpend:
    """Points and stored value the member spent here in entries the hub has not acked yet."""
    rows: list[tuple[str, int]] = list(
        LedgerRow.select(LedgerRow.account, LedgerRow.amount)  # type: ignore[arg-type]
        .join(Outbox, on=(Outbox.id == LedgerRow.event_id))
        .where(
            LedgerRow.member_id == member_id,
            LedgerRow.kind.in_([Kind.REDEEM.value, Kind.SPEND.value]),
            Outbox.sent_at.is_null(),
        )
        .tuples()
    )
    points = sum(-amount for account, amount in rows if account == POINTS)
    fen = sum(-amount for account, amount in rows if account in (PRINCIPAL, BONUS))
    return OfflineSpend(points, fen)


def check_member_spend(
    member_id: str,
    asked: OfflineSpend,
    online: bool,
    cap: RiskCap,
    override_by: str = "",
) -> RiskDecision:
    """May the member spend ``asked`` here now? Offline, counts what is still unacked.

    An ``overridden`` decision carries the audit record; the caller writes it as
    an ``audit.action`` event with the sale.
    """
    return check_offline_spend(online, offline_spent(member_id), asked, cap, override_by)
