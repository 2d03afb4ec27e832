"""Rows a booked event becomes, and the fast way to write many of them.

The hub's hot path: a batch of ``sale.completed`` events turns into event,
sale and sale-line rows that are written with three ``executemany`` calls on
prepared SQL, instead of one peewee query object per row (which cost ~1 ms of
CPU per event in query building alone; see docs/perf.md).
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import peewee
from peewee import Database, Model, PostgresqlDatabase
from psycopg2.extras import execute_values

from hub.catalog.prices import mismatches
from hub.ingest.models import Event, Sale, SaleLine
from hub.members.models import Reconciliation
from hub.reports.summary import Tally, upserts
from hub.stock.ledger import level_query
from hub.stock.models import StockMove
from kiosk.sync.schema import dumps_sorted

_DRIVER_ERRORS = getattr(peewee, "__exception_wrapper__")  # noqa: B009 (a dunder name, not an attribute typo)


class BookingError(ValueError):
    """The event's data cannot be booked; the text is the reason sent back to the terminal."""


@dataclass
class Rows:
    """Rows for several events, in insert order."""

    events: list[tuple[Any, ...]] = field(default_factory=list)
    sales: list[tuple[Any, ...]] = field(default_factory=list)
    lines: list[tuple[Any, ...]] = field(default_factory=list)
    summary: Tally = field(default_factory=Tally)  # the report rows these sales add to

    def add_sale(
        self, sale: tuple[Any, ...], lines: list[tuple[Any, ...]], data: dict[str, Any], tz: ZoneInfo
    ) -> None:
        """Take a sale's rows (:func:`sale_rows`) and count it in the summary (``data``: the event's)."""
        self.sales.append(sale)
        self.lines.extend(lines)
        self.summary.add_sale(sale, lines, data, tz)

    def __len__(self) -> int:
        return len(self.events)


EVENT_COLUMNS = ("id", "device", "seq", "type", "ts", "hash", "received_at", "body")
SALE_COLUMNS = ("id", "event", "device", "store", "receipt_no", "sold_at", "day", "total_fen", "currency",
                "item_count")  # fmt: skip
MOVE_COLUMNS = ("store", "sku", "quantity", "kind", "ref", "at")
LINE_COLUMNS = ("sale", "position", "sku", "name_zh", "name_en", "unit_price_fen", "quantity", "total_fen")


def event_row(event: dict[str, Any], now: dt.datetime) -> tuple[Any, ...]:
    """The ``event`` table row of ``event``."""
    body = dumps_sorted(event)
    return (event["id"], event["device"], event["seq"], event["type"], event["ts"], event["hash"], now, body)


def sale_rows(event: dict[str, Any], tz: ZoneInfo) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
    """The sale row and line rows of a ``sale.completed`` event; BookingError if they do not add up."""
    data = event["data"]
    try:
        # Booked by the terminal's own time, whatever its clock says; skew is reported, not corrected.
        day = dt.datetime.fromisoformat(event["ts"]).astimezone(tz).date().isoformat()
        lines = [
            (data["sale_id"], int(line["position"]), str(line["sku"]), str(line["name_zh"]),
             str(line.get("name_en", "")), int(line["unit_price_fen"]), int(line["quantity"]),
             int(line["total_fen"]))
            for line in data["lines"]
        ]  # fmt: skip
        total = int(data["total_fen"])
        discount = sum(int(d["amount_fen"]) for d in data.get("discounts", []))
    except (KeyError, TypeError, ValueError) as exc:
        raise BookingError(f"sale.completed data is incomplete: {exc!r}") from exc
    if sum(line[7] for line in lines) - discount != total:
        raise BookingError("line totals do not add up to the sale total")
    items = sum(line[6] for line in lines)
    sale = (data["sale_id"], event["id"], event["device"], data["store"], data["receipt_no"], event["ts"],
            day, total, data.get("currency", "CNY"), items)  # fmt: skip
    return sale, lines


@dataclass(frozen=True)
class RefundRows:
    """A ``sale.refunded`` event as rows: the refund, its lines (position, quantity, fen) and
    its payments (method, fen, reference)."""

    refund: dict[str, Any]
    lines: list[tuple[int, int, int]]
    payments: list[tuple[str, int, str]]


def refund_rows(event: dict[str, Any], tz: ZoneInfo) -> RefundRows:
    """The rows of a ``sale.refunded`` event; BookingError when they are malformed or do not add up."""
    data = event["data"]
    try:
        day = dt.datetime.fromisoformat(event["ts"]).astimezone(tz).date().isoformat()
        lines = [(int(x["position"]), int(x["quantity"]), int(x["total_fen"])) for x in data["lines"]]
        pays = [
            (str(p["method"]), int(p["amount_fen"]), str(p.get("reference", ""))) for p in data["payments"]
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise BookingError(f"sale.refunded data is incomplete: {exc!r}") from exc
    amount = data["amount_fen"]
    if amount <= 0 or any(qty <= 0 or fen < 0 for _, qty, fen in lines):
        raise BookingError(f"refund {data['refund_id']}: amounts and quantities must be positive")
    if sum(x[2] for x in lines) != amount or sum(p[1] for p in pays) != amount:
        raise BookingError(f"refund {data['refund_id']}: lines or payments do not add up to {amount} fen")
    refund = {
        "id": data["refund_id"], "event": event["id"], "sale": data["sale_id"], "device": event["device"],
        "store": data["store"], "refunded_at": event["ts"], "day": day, "amount_fen": amount,
        "attendant": data["attendant"], "reason": data["reason"],
    }  # fmt: skip
    return RefundRows(refund, lines, pays)


def _insert_sql(model: type[Model], columns: tuple[str, ...], values: str) -> str:
    names = ", ".join(f'"{model._meta.fields[c].column_name}"' for c in columns)
    return f'INSERT INTO "{model._meta.table_name}" ({names}) VALUES {values}'


def write(db: Database, rows: Rows) -> None:
    """Insert ``rows`` in the current transaction; raises peewee's IntegrityError on a clash."""
    cursor = db.cursor()
    for model, columns, values in (
        (Event, EVENT_COLUMNS, rows.events),
        (Sale, SALE_COLUMNS, rows.sales),
        (SaleLine, LINE_COLUMNS, rows.lines),
        (StockMove, MOVE_COLUMNS, rows.summary.moves),  # the stock ledger, the same fast way
    ):
        if not values:
            continue
        with _DRIVER_ERRORS:  # sqlite3/psycopg2 errors become peewee's, as for every other query
            if isinstance(db, PostgresqlDatabase):
                # one multi-row statement: psycopg2's executemany is a round trip per row
                execute_values(cursor, _insert_sql(model, columns, "%s"), values, page_size=1000)
            else:
                marks = ", ".join([db.param] * len(columns))
                cursor.executemany(_insert_sql(model, columns, f"({marks})"), values)
    for query in upserts(rows.summary, moves=False):  # the report rows, in the sales' transaction
        query.execute()
    if rows.summary.moves:
        level_query(rows.summary.moves).execute()  # the stock balances
    found = mismatches(rows.sales, rows.lines)  # charged at a price its store was not given
    if found:
        Reconciliation.insert_many(found).execute()
