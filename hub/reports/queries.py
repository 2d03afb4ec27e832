"""Read-side queries for the dashboard and the API."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from peewee import Case, Value, fn

from hub.catalog.models import CatalogProduct
from hub.db import database
from hub.ingest.models import Gap, Quarantine, Refund, Sale
from hub.members.models import HubLedgerEntry
from hub.reports.summary import (
    SalesHour,
    SalesPaymentDay,
    SalesProductDay,
    SalesProductMonth,
    SalesSkuDay,
    SalesSkuMonth,
)
from kiosk.domain.loyalty import BONUS, POINTS, PRINCIPAL, Kind


@dataclass(frozen=True)
class DaySummary:
    """One day's sales at a glance."""

    day: str
    sales: int
    total_fen: int
    items: int


def day_summary(day: str) -> DaySummary:
    """Count, total and items of the sales booked on ``day`` (YYYY-MM-DD, shop time)."""
    row = (
        Sale.select(
            fn.COUNT(Sale.id).alias("n"),
            fn.COALESCE(fn.SUM(Sale.total_fen), 0).alias("total"),
            fn.COALESCE(fn.SUM(Sale.item_count), 0).alias("items"),
        )
        .where(Sale.day == day)
        .dicts()
        .get()
    )
    return DaySummary(day=day, sales=int(row["n"]), total_fen=int(row["total"]), items=int(row["items"]))


@dataclass(frozen=True)
class RefundTotals:
    """Refunds booked over some days: how many and how much money went back."""

    count: int
    total_fen: int


def refund_totals(day_from: str, day_to: str) -> RefundTotals:
    """Refunds booked from ``day_from`` to ``day_to`` inclusive (YYYY-MM-DD, shop time, the day of
    the refund, not of its sale)."""
    row = (
        Refund.select(fn.COUNT(Refund.id).alias("n"), fn.COALESCE(fn.SUM(Refund.amount_fen), 0).alias("fen"))
        .where(Refund.day >= day_from, Refund.day <= day_to)
        .dicts()
        .get()
    )
    return RefundTotals(count=int(row["n"]), total_fen=int(row["fen"]))


def recent_sales(limit: int = 10) -> list[Sale]:
    """The newest booked sales."""
    return list(Sale.select().order_by(Sale.sold_at.desc()).limit(limit))


def quarantine_count() -> int:
    """How many messages or events wait in quarantine."""
    return Quarantine.select().count()


def gap_count() -> int:
    """How many sequence gaps have been reported."""
    return Gap.select().count()


# --- Reports over a range of days (the /reports page, its CSV and /api/v1/reports/sales) ---

MAX_RANGE_DAYS = 366


class RangeError(ValueError):
    """A report range that cannot be read; ``zh`` and ``en`` say what to type instead."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en


def parse_range(day_from: str | None, day_to: str | None, today: dt.date) -> tuple[dt.date, dt.date]:
    """The days of a report: both given as YYYY-MM-DD, or the last 7 days up to ``today``."""
    try:
        last = dt.date.fromisoformat(day_to) if day_to else today
        first = dt.date.fromisoformat(day_from) if day_from else last - dt.timedelta(days=6)
    except ValueError:
        raise RangeError(
            f"日期格式不对：请写成 2026-11-24 这样的年-月-日（收到 {day_from!r} 到 {day_to!r}）。",
            f"Dates must look like 2026-11-24 (year-month-day); got {day_from!r} to {day_to!r}.",
        ) from None
    if first > last:
        raise RangeError(
            "开始日期晚于结束日期：请交换两个日期。", "The start is after the end: swap the two dates."
        )
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise RangeError(
            f"一次最多查看 {MAX_RANGE_DAYS} 天：请缩短日期范围。",
            f"At most {MAX_RANGE_DAYS} days at a time: shorten the range.",
        )
    return first, last


@dataclass(frozen=True)
class RangeSummary:
    """Sales over a range of days, for one store or all."""

    day_from: str
    day_to: str
    sales: int
    total_fen: int
    items: int
    member_sales: int
    member_fen: int
    refunds: int = 0
    refunded_fen: int = 0  # refunds booked on these days (of sales from any day)

    @property
    def net_fen(self) -> int:
        """Revenue less the money refunded in the same days."""
        return self.total_fen - self.refunded_fen

    @property
    def average_fen(self) -> int:
        """The average sale, rounded down to the fen (0 without sales)."""
        return self.total_fen // self.sales if self.sales else 0

    @property
    def member_share_pct(self) -> int:
        """Members' share of revenue in whole percent, rounded down."""
        return self.member_fen * 100 // self.total_fen if self.total_fen else 0


