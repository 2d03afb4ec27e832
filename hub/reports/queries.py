"""Read-side queries for the dashboard and the API."""

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from peewee import fn

from hub.ingest.models import Event, Gap, Quarantine, Refund, Sale, SaleLine
from hub.members.models import HubLedgerEntry, MemberSale
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


def _sales_in(first: dt.date, last: dt.date, store: str | None) -> Any:
    where = (Sale.day >= first.isoformat()) & (Sale.day <= last.isoformat())
    return where & (Sale.store == store) if store else where


def range_summary(first: dt.date, last: dt.date, store: str | None = None) -> RangeSummary:
    """Count, revenue, items and members' part of the sales booked from ``first`` to ``last``."""
    where = _sales_in(first, last, store)
    n, total, items = (
        Sale.select(
            fn.COUNT(Sale.id), fn.COALESCE(fn.SUM(Sale.total_fen), 0), fn.COALESCE(fn.SUM(Sale.item_count), 0)
        )
        .where(where)
        .scalar(as_tuple=True)
    )
    members, member_total = (
        Sale.select(fn.COUNT(Sale.id), fn.COALESCE(fn.SUM(Sale.total_fen), 0))
        .join(MemberSale, on=(MemberSale.sale_id == Sale.id))
        .where(where)
        .scalar(as_tuple=True)
    )
    refunds = Refund.select(fn.COUNT(Refund.id), fn.COALESCE(fn.SUM(Refund.amount_fen), 0)).where(
        (Refund.day >= first.isoformat()) & (Refund.day <= last.isoformat())
    )
    if store:
        refunds = refunds.where(Refund.store == store)
    refund_n, refund_fen = refunds.scalar(as_tuple=True)
    return RangeSummary(
        first.isoformat(), last.isoformat(), int(n), int(total), int(items), int(members), int(member_total),
        int(refund_n), int(refund_fen),
    )  # fmt: skip


def daily(first: dt.date, last: dt.date, store: str | None = None) -> list[DaySummary]:
    """One row per day from ``first`` to ``last``, days without sales included (as zeros)."""
    rows = (
        Sale.select(Sale.day, fn.COUNT(Sale.id), fn.SUM(Sale.total_fen), fn.SUM(Sale.item_count))
        .where(_sales_in(first, last, store))
        .group_by(Sale.day)
        .tuples()
    )
    found = {day: (int(n), int(total), int(items)) for day, n, total, items in rows}
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    return [DaySummary(d.isoformat(), *found.get(d.isoformat(), (0, 0, 0))) for d in days]


@dataclass(frozen=True)
class TerminalRow:
    """One terminal's sales in the range."""

    store: str
    device: str
    sales: int
    total_fen: int


def by_terminal(first: dt.date, last: dt.date, store: str | None = None) -> list[TerminalRow]:
    """Sales per store and terminal, largest revenue first."""
    total = fn.SUM(Sale.total_fen)
    rows = (
        Sale.select(Sale.store, Sale.device, fn.COUNT(Sale.id), total)
        .where(_sales_in(first, last, store))
        .group_by(Sale.store, Sale.device)
        .order_by(total.desc(), Sale.store, Sale.device)
        .tuples()
    )
    return [TerminalRow(s, d, int(n), int(fen)) for s, d, n, fen in rows]


@dataclass(frozen=True)
class PaymentRow:
    """Money taken by one payment method in the range."""

    method: str
    payments: int
    amount_fen: int


def by_payment(first: dt.date, last: dt.date, store: str | None = None) -> list[PaymentRow]:
    """Money per payment method, from the booked sale events, largest first.

    Read from each sale's stored event body (the hub keeps no payment table): fine for
    a shop's months; a chain's year belongs on a reporting replica (docs/scaling.md).
    """
    counts: dict[str, list[int]] = {}
    bodies = (
        Event.select(Event.body).join(Sale, on=(Sale.event == Event.id)).where(_sales_in(first, last, store))
    )
    for (body,) in bodies.tuples().iterator():
        for payment in json.loads(body)["data"]["payments"]:
            row = counts.setdefault(str(payment["method"]), [0, 0])
            row[0] += 1
            row[1] += int(payment["amount_fen"])
    rows = [PaymentRow(method, n, fen) for method, (n, fen) in counts.items()]
    return sorted(rows, key=lambda r: (-r.amount_fen, r.method))


@dataclass(frozen=True)
class ProductRow:
    """One product's sales in the range."""

    sku: str
    name_zh: str
    name_en: str
    quantity: int
    total_fen: int


def top_products(
    first: dt.date, last: dt.date, store: str | None = None, limit: int = 10
) -> list[ProductRow]:
    """The products with the highest revenue in the range (ties by SKU)."""
    total = fn.SUM(SaleLine.total_fen)
    rows = (
        SaleLine.select(
            SaleLine.sku, fn.MAX(SaleLine.name_zh), fn.MAX(SaleLine.name_en), fn.SUM(SaleLine.quantity), total
        )
        .join(Sale)
        .where(_sales_in(first, last, store))
        .group_by(SaleLine.sku)
        .order_by(total.desc(), SaleLine.sku)
        .limit(limit)
        .tuples()
    )
    return [ProductRow(sku, zh, en, int(q), int(fen)) for sku, zh, en, q, fen in rows]


@dataclass(frozen=True)
class LoyaltyFlows:
    """Points and stored value that moved in the range, all stores (from the member ledger)."""

    points_earned: int
    points_redeemed: int
    topped_up_fen: int
    bonus_given_fen: int
    stored_spent_fen: int


def loyalty_flows(first: dt.date, last: dt.date) -> LoyaltyFlows:
    """Sums of the member ledger's entries stamped from ``first`` to ``last`` (terminal's local day)."""
    day = fn.SUBSTR(HubLedgerEntry.at, 1, 10)
    rows = (
        HubLedgerEntry.select(HubLedgerEntry.kind, HubLedgerEntry.account, fn.SUM(HubLedgerEntry.amount))
        .where(day >= first.isoformat(), day <= last.isoformat())
        .group_by(HubLedgerEntry.kind, HubLedgerEntry.account)
        .tuples()
    )
    sums = {(kind, account): int(amount) for kind, account, amount in rows}
    return LoyaltyFlows(
        points_earned=sums.get((Kind.EARN, POINTS), 0),
        points_redeemed=-sums.get((Kind.REDEEM, POINTS), 0),
        topped_up_fen=sums.get((Kind.TOP_UP, PRINCIPAL), 0),
        bonus_given_fen=sums.get((Kind.TOP_UP, BONUS), 0),
        stored_spent_fen=-(sums.get((Kind.SPEND, PRINCIPAL), 0) + sums.get((Kind.SPEND, BONUS), 0)),
    )


def stores() -> list[str]:
    """Every store that has booked a sale, for the report's store filter."""
    return [s for (s,) in Sale.select(Sale.store).distinct().order_by(Sale.store).tuples()]
