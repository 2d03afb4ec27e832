"""Refunds at the terminal: what a sale can still return, and the refund in one transaction.

:func:`plan_refund` reads (what the attendant sees before confirming, and what the
mobile part asks the gateway for); :func:`refund_sale` writes the refund, its lines
and payments, the member's ledger reversals and restored coupons, the
``sale.refunded`` event and its ``audit.action`` event, all in one
``atomic("IMMEDIATE")``. The refund id is the idempotency key: submitting the same
refund again returns the stored one and changes nothing. Rounding and the
payment rule are in :mod:`kiosk.domain.refunds`.
"""

import datetime as dt
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from peewee import fn

from kiosk.domain.loyalty import POINTS, GivenBack
from kiosk.domain.loyalty.coupons import allocate
from kiosk.domain.receipt_link import receipt_no_of
from kiosk.domain.refunds import (
    MEMBER_METHODS,
    MOBILE_METHODS,
    PaidBy,
    Pick,
    RefundRefused,
    SoldLine,
    refund_lines,
    split_payments,
)
from kiosk.hw.receipt_render import Amount, ReceiptData, ReceiptLine
from kiosk.i18n import payment_method_name
from kiosk.store.connection import database
from kiosk.store.members.card_refunds import check_cards_refundable, void_refunded_cards
from kiosk.store.members.sale import write_member_refund
from kiosk.store.models import Payment, Refund, RefundLine, RefundPayment, Sale, SaleLine
from kiosk.store.outbox import record_event
from kiosk.store.sales import Terminal

_SALE_EVENT = (
    "SELECT body FROM outbox WHERE type = 'sale.completed' AND json_extract(body, '$.data.sale_id') = ?"
)


@dataclass(frozen=True)
class RefundableLine:
    """A sale line with what can still be returned of it."""

    position: int
    sku: str
    name_zh: str
    name_en: str
    quantity: int
    refunded_quantity: int
    net_fen: int

    def sold(self) -> SoldLine:
        """The line for the domain's rules."""
        return SoldLine(self.position, self.quantity, self.net_fen, self.refunded_quantity)


@dataclass(frozen=True)
class RefundablePayment:
    """A payment of the sale and what earlier refunds already gave back of it."""

    method: str
    amount_fen: int
    reference: str
    returned_fen: int
    points: int = 0  # a points payment: the points it spent

    def paid_by(self) -> PaidBy:
        """The payment for the domain's rules."""
        return PaidBy(self.method, self.amount_fen, self.returned_fen, self.points)


@dataclass(frozen=True)
class RefundableSale:
    """A stored sale as the refund screen shows it."""

    sale_id: str
    receipt_no: str
    created_at: str
    total_fen: int
    refunded_fen: int
    member_id: str | None
    lines: tuple[RefundableLine, ...]
    payments: tuple[RefundablePayment, ...]


@dataclass(frozen=True)
class PlannedLine:
    """Units of one line a refund takes back, and their fen."""

    position: int
    sku: str
    name_zh: str
    name_en: str
    quantity: int
    total_fen: int


@dataclass(frozen=True)
class PlannedPayment:
    """Fen going back by one of the sale's payments; ``original`` is that payment's reference."""

    index: int  # the payment's place in the sale, the gateway refund's sub-key
    method: str
    amount_fen: int
    original: str

    @property
    def mobile(self) -> bool:
        """True when the money goes back through the payment gateway."""
        return self.method in MOBILE_METHODS


@dataclass(frozen=True)
class RefundPlan:
    """What a refund will return, computed from the sale before it is confirmed."""

    sale: RefundableSale
    lines: tuple[PlannedLine, ...]
    payments: tuple[PlannedPayment, ...]

    @property
    def amount_fen(self) -> int:
        """The whole refund."""
        return sum(line.total_fen for line in self.lines)

    @property
    def cash_fen(self) -> int:
        """Cash handed back from the drawer."""
        return sum(p.amount_fen for p in self.payments if p.method == "cash")


