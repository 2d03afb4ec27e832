"""Committing a sale: the sale, its lines, its payments and its outbox event in one transaction."""

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from kiosk.domain.cart import Cart
from kiosk.store.db import database
from kiosk.store.models import DailyCounter, Payment, Sale, SaleLine
from kiosk.store.outbox import append_event


@dataclass(frozen=True)
class PaymentIntent:
    """A payment the shopper made (or the attendant confirmed) for a sale."""

    method: str
    amount_fen: int
    reference: str = ""


@dataclass(frozen=True)
class Terminal:
    """Who is selling: the store, the device, and this process's boot id."""

    store: str
    device: str
    boot: str
    currency: str = "CNY"


class PaymentMismatch(ValueError):
    """The payments do not add up to the cart's total."""


def commit_sale(
    cart: Cart,
    payments: list[PaymentIntent],
    terminal: Terminal,
    now: dt.datetime,
    sale_id: str | None = None,
) -> Sale:
    """Store a completed sale and its ``sale.completed`` event atomically; return the Sale."""
    if cart.is_empty:
        raise ValueError("cannot commit an empty cart")
    paid = sum(p.amount_fen for p in payments)
    if paid != cart.total_fen:
        raise PaymentMismatch(f"payments {paid} fen != total {cart.total_fen} fen")
    sale_id = sale_id or str(uuid.uuid4())
    ts = now.isoformat(timespec="milliseconds")
    with database.atomic("IMMEDIATE"):
        receipt_no = _next_receipt_no(terminal, now)
        sale = Sale.create(
            id=sale_id,
            receipt_no=receipt_no,
            device_id=terminal.device,
            created_at=ts,
            total_fen=cart.total_fen,
            currency=terminal.currency,
        )
        lines = _line_rows(sale_id, cart)
        SaleLine.insert_many(lines).execute()
        pays = [
            {
                "sale": sale_id,
                "method": p.method,
                "amount_fen": p.amount_fen,
                "reference": p.reference,
            }
            for p in payments
        ]
        Payment.insert_many(pays).execute()
        append_event(
            event_id=str(uuid.uuid4()),
            device=terminal.device,
            boot=terminal.boot,
            ts=ts,
            type="sale.completed",
            data=_sale_data(sale, terminal, lines, pays),
        )
    return sale


def _line_rows(sale_id: str, cart: Cart) -> list[dict[str, Any]]:
    return [
        {
            "sale": sale_id,
            "position": i,
            "sku": line.product.sku,
            "name_zh": line.product.name_zh,
            "name_en": line.product.name_en,
            "unit_price_fen": line.product.price_fen,
            "quantity": line.quantity,
            "total_fen": line.total_fen,
        }
        for i, line in enumerate(cart.lines, start=1)
    ]


def _sale_data(
    sale: Sale, terminal: Terminal, lines: list[dict[str, Any]], pays: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "sale_id": sale.id,
        "receipt_no": sale.receipt_no,
        "store": terminal.store,
        "total_fen": sale.total_fen,
        "currency": sale.currency,
        "lines": [{k: v for k, v in line.items() if k != "sale"} for line in lines],
        "payments": [{k: v for k, v in pay.items() if k != "sale"} for pay in pays],
        "member_id": None,
        "ledger": [],
    }


def _next_receipt_no(terminal: Terminal, now: dt.datetime) -> str:
    day = now.strftime("%Y%m%d")
    DailyCounter.insert(day=day, last=0).on_conflict_ignore().execute()
    DailyCounter.update(last=DailyCounter.last + 1).where(DailyCounter.day == day).execute()
    seq = DailyCounter.get_by_id(day).last
    return f"{terminal.store}-{terminal.device}-{day}{seq:04d}"
