"""Summary rows the reports read: kept in the same transaction that books a sale or a refund.

Three tables, each a running sum per key, so a report over a year reads thousands of rows
instead of millions of sale lines (docs/perf.md, "Reports"):

- ``sales_hour``: per shop day, hour (shop time), store, terminal and member/walk-in: sales,
  revenue, items, refunds and refunded money. Days, weeks, months, hours, the weekday × hour
  heatmap, stores, terminals and members vs walk-ins all sum these rows.
- ``sales_product_day``: per day, store and SKU: quantity and revenue sold, quantity and money
  refunded (line totals, before sale-level discounts).
- ``sales_product_month``: the same per month, for long ranges; ``sales_sku_day``: the same per
  day for all stores together, for the chain-wide view.
- ``sales_payment_day``: per day, store and payment method: payments and money taken, refunds
  and money given back.

The four product tables have one shape (:class:`ProductSums`: names and four sums) under their
own keys; :func:`upserts` adds a tally's day rows up into the other three with one helper.

Refunds count on the day the money went back (the refund's day, not the sale's), everywhere,
so a figure and its "net" agree between the overview, the reports and the accountant's export.

The booking code (:mod:`hub.ingest.booking`, :mod:`hub.ingest.bulk_pg`,
:mod:`hub.ingest.refunds`) fills a :class:`Tally` and writes it with :func:`upserts`: one
``INSERT ... ON CONFLICT DO UPDATE`` per table, keys sorted so that two workers booking the
same store lock rows in the same order (no deadlock). The same tally carries the sale's and the
refund's stock movements (:mod:`hub.stock.ledger`), so the stock ledger is written in the same
transaction on every ingest path. :func:`rebuild` recomputes everything
from the booked sales, for a database that has sales from before these tables.
"""

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from peewee import (
    EXCLUDED,
    BigIntegerField,
    BooleanField,
    CharField,
    CompositeKey,
    Database,
    IntegerField,
    Model,
    Query,
    SmallIntegerField,
)

from hub.db import database, transaction
from hub.ingest.models import Event, Refund, RefundLine, RefundPayment, Sale, SaleLine
from hub.stock.ledger import Move, move_queries


class _Summary(Model):
    class Meta:
        database = database
        legacy_table_names = False


class SalesHour(_Summary):
    """Sales and refunds of one shop hour at one terminal, members and walk-ins apart."""

    day = CharField()  # YYYY-MM-DD, shop time
    hour = SmallIntegerField()  # 0..23, shop time
    store = CharField()
    device = CharField()
    member = BooleanField()  # a member was named on the sale
    sales = IntegerField(default=0)
    total_fen = BigIntegerField(default=0)
    items = BigIntegerField(default=0)
    refunds = IntegerField(default=0)
    refunded_fen = BigIntegerField(default=0)

    class Meta:
        primary_key = CompositeKey("day", "hour", "store", "device", "member")


class ProductSums(_Summary):
    """The columns every product summary has: the newest names the product was sold under, units
    and revenue sold, units and money refunded (line totals, before sale-level discounts).

    Not a table: each subclass adds its key (day or month, with or without the store)."""

    name_zh = CharField(default="")
    name_en = CharField(default="")
    quantity = BigIntegerField(default=0)
    total_fen = BigIntegerField(default=0)
    refunded_quantity = BigIntegerField(default=0)
    refunded_fen = BigIntegerField(default=0)


class SalesProductDay(ProductSums):
    """One product's sales and refunds at one store on one day."""

    day = CharField()
    store = CharField()
    sku = CharField()

    class Meta:
        primary_key = CompositeKey("day", "store", "sku")


class SalesProductMonth(ProductSums):
    """One product at one store in one month (``YYYY-MM``): the same sums as its days, so a
    year's product report reads 12 rows per product and store instead of 366."""

    month = CharField()
    store = CharField()
    sku = CharField()

    class Meta:
        primary_key = CompositeKey("month", "store", "sku")


class SalesSkuDay(ProductSums):
    """One product on one day, all stores together: the chain-wide product report reads one row
    per product and day instead of one per store too."""

    day = CharField()
    sku = CharField()

    class Meta:
        primary_key = CompositeKey("day", "sku")