@dataclass(frozen=True)
class StoredRefund:
    """A committed refund; ``created`` is False when the refund id had been stored before."""

    refund_id: str
    sale_id: str
    receipt_no: str
    amount_fen: int
    event_id: str
    created: bool


def find_sale(scanned: str) -> Sale | None:
    """The sale of a receipt number, typed or scanned from the receipt's QR (the e-receipt URL)."""
    text = scanned.strip()
    if "/r/" in text:  # the signed link: {hub}/r/{receipt no}.{expiry}.{signature}
        text = urlparse(text).path.rsplit("/r/", 1)[-1].strip("/")
    text = receipt_no_of(text)
    return Sale.get_or_none(Sale.receipt_no == text) if text else None


def refundable(sale_id: str) -> RefundableSale:
    """The sale with its lines and payments and what earlier refunds took back."""
    sale = Sale.get_by_id(sale_id)
    data = _sale_event_data(sale_id)
    rows = list(SaleLine.select().where(SaleLine.sale == sale_id).order_by(SaleLine.position))
    nets = _net_lines(data, [r.total_fen for r in rows], sale.total_fen)
    returned = _refunded_quantities(sale_id)
    lines = tuple(
        RefundableLine(r.position, r.sku, r.name_zh, r.name_en, r.quantity, returned.get(r.position, 0), net)
        for r, net in zip(rows, nets, strict=True)
    )
    pays = list(Payment.select().where(Payment.sale == sale_id).order_by(Payment.id))
    back = _returned_by_method(sale_id)
    points_fen = sum(p.amount_fen for p in pays if p.method == "points")
    redeemed = _points_redeemed(data)
    payments = []
    for p in pays:  # several payments of one method give back in payment order
        given = min(back.get(p.method, 0), p.amount_fen)
        back[p.method] = back.get(p.method, 0) - given
        points = redeemed * p.amount_fen // points_fen if p.method == "points" and points_fen else 0
        payments.append(RefundablePayment(p.method, p.amount_fen, p.reference, given, points))
    refunded = Refund.select(fn.COALESCE(fn.SUM(Refund.amount_fen), 0)).where(Refund.sale == sale_id).scalar()
    return RefundableSale(
        sale.id, sale.receipt_no, sale.created_at, sale.total_fen, int(refunded),
        data.get("member_id"), lines, tuple(payments),
    )  # fmt: skip


def plan_refund(sale_id: str, picks: Sequence[Pick]) -> RefundPlan:
    """What returning ``picks`` gives back and by which payments; RefundRefused when it cannot."""
    return plan_for_sale(refundable(sale_id), picks)


def plan_for_sale(sale: RefundableSale, picks: Sequence[Pick]) -> RefundPlan:
    """What returning ``picks`` of ``sale`` gives back and by which payments; RefundRefused when it cannot."""
    if any(p.method == "count_card" for p in sale.payments):  # giving a visit back is not built yet
        raise RefundRefused(
            "这笔交易用了次卡抵扣，终端暂不能退款；请店长在总部处理，次卡次数不变。",
            "This sale was paid with a count card visit, which the terminal cannot refund yet: the "
            "manager handles it at the hub. Nothing has changed on the card.",
        )
    chosen = refund_lines([line.sold() for line in sale.lines], picks)
    by_position = {line.position: line for line in sale.lines}
    lines = tuple(
        PlannedLine(s.position, by_position[s.position].sku, by_position[s.position].name_zh,
                    by_position[s.position].name_en, qty, fen)
        for s, qty, fen in chosen
    )  # fmt: skip
    check_cards_refundable(sale.sale_id, [(line.sku, line.quantity) for line in lines])  # 退次卡: unused only
    amount = sum(line.total_fen for line in lines)
    if amount == 0:
        raise RefundRefused(
            "这些商品实付为 0，没有可退的钱。", "These items were paid 0 fen: there is nothing to refund."
        )
    shares = split_payments([p.paid_by() for p in sale.payments], sale.total_fen, sale.refunded_fen, amount)
    payments = tuple(
        PlannedPayment(i, p.method, share, p.reference)
        for i, (p, share) in enumerate(zip(sale.payments, shares, strict=True))
        if share
    )
    return RefundPlan(sale, lines, payments)


