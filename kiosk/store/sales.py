"""Committing a sale: the sale, its lines, its payments and its outbox event in one transaction."""

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from kiosk.domain.cart import Cart
from kiosk.store.connection import database
from kiosk.store.models import Sale
from kiosk.store.outbox import record_event


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


@dataclass(frozen=True)
class Approval:
    """An attendant's approval that belongs to the sale (e.g. ``offline_cap_override``).

    It becomes an ``audit.action`` event carrying the sale's id, written in the sale's transaction.
    """

    action: str
    attendant: str
    detail: dict[str, Any]


class SaleAddOn(Protocol):
    """Something a sale carries along, written in the sale's own transaction.

    :class:`kiosk.store.members.MemberSale` is one: the member's discount,
    ledger entries and coupons.
    """

    @property
    def discount_fen(self) -> int:
        """Fen taken off the cart's list total (member discount, coupons)."""
        ...

    def write(self, sale_id: str, event_id: str, ts: str) -> dict[str, Any]:
        """Store the add-on's rows; return what it adds to the ``sale.completed`` data."""
        ...


class PaymentMismatch(ValueError):
    """The payments do not add up to the cart's total."""


def commit_sale(
    cart: Cart,
    payments: list[PaymentIntent],
    terminal: Terminal,
    now: dt.datetime,
    sale_id: str | None = None,
    member: SaleAddOn | None = None,
    approvals: Sequence[Approval] = (),
    suggested: Sequence[str] = (),
) -> Sale:
    """Store a completed sale and its ``sale.completed`` event atomically; return the Sale.

    With ``member``, the sale's total is the cart's less the member's discounts,
    and the member's ledger entries and coupon use commit in the same transaction.
    Each of ``approvals`` follows as an ``audit.action`` event in that transaction too.
    ``suggested``: the products the cart suggested during the sale (``together_shown`` in the event).
    """
    if cart.is_empty:
        raise ValueError("cannot commit an empty cart")
    total = cart.total_fen - (member.discount_fen if member else 0)
    paid = sum(p.amount_fen for p in payments)
    if paid != total:
        raise PaymentMismatch(f"payments {paid} fen != total {total} fen")
    sale_id = sale_id or str(uuid.uuid4())
    ts = now.isoformat(timespec="milliseconds")
    with database.atomic("IMMEDIATE"):
        receipt_no = _next_receipt_no(terminal, now)
        sale = Sale(
            id=sale_id,
            receipt_no=receipt_no,
            device_id=terminal.device,
            created_at=ts,
            total_fen=total,
            currency=terminal.currency,
        )
        lines = _line_rows(sale_id, cart)
        pays = [
            {
                "sale": sale_id,
                "method": p.method,
                "amount_fen": p.amount_fen,
                "reference": p.reference,
            }
            for p in payments
        ]
        _write_sale(sale, lines, pays)
        event_id = str(uuid.uuid4())
        data = _sale_data(sale, terminal, lines, pays)
        if suggested:
            data["together_shown"] = list(suggested)
        if member is not None:
            data.update(member.write(sale_id, event_id, ts))
        record_event(terminal, ts, "sale.completed", data, event_id)
        for approval in approvals:
            audit = {
                "store": terminal.store,
                "action": approval.action,
                "attendant": approval.attendant,
                "sale_id": sale_id,
                "detail": approval.detail,
            }
            record_event(terminal, ts, "audit.action", audit)
    return sale


# Plain SQL on the hot path: peewee built each of these queries anew for every sale, which cost
# more CPU than SQLite's own work (benchmarks/bench_sale_commit.py, docs/perf.md).
_INSERT_SALE = (
    "INSERT INTO sale (id, receipt_no, device_id, created_at, total_fen, currency) VALUES (?, ?, ?, ?, ?, ?)"
)
_INSERT_LINE = (
    "INSERT INTO sale_line"
    " (sale_id, position, sku, name_zh, name_en, unit_price_fen, quantity, total_fen, source)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_PAYMENT = "INSERT INTO payment (sale_id, method, amount_fen, reference) VALUES (?, ?, ?, ?)"
_NEXT_RECEIPT = (
    "INSERT INTO daily_counter (day, last) VALUES (?, 1)"
    " ON CONFLICT (day) DO UPDATE SET last = last + 1 RETURNING last"
)


def _write_sale(sale: Sale, lines: list[dict[str, Any]], pays: list[dict[str, Any]]) -> None:
    database.execute_sql(
        _INSERT_SALE,
        (sale.id, sale.receipt_no, sale.device_id, sale.created_at, sale.total_fen, sale.currency),
    )
    cursor = database.cursor()
    cursor.executemany(_INSERT_LINE, [
        (sale.id, ln["position"], ln["sku"], ln["name_zh"], ln["name_en"], ln["unit_price_fen"],
         ln["quantity"], ln["total_fen"], ln.get("source", ""))
        for ln in lines
    ])  # fmt: skip
    cursor.executemany(
        _INSERT_PAYMENT, [(sale.id, p["method"], p["amount_fen"], p["reference"]) for p in pays]
    )


def _line_rows(sale_id: str, cart: Cart) -> list[dict[str, Any]]:
    # ``source`` only on a line that has one: the event of a plain sale stays as it always was
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
        | ({"source": line.source} if line.source else {})
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
    (seq,) = database.execute_sql(_NEXT_RECEIPT, (day,)).fetchone()
    return f"{terminal.store}-{terminal.device}-{day}{seq:04d}"
