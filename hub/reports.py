"""Read-side queries for the dashboard and the API."""

from dataclasses import dataclass

from peewee import fn

from hub.models import Gap, Quarantine, Refund, Sale


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