def gateway_refund_id(refund_id: str, payment: PlannedPayment) -> str:
    """The idempotency key the gateway gets for one mobile part of a refund."""
    return f"{refund_id}-{payment.index}"


def refund_sale(
    sale_id: str,
    picks: Sequence[Pick],
    terminal: Terminal,
    now: dt.datetime,
    attendant: str,
    refund_id: str,
    reason: str = "",
    gateway_refs: Mapping[int, str] | None = None,
) -> StoredRefund:
    """Store the refund of ``picks`` and everything it changes, in one transaction.

    ``gateway_refs`` maps the index of each mobile payment being refunded to the
    gateway's refund reference (the money went back before this call); a mobile part
    without one is refused, so a refund is never booked that the gateway did not make.
    """
    with database.atomic("IMMEDIATE"):
        known = Refund.get_or_none(Refund.id == refund_id)
        if known is not None:
            return _stored(known, created=False)
        sale = refundable(sale_id)
        plan = plan_for_sale(sale, picks)
        refs = dict(gateway_refs or {})
        missing = [p for p in plan.payments if p.mobile and not refs.get(p.index)]
        if missing:
            raise RefundRefused(
                "移动支付的退款尚未得到支付平台确认，未记录退款。请重试。",
                "The payment gateway has not confirmed the mobile refund; nothing was recorded. Try again.",
            )
        return _write(plan, terminal, now, attendant, refund_id, reason, refs)


def _write(
    plan: RefundPlan,
    terminal: Terminal,
    now: dt.datetime,
    attendant: str,
    refund_id: str,
    reason: str,
    refs: Mapping[int, str],
) -> StoredRefund:
    ts = now.isoformat(timespec="milliseconds")
    sale, event_id = plan.sale, str(uuid.uuid4())
    row = Refund.create(
        id=refund_id, sale=sale.sale_id, event_id=event_id, created_at=ts,
        amount_fen=plan.amount_fen, attendant=attendant, reason=reason,
    )  # fmt: skip
    RefundLine.insert_many(
        [{"refund": refund_id, "position": x.position, "quantity": x.quantity, "total_fen": x.total_fen}
         for x in plan.lines]
    ).execute()  # fmt: skip
    pays = [
        {
            "method": p.method,
            "amount_fen": p.amount_fen,
            "reference": refs.get(p.index, "") if p.mobile else "",
        }
        for p in plan.payments
    ]
    RefundPayment.insert_many([{"refund": refund_id, **p} for p in pays]).execute()
    void_refunded_cards(terminal, now, sale.sale_id, [(x.sku, x.quantity) for x in plan.lines], refund_id)
    ledger, coupons = [], []
    if sale.member_id:
        entries, coupons = write_member_refund(
            terminal,
            now,
            sale.sale_id,
            sale.total_fen,
            sale.refunded_fen,
            plan.amount_fen,
            refund_id,
            event_id,
            _given_back(plan),
        )
        ledger = [e.to_dict() for e in entries]
    data = {
        "refund_id": refund_id, "sale_id": sale.sale_id, "receipt_no": sale.receipt_no,
        "store": terminal.store, "amount_fen": plan.amount_fen, "currency": terminal.currency,
        "lines": [{"position": x.position, "sku": x.sku, "quantity": x.quantity, "total_fen": x.total_fen}
                  for x in plan.lines],
        "payments": pays, "reason": reason, "attendant": attendant,
        "member_id": sale.member_id, "ledger": ledger, "coupons_restored": coupons,
    }  # fmt: skip
    record_event(terminal, ts, "sale.refunded", data, event_id)
    detail = {"refund_id": refund_id, "receipt_no": sale.receipt_no, "amount_fen": plan.amount_fen}
    audit = {"store": terminal.store, "action": "refund", "attendant": attendant, "sale_id": sale.sale_id}
    record_event(terminal, ts, "audit.action", {**audit, "detail": detail})
    return _stored(row, created=True)


def _stored(row: Refund, created: bool) -> StoredRefund:
    sale = Sale.get_by_id(row.sale_id)
    return StoredRefund(row.id, sale.id, sale.receipt_no, row.amount_fen, row.event_id, created)


