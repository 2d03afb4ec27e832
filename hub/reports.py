"""Read-side queries for the dashboard and the API."""

from dataclasses import dataclass

from peewee import fn

from hub.models import Gap, Quarantine, Sale


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


def recent_sales(limit: int = 10) -> list[Sale]:
    """The newest booked sales."""
    return list(Sale.select().order_by(Sale.sold_at.desc()).limit(limit))


def quarantine_count() -> int:
    """How many messages or events wait in quarantine."""
    return Quarantine.select().count()


def gap_count() -> int:
    """How many sequence gaps have been reported."""
    return Gap.select().count()