class SalesSkuMonth(ProductSums):
    """One product in one month (``YYYY-MM``), all stores together: a year's chain-wide product
    report reads 12 rows per product instead of 12 per product and store."""

    month = CharField()
    sku = CharField()

    class Meta:
        primary_key = CompositeKey("month", "sku")


class SalesPaymentDay(_Summary):
    """Money taken and given back by one payment method at one store on one day."""

    day = CharField()
    store = CharField()
    method = CharField()
    payments = IntegerField(default=0)
    amount_fen = BigIntegerField(default=0)
    refunds = IntegerField(default=0)
    refunded_fen = BigIntegerField(default=0)

    class Meta:
        primary_key = CompositeKey("day", "store", "method")


class TogetherDay(_Summary):
    """The cart's "often bought together" suggestions at one store on one day: how many were shown,
    and how many the shopper took (lines with ``source`` ``together``) for how much."""

    day = CharField()
    store = CharField()
    shown = IntegerField(default=0)
    taken = IntegerField(default=0)
    taken_fen = BigIntegerField(default=0)

    class Meta:
        primary_key = CompositeKey("day", "store")


# not in MODELS: empty until a terminal suggests, which must not make ensure() rebuild at each start
TOGETHER_DAY_MODELS: list[type[Model]] = [TogetherDay]

MODELS: list[type[Model]] = [
    SalesHour, SalesProductDay, SalesPaymentDay, SalesProductMonth, SalesSkuDay, SalesSkuMonth,
]  # fmt: skip

_HOUR_SUMS = ("sales", "total_fen", "items", "refunds", "refunded_fen")
_PRODUCT_SUMS = ("quantity", "total_fen", "refunded_quantity", "refunded_fen")
_PAYMENT_SUMS = ("payments", "amount_fen", "refunds", "refunded_fen")
_TOGETHER_SUMS = ("shown", "taken", "taken_fen")


def local_day_hour(ts: str, tz: ZoneInfo) -> tuple[str, int]:
    """The shop day and hour of a terminal timestamp (ISO with offset)."""
    when = dt.datetime.fromisoformat(ts).astimezone(tz)
    return when.date().isoformat(), when.hour


@dataclass
class Tally:
    """Sums to add to the summary rows, keyed like the tables' primary keys."""

    hours: dict[tuple[str, int, str, str, bool], list[int]] = field(default_factory=dict)
    products: dict[tuple[str, str, str], list[Any]] = field(default_factory=dict)
    payments: dict[tuple[str, str, str], list[int]] = field(default_factory=dict)
    # stock movements (hub.stock.ledger): written with the sums, in the same transaction
    moves: list[Move] = field(default_factory=list)
    together: dict[tuple[str, str], list[int]] = field(default_factory=dict)  # shown, taken, taken fen

    def add_sale(
        self, sale: tuple[Any, ...], lines: list[tuple[Any, ...]], data: dict[str, Any], tz: ZoneInfo
    ) -> None:
        """Count a sale: ``sale`` and ``lines`` are :func:`hub.ingest.booking.sale_rows`' rows,
        ``data`` the event's data (member and payments)."""
        day, hour = local_day_hour(sale[5], tz)
        store, device = sale[3], sale[2]
        row = self.hours.setdefault((day, hour, store, device, bool(data.get("member_id"))), [0] * 5)
        row[0] += 1
        row[1] += sale[7]
        row[2] += sale[9]
        taken: dict[str, int] = {}
        for _sale, _pos, sku, name_zh, name_en, _unit, quantity, total in lines:
            item = self.products.setdefault((day, store, sku), ["", "", 0, 0, 0, 0])
            item[0], item[1] = name_zh, name_en
            item[2] += quantity
            item[3] += total
            taken[sku] = taken.get(sku, 0) + quantity
        self.moves.extend((store, sku, -q, "sale", sale[0], sale[5]) for sku, q in sorted(taken.items()) if q)
        for payment in data.get("payments", []):
            pay = self.payments.setdefault((day, store, str(payment["method"])), [0] * 4)
            pay[0] += 1
            pay[1] += int(payment["amount_fen"])
        self._add_together(day, store, data)

    def _add_together(self, day: str, store: str, data: dict[str, Any]) -> None:
        shown = data.get("together_shown")
        taken = [line for line in data["lines"] if line.get("source") == "together"]
        if not (shown or taken):
            return
        row = self.together.setdefault((day, store), [0, 0, 0])
        row[0] += len(shown) if isinstance(shown, list) else 0
        row[1] += len(taken)
        row[2] += sum(int(line["total_fen"]) for line in taken)

    def add_refund(
        self,
        refund: dict[str, Any],
        member: bool,
        lines: list[tuple[str, str, str, int, int]],
        payments: list[tuple[str, int]],
        tz: ZoneInfo,
    ) -> None:
        """Count a refund on its own day: ``lines`` are (sku, name_zh, name_en, quantity, fen),
        ``payments`` (method, fen)."""
        day, hour = local_day_hour(refund["refunded_at"], tz)
        store = refund["store"]
        row = self.hours.setdefault((day, hour, store, refund["device"], member), [0] * 5)
        row[3] += 1
        row[4] += refund["amount_fen"]
        back: dict[str, int] = {}
        for sku, name_zh, name_en, quantity, fen in lines:
            item = self.products.setdefault((day, store, sku), [name_zh, name_en, 0, 0, 0, 0])
            item[4] += quantity
            item[5] += fen
            back[sku] = back.get(sku, 0) + quantity
        at = refund["refunded_at"]
        self.moves.extend((store, sku, q, "refund", refund["id"], at) for sku, q in sorted(back.items()) if q)
        for method, fen in payments:
            pay = self.payments.setdefault((day, store, method), [0] * 4)
            pay[2] += 1
            pay[3] += fen

    def __bool__(self) -> bool:
        return bool(self.hours or self.products or self.payments or self.moves or self.together)


