"""Receipts from stored sales, and the record of a receipt that did not print.

The sale is committed first; printing happens later on the print queue's
thread. A receipt that cannot print is written to the outbox as
``receipt.failed`` so the hub (and the owner) see it, and it can be reprinted
from the stored sale at any time: nothing about the sale depends on paper.
"""

import datetime as dt
import uuid

from kiosk.domain.payments import payment_method_name
from kiosk.hw.receipt_render import Amount, ReceiptData, ReceiptLine
from kiosk.store.db import database
from kiosk.store.models import Payment, Sale, SaleLine
from kiosk.store.outbox import append_event
from kiosk.store.sales import Terminal


def receipt_for_sale(sale_id: str, store_name: str, receipt_url: str | None = None) -> ReceiptData:
    """The printable receipt of a stored sale; ``receipt_url`` (the e-receipt) becomes the QR."""
    sale = Sale.get_by_id(sale_id)
    lines = SaleLine.select().where(SaleLine.sale == sale_id).order_by(SaleLine.position)
    payments = Payment.select().where(Payment.sale == sale_id).order_by(Payment.id)
    return ReceiptData(
        store_name=store_name,
        receipt_no=sale.receipt_no,
        time=dt.datetime.fromisoformat(sale.created_at),
        lines=tuple(
            ReceiptLine(line.name_zh, line.quantity, line.unit_price_fen, line.total_fen) for line in lines
        ),
        payments=tuple(Amount(_label(p.method), p.amount_fen) for p in payments),
        qr_url=receipt_url,
    )


def _label(method: str) -> str:
    """Both languages on paper: the receipt goes home with whoever paid."""
    return f"{payment_method_name(method, 'zh')} {payment_method_name(method, 'en')}"


def record_receipt_failure(receipt_no: str, reason: str, terminal: Terminal, now: dt.datetime) -> None:
    """Write ``receipt.failed`` to the outbox (its own transaction; the sale is already safe)."""
    sale = Sale.get(Sale.receipt_no == receipt_no)
    with database.atomic("IMMEDIATE"):
        append_event(
            event_id=str(uuid.uuid4()),
            device=terminal.device,
            boot=terminal.boot,
            ts=now.isoformat(timespec="milliseconds"),
            type="receipt.failed",
            data={"sale_id": sale.id, "receipt_no": receipt_no, "reason": reason},
        )
