"""Refunds on a real SQLite file: amounts, payments, member reversals and events in one transaction."""

import json

import pytest

from kiosk.domain.cart import Cart, Product
from kiosk.domain.loyalty import BONUS, POINTS, PRINCIPAL
from kiosk.domain.refunds import Pick, RefundRefused, SoldLine, line_refund_fen, split_refund
from kiosk.store import members, refunds
from kiosk.store.member_models import CouponRow, LedgerRow
from kiosk.store.models import Outbox, Refund, RefundLine, RefundPayment
from kiosk.store.sales import PaymentIntent, commit_sale
from kiosk.sync.schema import check_event
from tests.store.test_members import NOW, RICE, TERMINAL, member_sale, pay
from tests.store.test_members import member_with_balances as member_with_balances  # the fixture

TEA = Product("tea", "6900000000028", "绿茶", "Green tea", 1000, "drink")
SOAP = Product("soap", "6900000000035", "香皂", "Soap", 350, "home")


def events(type_: str) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(r.body) for r in Outbox.select().where(Outbox.type == type_).order_by(Outbox.seq)]


def counts() -> tuple[int, ...]:
    return (
        Refund.select().count(),
        RefundLine.select().count(),
        RefundPayment.select().count(),
        Outbox.select().count(),
        LedgerRow.select().count(),
    )


@pytest.fixture
def cash_sale(kiosk_db):  # type: ignore[no-untyped-def]
    """3 x tea (¥30) + 1 soap (¥3.50), paid ¥20 WeChat and ¥13.50 cash."""
    cart = Cart().add(TEA, 3).add(SOAP, 1)
    paid = [PaymentIntent("wechat", 2000, "SIMTX1"), PaymentIntent("cash", 1350, "staff:attendant-1")]
    return commit_sale(cart, paid, TERMINAL, NOW, "s-1")


def test_line_refund_rounds_down_and_the_last_unit_returns_the_rest() -> None:
    line = SoldLine(1, 3, 1000)
    assert line_refund_fen(line, 1) == 333
    assert line_refund_fen(SoldLine(1, 3, 1000, 1), 1) == 333
    assert line_refund_fen(SoldLine(1, 3, 1000, 2), 1) == 334
    assert line_refund_fen(line, 3) == 1000


def test_payment_split_is_proportional_to_what_is_left_and_never_exceeds_it() -> None:
    assert split_refund([2000, 1350], [0, 0], 1000) == [597, 403]
    assert split_refund([2000, 1350], [597, 403], 2350) == [1403, 947]
    with pytest.raises(RefundRefused, match="more than the 2350 fen"):
        split_refund([2000, 1350], [597, 403], 2351)


def test_partial_refund_stores_lines_payments_and_one_event_with_its_audit(cash_sale) -> None:  # type: ignore[no-untyped-def]
    plan = refunds.plan_refund("s-1", [Pick(1, 1)])
    assert (plan.amount_fen, plan.cash_fen) == (1000, 403)
    assert [(p.method, p.amount_fen, p.index) for p in plan.payments] == [
        ("wechat", 597, 0),
        ("cash", 403, 1),
    ]
    stored = refunds.refund_sale(
        "s-1", [Pick(1, 1)], TERMINAL, NOW, "attendant-1", "r-1", "broken", {0: "RF1"}
    )
    assert (stored.amount_fen, stored.receipt_no, stored.created) == (1000, "S01-K01-202611240001", True)
    [event] = events("sale.refunded")
    assert check_event(event, "K01") is None
    assert event["id"] == stored.event_id
    data = event["data"]
    assert {k: data[k] for k in ("refund_id", "sale_id", "store", "amount_fen", "reason", "attendant")} == {
        "refund_id": "r-1", "sale_id": "s-1", "store": "S01", "amount_fen": 1000, "reason": "broken",
        "attendant": "attendant-1",
    }  # fmt: skip
    assert data["lines"] == [{"position": 1, "sku": "tea", "quantity": 1, "total_fen": 1000}]
    assert data["payments"] == [
        {"method": "wechat", "amount_fen": 597, "reference": "RF1"},
        {"method": "cash", "amount_fen": 403, "reference": ""},
    ]
    assert (data["member_id"], data["ledger"], data["coupons_restored"]) == (None, [], [])
    [audit] = events("audit.action")
    assert audit["seq"] == event["seq"] + 1
    assert audit["data"] == {
        "store": "S01", "action": "refund", "attendant": "attendant-1", "sale_id": "s-1",
        "detail": {"refund_id": "r-1", "receipt_no": "S01-K01-202611240001", "amount_fen": 1000},
    }  # fmt: skip


def test_refunding_more_than_sold_minus_refunded_is_refused_in_both_languages(cash_sale) -> None:  # type: ignore[no-untyped-def]
    refunds.refund_sale("s-1", [Pick(1, 2)], TERMINAL, NOW, "a-1", "r-1", gateway_refs={0: "RF1"})
    before = counts()
    with pytest.raises(RefundRefused) as refused:
        refunds.refund_sale("s-1", [Pick(1, 2)], TERMINAL, NOW, "a-1", "r-2", gateway_refs={0: "RF2"})
    assert refused.value.zh == "第 1 行最多还能退 1 件（已售 3 件，已退 2 件），不能退 2 件。请减少数量。"
    assert (
        refused.value.en
        == "Line 1 can return at most 1 more (sold 3, refunded 2), not 2. Lower the quantity."
    )
    with pytest.raises(RefundRefused, match="no line 7"):
        refunds.plan_refund("s-1", [Pick(7, 1)])
    with pytest.raises(RefundRefused, match="at least one item"):
        refunds.plan_refund("s-1", [Pick(1, 0)])
    assert counts() == before