def refunds_of(sale_id: str) -> list[Refund]:
    """The sale's refunds, oldest first."""
    return list(Refund.select().where(Refund.sale == sale_id).order_by(Refund.created_at, Refund.id))


def refund_slip(refund_id: str, store_name: str) -> ReceiptData:
    """The printed refund slip: the lines taken back, the money and where it went, both languages.

    Its number (the print queue's key) is the sale's receipt number with ``-R`` and the
    refund's place among the sale's refunds.
    """
    refund = Refund.get_by_id(refund_id)
    sale = Sale.get_by_id(refund.sale_id)
    place = [r.id for r in refunds_of(sale.id)].index(refund_id) + 1
    sold = {r.position: r for r in SaleLine.select().where(SaleLine.sale == sale.id)}
    lines = RefundLine.select().where(RefundLine.refund == refund_id).order_by(RefundLine.position)
    pays = RefundPayment.select().where(RefundPayment.refund == refund_id).order_by(RefundPayment.id)
    return ReceiptData(
        store_name="退款单 Refund",  # the shop's name goes below: both do not fit a 58 mm line
        receipt_no=f"{sale.receipt_no}-R{place}",
        time=dt.datetime.fromisoformat(refund.created_at),
        lines=tuple(
            ReceiptLine(sold[x.position].name_zh, x.quantity, sold[x.position].unit_price_fen, x.total_fen)
            for x in lines
        ),
        payments=tuple(
            Amount(
                f"退回 {payment_method_name(p.method, 'zh')} {payment_method_name(p.method, 'en')}",
                p.amount_fen,
            )
            for p in pays
        ),
        extra=(store_name, f"原小票 Receipt {sale.receipt_no}", f"经办 Attendant {refund.attendant}"),
        footer="退款已办理 Refund completed",
    )


def _given_back(plan: RefundPlan) -> dict[str, GivenBack]:
    """By member payment method: what the sale paid with it, and what refunds give back before and after."""
    out = {}
    for method in MEMBER_METHODS:
        paid = [p for p in plan.sale.payments if p.method == method]
        if paid:
            before = sum(p.returned_fen for p in paid)
            now = sum(p.amount_fen for p in plan.payments if p.method == method)
            out[method] = GivenBack(sum(p.amount_fen for p in paid), before, before + now)
    return out


def _points_redeemed(data: Mapping[str, Any]) -> int:
    """The points the sale spent (its ``redeem`` entries), from its event."""
    return -sum(
        int(e["amount"]) for e in data.get("ledger", ()) if e["account"] == POINTS and e["kind"] == "redeem"
    )


def _sale_event_data(sale_id: str) -> dict[str, Any]:
    row = database.execute_sql(_SALE_EVENT, (sale_id,)).fetchone()
    return dict(json.loads(row[0])["data"]) if row else {}


def _net_lines(data: Mapping[str, Any], totals: list[int], sale_total_fen: int) -> list[int]:
    """Each line's fen after discounts: as the sale event recorded them, else the sale's
    total spread over the line totals (largest remainder)."""
    nets = data.get("net_lines")
    if isinstance(nets, list) and len(nets) == len(totals) and sum(nets) == sale_total_fen:
        return [int(n) for n in nets]
    return allocate(sale_total_fen, totals)


def _refunded_quantities(sale_id: str) -> dict[int, int]:
    rows = (
        RefundLine.select(RefundLine.position, fn.SUM(RefundLine.quantity))
        .join(Refund)
        .where(Refund.sale == sale_id)
        .group_by(RefundLine.position)
        .tuples()
    )
    return {int(position): int(quantity) for position, quantity in rows}


def _returned_by_method(sale_id: str) -> dict[str, int]:
    rows = (
        RefundPayment.select(RefundPayment.method, fn.SUM(RefundPayment.amount_fen))
        .join(Refund)
        .where(Refund.sale == sale_id)
        .group_by(RefundPayment.method)
        .tuples()
    )
    return {str(method): int(fen) for method, fen in rows}
