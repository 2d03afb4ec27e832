"""Receipts from stored sales, and the record of a receipt that did not print.

The sale is committed first; printing happens later on the print queue's
thread. A receipt that cannot print is written to the outbox as
``receipt.failed`` so the hub (and the owner) see it, and it can be reprinted
from the stored sale at any time: nothing about the sale depends on paper.
"""

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kiosk.domain import receipt_link as links
from kiosk.hw.receipt_render import Amount, ReceiptData, ReceiptLine
from kiosk.i18n import payment_method_name
from kiosk.store.connection import database
from kiosk.store.models import Outbox, Payment, Sale, SaleLine
from kiosk.store.outbox import record_event
from kiosk.store.sales import Terminal

_SALE_EVENT = (
    "SELECT body FROM outbox WHERE type = 'sale.completed' AND json_extract(body, '$.data.sale_id') = ?"
)


def receipt_link(
    hub_url: str, receipt_no: str, sold_at: dt.datetime, key: bytes | None, days: int
) -> str | None:
    """The e-receipt link the receipt's QR carries: signed with this terminal's receipt ``key``,
    open ``days`` after ``sold_at``; None without a key (the hub opens no unsigned receipt).

    Computed from the stored sale's time, so a reprint carries the same link as the first print.
    """
    if key is None:
        return None
    token = links.sign(receipt_no, links.expiry(sold_at, days), key)
    return f"{hub_url.rstrip('/')}/r/{token}"


def receipt_for_sale(sale_id: str, store_name: str, receipt_url: str | None = None) -> ReceiptData:
    """The printable receipt of a stored sale; ``receipt_url`` (the e-receipt) becomes the QR.

    The one receipt builder: the first print and every reprint come from here, so
    they are the same image, byte for byte. The member discount is the line totals
    less the sale's total; the member section is what the sale's event recorded
    (``receipt``: the masked phone and the points balance after the sale).
    """
    sale = Sale.get_by_id(sale_id)
    lines = SaleLine.select().where(SaleLine.sale == sale_id).order_by(SaleLine.position)
    payments = Payment.select().where(Payment.sale == sale_id).order_by(Payment.id)
    items = tuple(ReceiptLine(x.name_zh, x.quantity, x.unit_price_fen, x.total_fen) for x in lines)
    discount = sum(x.total_fen for x in items) - sale.total_fen
    data = _sale_event_data(sale_id)
    printed = data.get("receipt") or {}
    member = printed.get("member")
    return ReceiptData(
        store_name=store_name,
        receipt_no=sale.receipt_no,
        time=dt.datetime.fromisoformat(sale.created_at),
        lines=items,
        discounts=(Amount("会员优惠 Member discount", discount),) if discount else (),
        payments=tuple(Amount(_label(p.method), p.amount_fen) for p in payments),
        member=member,
        points_earned=int(data.get("earned_points", 0)) if member else None,
        points_balance=printed.get("points_balance") if member else None,
        qr_url=receipt_url,
    )


def _sale_event_data(sale_id: str) -> dict[str, Any]:
    row = database.execute_sql(_SALE_EVENT, (sale_id,)).fetchone()
    return dict(json.loads(row[0])["data"]) if row else {}


def _label(method: str) -> str:
    """Both languages on paper: the receipt goes home with whoever paid."""
    return f"{payment_method_name(method, 'zh')} {payment_method_name(method, 'en')}"


def record_receipt_failure(receipt_no: str, reason: str, terminal: Terminal, now: dt.datetime) -> None:
    """Write ``receipt.failed`` to the outbox (its own transaction; the sale is already safe)."""
    sale = Sale.get(Sale.receipt_no == receipt_no)
    with database.atomic("IMMEDIATE"):
        data = {"sale_id": sale.id, "receipt_no": receipt_no, "reason": reason}
        record_event(terminal, now.isoformat(timespec="milliseconds"), "receipt.failed", data)


@dataclass(frozen=True)
class RecentReceipt:
    """A stored sale an attendant may reprint the receipt of; ``failed`` if it never printed."""

    sale_id: str
    receipt_no: str
    total_fen: int
    time: dt.datetime
    failed: bool = False


def recent_receipts(
    limit: int, waiting: Iterable[str] = (), printed: Iterable[str] = ()
) -> list[RecentReceipt]:
    """The last ``limit`` sales and every receipt that has not printed, newest first.

    A receipt has not printed when it is ``waiting`` (in the print queue) or has a
    ``receipt.failed`` event in the outbox and is not among ``printed`` (what the
    print queue printed since, e.g. after paper was loaded).
    """
    failed = set(waiting) | (failed_receipt_numbers(limit * 4) - set(printed))
    recent = list(Sale.select().order_by(Sale.created_at.desc(), Sale.receipt_no.desc()).limit(limit))
    shown = {sale.receipt_no for sale in recent}
    extra = [no for no in failed if no not in shown]
    if extra:
        recent += list(Sale.select().where(Sale.receipt_no.in_(extra)))
    recent.sort(key=lambda sale: (sale.created_at, sale.receipt_no), reverse=True)
    return [
        RecentReceipt(
            sale.id, sale.receipt_no, sale.total_fen, dt.datetime.fromisoformat(sale.created_at),
            failed=sale.receipt_no in failed,
        )
        for sale in recent
    ]  # fmt: skip


def failed_receipt_numbers(limit: int) -> set[str]:
    """Receipt numbers of the last ``limit`` ``receipt.failed`` events in the outbox."""
    rows = Outbox.select(Outbox.body).where(Outbox.type == "receipt.failed").order_by(Outbox.seq.desc())
    return {json.loads(row.body)["data"]["receipt_no"] for row in rows.limit(limit)}
