"""Shoppers' satisfaction ratings (满意度评价) from the e-receipt page: one tap, 1 to 5 stars, and
an optional comment, stored once per receipt; the owner reads them per store and per day.

The day is the sale's (the visit rated), in the shop's time zone as the sale was booked.
"""

import datetime as dt
from dataclasses import dataclass

from peewee import CharField, DateTimeField, IntegerField, IntegrityError, TextField, fn

from hub.ingest.models import BaseModel, Sale

COMMENT_MAX = 200
STARS = (1, 2, 3, 4, 5)


class ReceiptRating(BaseModel):
    """One receipt's rating: the first one given counts, later ones are refused."""

    receipt_no = CharField(primary_key=True)
    sale_id = CharField()
    store = CharField(index=True)
    day = CharField(index=True)  # the sale's day, YYYY-MM-DD
    stars = IntegerField()
    comment = TextField(default="")
    rated_at = DateTimeField()


MODELS = [ReceiptRating]


class RatingRefused(ValueError):
    """A rating that is not stored: ``reason`` is ``stars``, ``comment`` or ``already``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def clean_comment(text: str) -> str:
    """The comment as stored: control characters dropped, spaces folded, at most 200 characters
    (longer is refused, not cut: the shopper sees why)."""
    kept = "".join(ch if ch.isprintable() else " " for ch in text)
    comment = " ".join(kept.split())
    if len(comment) > COMMENT_MAX:
        raise RatingRefused("comment")
    return comment


def rate(sale: Sale, stars: str, comment: str, now: dt.datetime) -> ReceiptRating:
    """Store the rating of ``sale``'s receipt; RatingRefused for bad stars, a too long comment, or
    a receipt rated before (that rating stays as it was)."""
    if stars not in {str(s) for s in STARS}:
        raise RatingRefused("stars")
    text = clean_comment(comment)
    if ReceiptRating.get_or_none(ReceiptRating.receipt_no == sale.receipt_no) is not None:
        raise RatingRefused("already")
    try:
        return ReceiptRating.create(
            receipt_no=sale.receipt_no, sale_id=sale.id, store=sale.store, day=sale.day,
            stars=int(stars), comment=text, rated_at=now,
        )  # fmt: skip
    except IntegrityError as exc:  # two taps at once: the primary key lets one in
        raise RatingRefused("already") from exc


def rating_of(receipt_no: str) -> ReceiptRating | None:
    """The receipt's rating, if it has one."""
    return ReceiptRating.get_or_none(ReceiptRating.receipt_no == receipt_no)


@dataclass(frozen=True)
class DayRatings:
    """One store's ratings on one day: how many, the average (tenths), and how many of each star."""

    day: str
    store: str
    count: int
    average_tenths: int
    by_stars: tuple[int, ...]  # counts of 1..5 stars

    @property
    def average(self) -> str:
        """The average as 4.3."""
        return tenths(self.average_tenths)


def tenths(value: int) -> str:
    """43 as ``4.3``."""
    return f"{value // 10}.{value % 10}"


def per_store_and_day(start: dt.date, end: dt.date, stores: set[str] | None = None) -> list[DayRatings]:
    """Ratings per (day, store) from ``start`` to ``end``, newest day first; only ``stores`` if given."""
    r = ReceiptRating
    query = (
        r.select(r.day, r.store, r.stars, fn.COUNT(r.receipt_no))
        .where(r.day >= start.isoformat(), r.day <= end.isoformat())
        .group_by(r.day, r.store, r.stars)
        .tuples()
    )
    found: dict[tuple[str, str], list[int]] = {}
    for day, store, stars, n in query:
        if stores is None or store in stores:
            found.setdefault((day, store), [0] * 5)[int(stars) - 1] += int(n)
    out = []
    for (day, store), counts in found.items():
        total = sum(counts)
        points = sum(s * n for s, n in zip(STARS, counts, strict=True))
        out.append(DayRatings(day, store, total, (points * 10 + total // 2) // total, tuple(counts)))
    return sorted(out, key=lambda d: (d.day, d.store), reverse=True)


def comments(
    start: dt.date, end: dt.date, stores: set[str] | None = None, limit: int = 50
) -> list[ReceiptRating]:
    """The newest ratings with a comment in the range."""
    r = ReceiptRating
    query = r.select().where(r.day >= start.isoformat(), r.day <= end.isoformat(), r.comment != "")
    if stores is not None:
        query = query.where(r.store.in_(sorted(stores)))
    return list(query.order_by(r.rated_at.desc()).limit(limit))