def _upsert(
    model: type[Model], keys: tuple[str, ...], sums: tuple[str, ...], rows: list[dict[str, Any]]
) -> Query:
    fields = model._meta.fields
    update: dict[Any, Any] = {fields[name]: fields[name] + getattr(EXCLUDED, name) for name in sums}
    if issubclass(model, ProductSums):  # a renamed product: its newest name
        update.update({fields[n]: getattr(EXCLUDED, n) for n in ("name_zh", "name_en")})
    return (
        model.insert_many(rows)
        .on_conflict(conflict_target=[fields[k] for k in keys], update=update)
        .returning(fields[keys[0]])
    )


# a booked Sale as the tuple hub.ingest.booking.sale_rows makes (same order as its SALE_COLUMNS)
SALE_FIELDS = ("id", "event_id", "device", "store", "receipt_no", "sold_at", "day", "total_fen", "currency",
               "item_count")  # fmt: skip
_HOUR_KEYS = ("day", "hour", "store", "device", "member")
_PRODUCT_KEYS = ("day", "store", "sku")
_PAYMENT_KEYS = ("day", "store", "method")


def _rows(keys: tuple[str, ...], values: tuple[str, ...], sums: dict[Any, list[Any]]) -> list[dict[str, Any]]:
    return [
        dict(zip(keys, key, strict=True)) | dict(zip(values, row, strict=True))
        for key, row in sorted(sums.items())
    ]


def _regroup(
    products: dict[Any, list[Any]], key: Callable[..., tuple[str, ...]]
) -> dict[tuple[str, ...], list[Any]]:
    """``products``' rows (names, then sums) added up under ``key(*their key)``: the sums, and the
    names of the last row in ``products``' order (the newest)."""
    grouped: dict[tuple[str, ...], list[Any]] = {}
    for old, (zh, en, *sums) in products.items():
        row = grouped.setdefault(key(*old), [zh, en, *[0] * len(sums)])
        row[0], row[1] = zh, en
        for i, value in enumerate(sums, start=2):
            row[i] += value
    return grouped