def test_same_refund_id_twice_changes_nothing(cash_sale) -> None:  # type: ignore[no-untyped-def]
    first = refunds.refund_sale("s-1", [Pick(2, 1)], TERMINAL, NOW, "a-1", "r-1", gateway_refs={0: "RF1"})
    before = counts()
    again = refunds.refund_sale("s-1", [Pick(2, 1)], TERMINAL, NOW, "a-1", "r-1", gateway_refs={0: "RF1"})
    assert again == refunds.StoredRefund("r-1", "s-1", first.receipt_no, 350, first.event_id, created=False)
    assert counts() == before


def test_mobile_part_without_the_gateways_confirmation_books_nothing(cash_sale) -> None:  # type: ignore[no-untyped-def]
    before = counts()
    with pytest.raises(RefundRefused, match="gateway has not confirmed"):
        refunds.refund_sale("s-1", [Pick(1, 1)], TERMINAL, NOW, "a-1", "r-1")
    assert counts() == before


def test_partial_refunds_add_up_to_the_sale_and_each_payment_exactly(cash_sale) -> None:  # type: ignore[no-untyped-def]
    refunds.refund_sale("s-1", [Pick(1, 1)], TERMINAL, NOW, "a-1", "r-1", gateway_refs={0: "RF1"})
    refunds.refund_sale("s-1", [Pick(1, 1), Pick(2, 1)], TERMINAL, NOW, "a-1", "r-2", gateway_refs={0: "RF2"})
    last = refunds.plan_refund("s-1", [Pick(1, 1)])
    assert [(p.method, p.amount_fen) for p in last.payments] == [
        ("wechat", 597),
        ("cash", 403),
    ]  # what was left
    refunds.refund_sale("s-1", [Pick(1, 1)], TERMINAL, NOW, "a-1", "r-3", gateway_refs={0: "RF3"})
    sale = refunds.refundable("s-1")
    assert sale.refunded_fen == 3350
    assert [(p.method, p.returned_fen) for p in sale.payments] == [("wechat", 2000), ("cash", 1350)]
    assert [line.refunded_quantity for line in sale.lines] == [3, 1]
    with pytest.raises(RefundRefused, match="at most 0 more"):
        refunds.plan_refund("s-1", [Pick(2, 1)])


def test_member_refund_reverses_points_and_restores_stored_value_in_the_same_event(
    member_with_balances,
) -> None:  # type: ignore[no-untyped-def]
    balances_before = members.member_balances("m-1")
    commit_sale(Cart().add(RICE, 2), pay(), TERMINAL, NOW, "s-1", member=member_sale("s-1"))
    plan = refunds.plan_refund("s-1", [Pick(1, 1)])
    assert plan.amount_fen == 4000  # half of the 8000 net after the 满100减20 coupon
    assert [(p.method, p.amount_fen) for p in plan.payments] == [
        ("points", 500), ("stored_value", 1000), ("cash", 2500),
    ]  # fmt: skip
    refunds.refund_sale("s-1", [Pick(1, 1)], TERMINAL, NOW, "a-1", "r-1")
    [event] = events("sale.refunded")
    assert [(e["account"], e["kind"], e["amount"], e["event_id"] if "event_id" in e else event["id"])
            for e in event["data"]["ledger"]] == [
        (POINTS, "refund_reversal", 500, event["id"]),
        (PRINCIPAL, "refund_reversal", 1000, event["id"]),
        (POINTS, "refund_reversal", -35, event["id"]),
    ]  # fmt: skip
    assert {r.event_id for r in LedgerRow.select().where(LedgerRow.kind == "refund_reversal")} == {
        event["id"]
    }
    assert CouponRow.get_by_id("c-1").used_sale_id == "s-1"
    refunds.refund_sale("s-1", [Pick(1, 1)], TERMINAL, NOW, "a-1", "r-2")
    assert members.member_balances("m-1") == balances_before
    assert CouponRow.get_by_id("c-1").used_sale_id is None
    assert events("sale.refunded")[1]["data"]["coupons_restored"] == ["c-1"]
    assert BONUS not in {e["account"] for e in events("sale.refunded")[1]["data"]["ledger"]}


def test_find_sale_by_typed_number_or_scanned_receipt_qr(cash_sale) -> None:  # type: ignore[no-untyped-def]
    assert refunds.find_sale("S01-K01-202611240001").id == "s-1"  # type: ignore[union-attr]
    assert refunds.find_sale(" http://hub.local:8000/r/S01-K01-202611240001 ").id == "s-1"  # type: ignore[union-attr]
    assert refunds.find_sale("S01-K01-202611240099") is None


def test_refund_slip_lists_the_units_the_money_and_where_it_went(cash_sale) -> None:  # type: ignore[no-untyped-def]
    from kiosk.hw.receipt_render import Amount, ReceiptLine, render_receipt

    refunds.refund_sale("s-1", [Pick(1, 1)], TERMINAL, NOW, "attendant-1", "r-1", gateway_refs={0: "RF1"})
    refunds.refund_sale("s-1", [Pick(2, 1)], TERMINAL, NOW, "attendant-1", "r-2", gateway_refs={0: "RF2"})
    slip = refunds.refund_slip("r-2", "会员自助收银")
    assert (slip.store_name, slip.receipt_no, slip.total_fen) == (
        "退款单 Refund",
        "S01-K01-202611240001-R2",
        350,
    )
    assert slip.lines == (ReceiptLine("香皂", 1, 350, 350),)
    assert slip.payments == (Amount("退回 微信支付 WeChat Pay", 209), Amount("退回 现金 Cash", 141))
    assert slip.extra == ("会员自助收银", "原小票 Receipt S01-K01-202611240001", "经办 Attendant attendant-1")
    assert render_receipt(slip, 384).size[0] == 384