def _rows(query: Any) -> list[tuple[Any, ...]]:
    """``query``'s rows as the driver returns them: peewee writes the SQL but wraps no row.

    A year's reports return thousands of rows (11,000 daily takings, 5,000 day-hours for the
    heatmap, 2,000 product rows); peewee's per-row conversion was most of their Python time
    (docs/perf.md). The callers convert what they read (``int()`` of sums, truthiness of flags),
    so both databases' raw values serve."""
    return list(database.execute_sql(*query.sql()))


def _hours_in(first: dt.date, last: dt.date, store: str | None) -> Any:
    where = (SalesHour.day >= first.isoformat()) & (SalesHour.day <= last.isoformat())
    return where & (SalesHour.store == store) if store else where


def previous_period(first: dt.date, last: dt.date) -> tuple[dt.date, dt.date]:
    """The range of the same length just before ``first``..``last`` (what each figure is set beside)."""
    length = last - first + dt.timedelta(days=1)
    return first - length, last - length


def range_summary(first: dt.date, last: dt.date, store: str | None = None) -> RangeSummary:
    """Count, revenue, items, members' part and refunds booked from ``first`` to ``last``
    (from the summary rows; refunds on the days the money went back)."""
    rows = (
        SalesHour.select(
            SalesHour.member,
            fn.COALESCE(fn.SUM(SalesHour.sales), 0),
            fn.COALESCE(fn.SUM(SalesHour.total_fen), 0),
            fn.COALESCE(fn.SUM(SalesHour.items), 0),
            fn.COALESCE(fn.SUM(SalesHour.refunds), 0),
            fn.COALESCE(fn.SUM(SalesHour.refunded_fen), 0),
        )
        .where(_hours_in(first, last, store))
        .group_by(SalesHour.member)
        .tuples()
    )
    sums = {bool(member): [int(x) for x in rest] for member, *rest in rows}
    walk_in, member = sums.get(False, [0] * 5), sums.get(True, [0] * 5)
    both = [a + b for a, b in zip(walk_in, member, strict=True)]
    return RangeSummary(
        first.isoformat(), last.isoformat(), both[0], both[1], both[2], member[0], member[1], both[3], both[4]
    )


def daily(first: dt.date, last: dt.date, store: str | None = None) -> list[DaySummary]:
    """One row per day from ``first`` to ``last``, days without sales included (as zeros)."""
    found = {row.key: row for row in by_period("day", first, last, store)}
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    return [
        DaySummary(
            d.isoformat(),
            *(lambda r: (r.sales, r.total_fen, r.items) if r else (0, 0, 0))(found.get(d.isoformat())),
        )
        for d in days
    ]


@dataclass(frozen=True)
class RangeFigures:
    """What the sales API reads from the summary rows in one statement: the range's totals, the
    previous period's, every day of the range (days without sales as zeros), every terminal
    (largest revenue first), every payment method (largest first) and the member ledger's flows."""

    summary: RangeSummary
    previous: RangeSummary
    days: list[DaySummary]
    terminals: list["TerminalRow"]
    payments: list["PaymentRow"]
    loyalty: "LoyaltyFlows"