def upserts(tally: Tally, moves: bool = True) -> list[Query]:
    """The statements that add ``tally`` to the summary rows (empty tables skipped) and, unless
    ``moves`` is False (the PostgreSQL bulk path writes them its own way), its stock movements."""
    queries = []
    if tally.hours:
        rows = _rows(_HOUR_KEYS, _HOUR_SUMS, tally.hours)
        queries.append(_upsert(SalesHour, _HOUR_KEYS, _HOUR_SUMS, rows))
    if tally.products:
        days = tally.products
        months = _regroup(days, lambda day, store, sku: (day[:7], store, sku))
        chain = _regroup(days, lambda day, _store, sku: (day, sku))
        chain_months = _regroup(dict(sorted(chain.items())), lambda day, sku: (day[:7], sku))
        for model, keys, grouped in (
            (SalesProductDay, _PRODUCT_KEYS, days),
            (SalesProductMonth, ("month", "store", "sku"), months),
            (SalesSkuDay, ("day", "sku"), chain),
            (SalesSkuMonth, ("month", "sku"), chain_months),
        ):
            named = _rows(keys, ("name_zh", "name_en", *_PRODUCT_SUMS), grouped)
            queries.append(_upsert(model, keys, _PRODUCT_SUMS, named))
    if tally.payments:
        rows = _rows(_PAYMENT_KEYS, _PAYMENT_SUMS, tally.payments)
        queries.append(_upsert(SalesPaymentDay, _PAYMENT_KEYS, _PAYMENT_SUMS, rows))
    if tally.together:
        rows = _rows(("day", "store"), _TOGETHER_SUMS, tally.together)
        queries.append(_upsert(TogetherDay, ("day", "store"), _TOGETHER_SUMS, rows))
    if moves:
        queries.extend(move_queries(tally.moves))  # the stock ledger and its balances
    return queries


def write(tally: Tally) -> None:
    """Add ``tally`` to the summary rows, in the caller's transaction."""
    for query in upserts(tally):
        query.execute()


def rebuild(tz: ZoneInfo, db: Database | None = None) -> int:
    """Recompute every summary row from the booked sales and refunds; return the sales counted.

    For a database whose sales were booked before the summary tables existed (``hub serve`` runs
    it at start when the tables are empty and sales are not); one transaction, in chunks.
    """
    target = db or database.obj
    counted = 0
    with transaction(target):
        for model in (*MODELS, *TOGETHER_DAY_MODELS):
            model.delete().execute()
        last = ""
        while True:
            chunk = list(
                Sale.select(Sale, Event.body).join(Event).where(Sale.id > last).order_by(Sale.id).limit(2000)
            )
            if not chunk:
                break
            tally = Tally()
            lines: dict[str, list[tuple[Any, ...]]] = {}
            for line in (
                SaleLine.select().where(SaleLine.sale.in_([s.id for s in chunk])).order_by(SaleLine.id)
            ):
                lines.setdefault(line.sale_id, []).append(
                    (line.sale_id, line.position, line.sku, line.name_zh, line.name_en, line.unit_price_fen,
                     line.quantity, line.total_fen)
                )  # fmt: skip
            for sale in chunk:
                row = tuple(getattr(sale, name) for name in SALE_FIELDS)
                tally.add_sale(row, lines.get(sale.id, []), json.loads(sale.event.body)["data"], tz)
            tally.moves.clear()  # the stock ledger is not a summary: its moves were written once
            write(tally)
            counted += len(chunk)
            last = chunk[-1].id
        tally = Tally()
        for refund in Refund.select().order_by(Refund.id):
            sale = Sale.get_by_id(refund.sale_id)
            member = bool(json.loads(Event.get_by_id(sale.event_id).body)["data"].get("member_id"))
            sold = {line.position: line for line in SaleLine.select().where(SaleLine.sale == sale)}
            taken = [
                (
                    sold[x.position].sku,
                    sold[x.position].name_zh,
                    sold[x.position].name_en,
                    x.quantity,
                    x.total_fen,
                )
                for x in RefundLine.select().where(RefundLine.refund == refund)
            ]
            paid = [
                (p.method, p.amount_fen) for p in RefundPayment.select().where(RefundPayment.refund == refund)
            ]
            record = {"id": refund.id, "refunded_at": refund.refunded_at, "store": refund.store,
                      "device": refund.device, "amount_fen": refund.amount_fen}  # fmt: skip
            tally.add_refund(record, member, taken, paid, tz)
        tally.moves.clear()
        write(tally)
    return counted


def ensure(tz: ZoneInfo) -> int:
    """Rebuild the summary when a table of it is empty but sales are booked (a hub upgraded to a
    version with a new summary table)."""
    if all(model.select().exists() for model in MODELS) or not Sale.select().exists():
        return 0
    return rebuild(tz)
