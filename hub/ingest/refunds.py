"""Booking ``sale.refunded``: the refund against its booked sale, the member's reversals.

Runs inside the event's savepoint in :mod:`hub.ingest.batch` (the event row is inserted
in the same transaction, so a duplicate changes nothing). A refund the hub cannot
square with the sale it names is rejected: the event is quarantined with the
reason and the terminal is told, so revenue never drops by money that was not
taken. A refund that arrives before its sale (refunded on another terminal) is
replayed from quarantine once the sale is booked (``hub quarantine replay``).
"""

import json
from typing import Any
from zoneinfo import ZoneInfo

from peewee import fn

from hub.ingest import booking
from hub.ingest.models import Event, Refund, RefundLine, RefundPayment, Sale, SaleLine
from hub.reports import summary


class RefundRejected(ValueError):
    """The refund does not fit its sale; the text is the reason sent back and kept in quarantine."""


def book_refund(event: dict[str, Any], tz: ZoneInfo) -> Refund:
    """Check ``sale.refunded`` against the booked sale and store it; RefundRejected when it does not fit."""
    try:
        rows = booking.refund_rows(event, tz)
    except booking.BookingError as exc:
        raise RefundRejected(str(exc)) from exc
    refund_id, sale_id = rows.refund["id"], rows.refund["sale"]
    if Refund.get_or_none(Refund.id == refund_id) is not None:
        raise RefundRejected(f"refund {refund_id} was already booked from another event")
    sale = Sale.get_or_none(Sale.id == sale_id)
    if sale is None:
        raise RefundRejected(
            f"refund {refund_id} is for sale {sale_id}, which the hub has not booked; "
            "replay it from quarantine once the sale arrives"
        )
    sold = _check_lines(refund_id, sale, rows.lines)
    before = Refund.select(fn.COALESCE(fn.SUM(Refund.amount_fen), 0)).where(Refund.sale == sale).scalar()
    if int(before) + rows.refund["amount_fen"] > sale.total_fen:
        raise RefundRejected(
            f"refund {refund_id} of {rows.refund['amount_fen']} fen exceeds what sale {sale.receipt_no} "
            f"has left ({sale.total_fen - int(before)} of {sale.total_fen} fen)"
        )
    refund = Refund.create(**rows.refund)
    RefundLine.insert_many(
        [{"refund": refund_id, "position": p, "quantity": q, "total_fen": f} for p, q, f in rows.lines]
    ).execute()
    RefundPayment.insert_many(
        [{"refund": refund_id, "method": m, "amount_fen": f, "reference": r} for m, f, r in rows.payments]
    ).execute()
    member = bool(json.loads(Event.get_by_id(sale.event_id).body)["data"].get("member_id"))
    tally = summary.Tally()
    taken = [(sold[p].sku, sold[p].name_zh, sold[p].name_en, q, f) for p, q, f in rows.lines]
    tally.add_refund(rows.refund, member, taken, [(m, f) for m, f, _ in rows.payments], tz)
    summary.write(tally)  # the report rows, in the refund's transaction
    return refund


def _check_lines(refund_id: str, sale: Sale, lines: list[tuple[int, int, int]]) -> dict[int, SaleLine]:
    """The sale's lines by position, once ``lines`` are known to fit what is left of them."""
    booked = {line.position: line for line in SaleLine.select().where(SaleLine.sale == sale)}
    sold = {position: line.quantity for position, line in booked.items()}
    taken = dict(
        RefundLine.select(RefundLine.position, fn.SUM(RefundLine.quantity))
        .join(Refund)
        .where(Refund.sale == sale)
        .group_by(RefundLine.position)
        .tuples()
    )
    for position, quantity, _fen in lines:
        if position not in sold:
            raise RefundRejected(f"refund {refund_id}: sale {sale.receipt_no} has no line {position}")
        left = sold[position] - int(taken.get(position, 0))
        if quantity > left:
            raise RefundRejected(
                f"refund {refund_id}: line {position} of sale {sale.receipt_no} has {left} of "
                f"{sold[position]} left to refund, not {quantity}"
            )
    return booked


def refunds_of(sale: Sale) -> list[Refund]:
    """A booked sale's refunds, oldest first."""
    return list(Refund.select().where(Refund.sale == sale).order_by(Refund.refunded_at, Refund.id))