def range_figures(first: dt.date, last: dt.date, store: str | None = None) -> RangeFigures:
    """:func:`range_summary` of the range and of :func:`previous_period`, :func:`daily`,
    :func:`by_terminal`, :func:`by_payment` and :func:`loyalty_flows`, in one statement: the hour
    rows of both periods grouped per day and member, the range's grouped per terminal, its payment
    rows per method and its ledger entries per kind and account (one round trip instead of six).

    Every part has the same columns: a tag, two keys, the member flag and five sums."""
    before = previous_period(first, last)
    h, p = SalesHour, SalesPaymentDay
    sums = (fn.SUM(h.sales), fn.SUM(h.total_fen), fn.SUM(h.items), fn.SUM(h.refunds), fn.SUM(h.refunded_fen))
    per_day = (
        h.select(Value("day"), h.day, Value(""), h.member, *sums)
        .where(_hours_in(before[0], last, store))
        .group_by(h.day, h.member)
    )
    per_terminal = (
        h.select(Value("terminal"), h.store, h.device, Value(False), *sums)
        .where(_hours_in(first, last, store))
        .group_by(h.store, h.device)
    )
    per_method = (
        p.select(
            Value("payment"), p.method, Value(""), Value(False), fn.SUM(p.payments), fn.SUM(p.amount_fen),
            fn.SUM(p.refunds), fn.SUM(p.refunded_fen), Value(0),
        )
        .where(_payment_days(first, last, store))
        .group_by(p.method)
    )  # fmt: skip
    e = HubLedgerEntry
    per_account = (
        e.select(Value("ledger"), e.kind, e.account, Value(False), fn.SUM(e.amount), *[Value(0)] * 4)
        .where(_ledger_days(first, last))
        .group_by(e.kind, e.account)
    )
    days: dict[str, list[int]] = {}
    terminals, payments, ledger = [], [], {}
    for kind, key, other, member, *values in _rows(per_day + per_terminal + per_method + per_account):
        sums = [int(v) for v in values]
        if kind == "terminal":  # sales, revenue, items, refunds, refunded
            terminals.append(TerminalRow(key, other, sums[0], sums[1], sums[4]))
        elif kind == "payment":  # payments, amount, refunds, refunded, 0
            payments.append(PaymentRow(key, *sums[:4]))
        elif kind == "ledger":  # amount, 0, 0, 0, 0
            ledger[(key, other)] = sums[0]
        else:  # per day and member: as per terminal, then member sales and member revenue
            n, fen = sums[0], sums[1]
            day = days.setdefault(key, [0] * 7)
            for i, value in enumerate((*sums, n if member else 0, fen if member else 0)):
                day[i] += value

    def summary(a: dt.date, b: dt.date) -> RangeSummary:
        inside = [v for d, v in days.items() if a.isoformat() <= d <= b.isoformat()]
        s, fen, items, refunds, refunded, m, mfen = (sum(col) for col in zip(*inside, [0] * 7, strict=True))
        return RangeSummary(a.isoformat(), b.isoformat(), s, fen, items, m, mfen, refunds, refunded)

    every_day = [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
    return RangeFigures(
        summary(first, last),
        summary(*before),
        [DaySummary(d, *days.get(d, [0, 0, 0])[:3]) for d in every_day],
        sorted(terminals, key=lambda r: (-r.total_fen, r.store, r.device)),
        sorted(payments, key=lambda r: (-r.amount_fen, r.method)),
        _flows(ledger),
    )


@dataclass(frozen=True)
class PeriodRow:
    """Sales and refunds of one bucket: a day, an ISO week (``2026-W48``), a month (``2026-11``)
    or an hour of the day (``09``); ``net_fen`` is revenue less refunds."""

    key: str
    sales: int
    total_fen: int
    items: int
    refunds: int
    refunded_fen: int
    member_sales: int

    @property
    def net_fen(self) -> int:
        """Revenue less the money refunded in the same bucket."""
        return self.total_fen - self.refunded_fen

    @property
    def average_fen(self) -> int:
        """The average sale, rounded down (0 without sales)."""
        return self.total_fen // self.sales if self.sales else 0


PERIODS = ("hour", "day", "week", "month")


def _bucket(period: str, key: Any) -> str:
    if period == "hour":
        return f"{int(key):02d}"
    if period == "week":
        year, week, _ = dt.date.fromisoformat(key).isocalendar()
        return f"{year}-W{week:02d}"
    return str(key)


def by_period(period: str, first: dt.date, last: dt.date, store: str | None = None) -> list[PeriodRow]:
    """Sales per ``period`` (one of PERIODS) from the summary rows; only buckets with sales or refunds."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {PERIODS}, not {period!r}")
    # grouped in the database (weeks by day, then here): a year is at most 366 rows to Python
    key = {"hour": SalesHour.hour, "month": fn.SUBSTR(SalesHour.day, 1, 7)}.get(period, SalesHour.day)
    members = fn.SUM(Case(None, [(SalesHour.member == True, SalesHour.sales)], 0))  # noqa: E712
    rows = (
        SalesHour.select(
            key, fn.SUM(SalesHour.sales), fn.SUM(SalesHour.total_fen), fn.SUM(SalesHour.items),
            fn.SUM(SalesHour.refunds), fn.SUM(SalesHour.refunded_fen), members,
        )
        .where(_hours_in(first, last, store))
        .group_by(key)
    )  # fmt: skip
    buckets: dict[str, list[int]] = {}
    for value, *sums in _rows(rows):
        bucket = buckets.setdefault(_bucket(period, value), [0] * 6)
        for i, number in enumerate(sums):
            bucket[i] += int(number)
    return [PeriodRow(name, *sums) for name, sums in sorted(buckets.items())]


def heatmap(first: dt.date, last: dt.date, store: str | None = None) -> list[list[int]]:
    """Sales counted per weekday (0 = Monday) and hour: 7 rows of 24 numbers."""
    grid = [[0] * 24 for _ in range(7)]
    rows = (
        SalesHour.select(SalesHour.day, SalesHour.hour, fn.SUM(SalesHour.sales))
        .where(_hours_in(first, last, store))
        .group_by(SalesHour.day, SalesHour.hour)
    )
    for day, hour, sales in _rows(rows):
        grid[dt.date.fromisoformat(day).weekday()][int(hour)] += int(sales)
    return grid


@dataclass(frozen=True)
class TerminalRow:
    """One terminal's sales in the range."""

    store: str
    device: str
    sales: int
    total_fen: int
    refunded_fen: int = 0


def by_terminal(first: dt.date, last: dt.date, store: str | None = None) -> list[TerminalRow]:
    """Sales per store and terminal, largest revenue first."""
    total = fn.SUM(SalesHour.total_fen)
    rows = (
        SalesHour.select(
            SalesHour.store, SalesHour.device, fn.SUM(SalesHour.sales), total, fn.SUM(SalesHour.refunded_fen)
        )
        .where(_hours_in(first, last, store))
        .group_by(SalesHour.store, SalesHour.device)
        .order_by(total.desc(), SalesHour.store, SalesHour.device)
        .tuples()
    )
    return [TerminalRow(s, d, int(n), int(fen), int(back)) for s, d, n, fen, back in rows]


@dataclass(frozen=True)
class StoreRow:
    """One store's sales in the range."""

    store: str
    sales: int
    total_fen: int
    refunded_fen: int
    member_sales: int

    @property
    def net_fen(self) -> int:
        """Revenue less refunds."""
        return self.total_fen - self.refunded_fen


def by_store(first: dt.date, last: dt.date) -> list[StoreRow]:
    """Sales per store, largest revenue first."""
    found: dict[str, list[int]] = {}
    for row in by_terminal(first, last):
        sums = found.setdefault(row.store, [0, 0, 0, 0])
        sums[0] += row.sales
        sums[1] += row.total_fen
        sums[2] += row.refunded_fen
    members = (
        SalesHour.select(SalesHour.store, fn.SUM(SalesHour.sales))
        .where(_hours_in(first, last, None) & (SalesHour.member == True))  # noqa: E712 (peewee expression)
        .group_by(SalesHour.store)
        .tuples()
    )
    for store, n in members:
        found[store][3] = int(n)
    return sorted((StoreRow(s, *v) for s, v in found.items()), key=lambda r: (-r.total_fen, r.store))


@dataclass(frozen=True)
class PaymentRow:
    """Money taken by one payment method in the range, and given back by it."""

    method: str
    payments: int
    amount_fen: int
    refunds: int = 0
    refunded_fen: int = 0

    @property
    def net_fen(self) -> int:
        """Money taken less money given back."""
        return self.amount_fen - self.refunded_fen


def _payment_days(first: dt.date, last: dt.date, store: str | None) -> Any:
    p = SalesPaymentDay
    where = (p.day >= first.isoformat()) & (p.day <= last.isoformat())
    return where & (p.store == store) if store else where


def by_payment(first: dt.date, last: dt.date, store: str | None = None) -> list[PaymentRow]:
    """Money per payment method (from the summary rows), largest first."""
    where = _payment_days(first, last, store)
    amount = fn.SUM(SalesPaymentDay.amount_fen)
    rows = (
        SalesPaymentDay.select(
            SalesPaymentDay.method, fn.SUM(SalesPaymentDay.payments), amount, fn.SUM(SalesPaymentDay.refunds),
            fn.SUM(SalesPaymentDay.refunded_fen),
        )
        .where(where)
        .group_by(SalesPaymentDay.method)
        .order_by(amount.desc(), SalesPaymentDay.method)
        .tuples()
    )  # fmt: skip
    return [PaymentRow(m, int(n), int(fen), int(rn), int(rfen)) for m, n, fen, rn, rfen in rows]


@dataclass(frozen=True)
class DailyPaymentRow:
    """The accountant's line: one day, store and payment method."""

    day: str
    store: str
    method: str
    payments: int
    amount_fen: int
    refunds: int
    refunded_fen: int

    @property
    def net_fen(self) -> int:
        """Money taken less money given back."""
        return self.amount_fen - self.refunded_fen


def daily_payments(first: dt.date, last: dt.date, store: str | None = None) -> list[DailyPaymentRow]:
    """Every day's money per store and payment method, for the accountant's import."""
    where = (SalesPaymentDay.day >= first.isoformat()) & (SalesPaymentDay.day <= last.isoformat())
    if store:
        where &= SalesPaymentDay.store == store
    p = SalesPaymentDay
    rows = (
        p.select(p.day, p.store, p.method, p.payments, p.amount_fen, p.refunds, p.refunded_fen)
        .where(where)
        .order_by(p.day, p.store, p.method)
    )
    return [
        DailyPaymentRow(d, s, m, int(n), int(fen), int(rn), int(rfen))
        for d, s, m, n, fen, rn, rfen in _rows(rows)
    ]


@dataclass(frozen=True)
class ProductRow:
    """One product's sales in the range."""

    sku: str
    name_zh: str
    name_en: str
    quantity: int
    total_fen: int
    refunded_quantity: int = 0
    refunded_fen: int = 0
    category: str = ""

    @property
    def net_quantity(self) -> int:
        """Units sold less units brought back."""
        return self.quantity - self.refunded_quantity

    @property
    def net_fen(self) -> int:
        """Line revenue less refunds."""
        return self.total_fen - self.refunded_fen


def _product_spans(first: dt.date, last: dt.date, store: str | None) -> list[tuple[Any, Any, str, str]]:
    """Where to read products for ``first``..``last``: whole months from the month rows, the
    days before the first and after the last whole month from the day rows."""
    day = dt.timedelta(days=1)
    start = first if first.day == 1 else (first.replace(day=28) + 4 * day).replace(day=1)
    end = last if (last + day).day == 1 else last.replace(day=1) - day  # the last whole month's end
    # all stores: the rows without the store (a tenth of the rows with ten stores)
    days = SalesProductDay if store else SalesSkuDay
    months = SalesProductMonth if store else SalesSkuMonth
    if start > end:
        return [(days, days.day, first.isoformat(), last.isoformat())]
    spans = [(months, months.month, start.isoformat()[:7], end.isoformat()[:7])]
    if first < start:
        spans.append((days, days.day, first.isoformat(), (start - day).isoformat()))
    if end < last:
        spans.append((days, days.day, (end + day).isoformat(), last.isoformat()))
    return spans


def products(first: dt.date, last: dt.date, store: str | None = None) -> list[ProductRow]:
    """Every product sold or refunded in the range, and every active catalog product that was not
    (as zeros): highest revenue first, then by SKU.

    One statement: the spans' sums per SKU (tagged ``sold``) and the catalog's names, category and
    active flag (tagged ``catalog``, in the same columns)."""
    parts = []
    for model, key, low, high in _product_spans(first, last, store):
        where = (key >= low) & (key <= high)
        if store:
            where &= model.store == store
        parts.append(
            model.select(
                Value("sold"), model.sku, fn.MAX(model.name_zh), fn.MAX(model.name_en), Value(""),
                fn.SUM(model.quantity), fn.SUM(model.total_fen), fn.SUM(model.refunded_quantity),
                fn.SUM(model.refunded_fen),
            )
            .where(where)
            .group_by(model.sku)
        )  # fmt: skip
    c = CatalogProduct
    active = Case(None, [(c.active == True, 1)], 0)  # noqa: E712 (peewee expression)
    parts.append(c.select(Value("catalog"), c.sku, c.name_zh, c.name_en, c.category, active, *[Value(0)] * 3))
    union = parts[0]
    for part in parts[1:]:  # one round trip
        union = union + part
    sums: dict[str, list[Any]] = {}
    catalog: dict[str, tuple[str, str, str, bool]] = {}
    for kind, sku, zh, en, category, *values in _rows(union):
        if kind == "catalog":
            catalog[sku] = (zh, en, category, bool(values[0]))
            continue
        row = sums.setdefault(sku, [zh, en, 0, 0, 0, 0])
        for i, value in enumerate(values, start=2):
            row[i] += int(value)
    found = {}
    for sku, (zh, en, qty, fen, rqty, rfen) in sums.items():
        known_zh, known_en, category, _active = catalog.get(sku, (zh, en, "", True))
        found[sku] = ProductRow(sku, known_zh, known_en or en, qty, fen, rqty, rfen, category)
    for sku, (zh, en, category, active) in catalog.items():
        if sku not in found and active:
            found[sku] = ProductRow(sku, zh, en, 0, 0, 0, 0, category)
    return sorted(found.values(), key=lambda p: (-p.net_fen, p.sku))


def top_products(
    first: dt.date,
    last: dt.date,
    store: str | None = None,
    limit: int = 10,
    rows: list[ProductRow] | None = None,
) -> list[ProductRow]:
    """The products with the highest revenue in the range (ties by SKU); ``rows``: :func:`products`
    of the same range when the caller has them."""
    return [p for p in (products(first, last, store) if rows is None else rows) if p.quantity][:limit]


def slow_products(
    first: dt.date,
    last: dt.date,
    store: str | None = None,
    limit: int = 10,
    rows: list[ProductRow] | None = None,
) -> list[ProductRow]:
    """The products that sold least in the range (by units net of refunds), unsold catalog products first."""
    every = products(first, last, store) if rows is None else rows
    return sorted(every, key=lambda p: (p.net_quantity, p.net_fen, p.sku))[:limit]


@dataclass(frozen=True)
class CategoryRow:
    """One catalog category's sales in the range (``""``: products not in the catalog or uncategorised)."""

    category: str
    quantity: int
    total_fen: int
    refunded_fen: int

    @property
    def net_fen(self) -> int:
        """Line revenue less refunds."""
        return self.total_fen - self.refunded_fen


def by_category(
    first: dt.date, last: dt.date, store: str | None = None, rows: list[ProductRow] | None = None
) -> list[CategoryRow]:
    """Sales per catalog category (line totals, before sale-level discounts), largest first."""
    found: dict[str, list[int]] = {}
    for p in products(first, last, store) if rows is None else rows:
        sums = found.setdefault(p.category, [0, 0, 0])
        sums[0] += p.net_quantity
        sums[1] += p.total_fen
        sums[2] += p.refunded_fen
    rows = [CategoryRow(c, *v) for c, v in found.items() if v[1] or v[2]]
    return sorted(rows, key=lambda r: (-r.net_fen, r.category))


@dataclass(frozen=True)
class LoyaltyFlows:
    """Points and stored value that moved in the range, all stores (from the member ledger)."""

    points_earned: int
    points_redeemed: int
    topped_up_fen: int
    bonus_given_fen: int
    stored_spent_fen: int


def _ledger_days(first: dt.date, last: dt.date) -> Any:
    # the entries stamped on those days (terminal's local time, ISO text): a range on the stamp
    # itself, the same rows as its first ten characters between the two days
    at = HubLedgerEntry.at
    return (at >= first.isoformat()) & (at < (last + dt.timedelta(days=1)).isoformat())


def _flows(sums: dict[tuple[str, str], int]) -> LoyaltyFlows:
    """:class:`LoyaltyFlows` from the ledger's sums per (kind, account)."""
    return LoyaltyFlows(
        points_earned=sums.get((Kind.EARN, POINTS), 0),
        points_redeemed=-sums.get((Kind.REDEEM, POINTS), 0),
        topped_up_fen=sums.get((Kind.TOP_UP, PRINCIPAL), 0),
        bonus_given_fen=sums.get((Kind.TOP_UP, BONUS), 0),
        stored_spent_fen=-(sums.get((Kind.SPEND, PRINCIPAL), 0) + sums.get((Kind.SPEND, BONUS), 0)),
    )


def loyalty_flows(first: dt.date, last: dt.date) -> LoyaltyFlows:
    """Sums of the member ledger's entries stamped from ``first`` to ``last`` (terminal's local day)."""
    e = HubLedgerEntry
    rows = (
        e.select(e.kind, e.account, fn.SUM(e.amount))
        .where(_ledger_days(first, last))
        .group_by(e.kind, e.account)
        .tuples()
    )
    return _flows({(kind, account): int(amount) for kind, account, amount in rows})


def stores() -> list[str]:
    """Every store that has booked a sale, for the report's store filter."""
    return [s for (s,) in SalesHour.select(SalesHour.store).distinct().order_by(SalesHour.store).tuples()]
