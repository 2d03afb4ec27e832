"""A refund's money and the member's points and stored value agree, on every partial refund.

The money booked against the points and stored-value payments is exactly what the
member gets back; a whole refund, in any number of steps, gives every payment and
every balance back exactly (docs/loyalty.md, "Refunds").
"""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.domain.loyalty import BONUS, POINTS, PRINCIPAL, GivenBack, Kind, LedgerEntry, refund_reversals
from kiosk.domain.refunds import PaidBy, Pick, RefundRefused, SoldLine, refund_lines, split_payments
from tests.domain.loyalty_support import stamp


def debit(eid: str, account: str, kind: Kind, amount: int) -> LedgerEntry:
    return LedgerEntry(eid, "m1", account, kind, amount, "2026-03-01T10:00:00+08:00", "d1", sale_id="s")


def test_the_points_payment_books_exactly_the_points_it_gives_back() -> None:
    # ¥13.53 in points (100 points per yuan) and ¥20 cash; ¥10 back: 403.5 fen of it is the points'
    # share. Largest remainder booked 404 fen while the ledger gave 403 points back: now both say 403.
    payments = [PaidBy("points", 1353, 0, 1353), PaidBy("cash", 2000)]
    assert split_payments(payments, 3353, 0, 1000) == [403, 597]
    sale = [debit("r", POINTS, Kind.REDEEM, -1353)]
    back = refund_reversals(sale, 3353, 0, 1000, stamp(), "refund", {"points": GivenBack(1353, 0, 403)})
    assert [(e.reverses, e.amount) for e in back] == [("r", 403)]


def test_coarse_points_go_back_in_whole_points_and_cash_takes_the_rest() -> None:
    # 10 points per yuan: 55 points paid ¥5.50, a point is 10 fen; ¥4.50 cash
    payments = [PaidBy("points", 550, 0, 55), PaidBy("cash", 450)]
    assert split_payments(payments, 1000, 0, 333) == [180, 153]  # 18 points, not 18.315
    after = [PaidBy("points", 550, 180, 55), PaidBy("cash", 450, 153)]
    assert split_payments(after, 1000, 333, 667) == [370, 297]  # the last refund: exactly what is left


def test_a_refund_that_whole_points_cannot_pay_is_refused_in_both_languages() -> None:
    # everything paid with points at 10 fen a point: 5 fen cannot go back as points
    with pytest.raises(RefundRefused) as refused:
        split_payments([PaidBy("points", 1000, 0, 100)], 1000, 0, 5)
    assert refused.value.text("zh") == (
        "这笔交易主要用积分支付，这次退款无法按整积分退回。请一起多退几件商品，或整单退款。"
    )
    assert refused.value.text("en").startswith("This sale was paid mostly with points")
    assert split_payments([PaidBy("points", 1000, 0, 100)], 1000, 0, 1000) == [1000]


def test_stored_value_gives_back_principal_and_bonus_adding_up_to_its_fen() -> None:
    sale = [debit("p", PRINCIPAL, Kind.SPEND, -2001), debit("b", BONUS, Kind.SPEND, -500)]
    back = refund_reversals(sale, 5000, 0, 1234, stamp(), "refund", {"stored_value": GivenBack(2501, 0, 617)})
    assert [(e.reverses, e.amount) for e in back] == [("p", 493), ("b", 124)]


PER_YUAN = (100, 10, 300, 50, 1000)  # points per yuan: a point worth 1, 10, 1/3, 2, 1/10 fen


@st.composite
def sales(draw: st.DrawFn) -> tuple[list[SoldLine], list[PaidBy], list[LedgerEntry], list[list[Pick]]]:
    """A member sale (lines, its payments, its ledger debits and earn) and a sequence of refunds."""
    lines = [
        SoldLine(i + 1, draw(st.integers(1, 5)), draw(st.integers(0, 20_000)))
        for i in range(draw(st.integers(1, 4)))
    ]
    total = sum(line.net_fen for line in lines)
    per_yuan = draw(st.sampled_from(PER_YUAN))
    step_points, step_fen = per_yuan // math.gcd(100, per_yuan), 100 // math.gcd(100, per_yuan)
    steps = draw(st.integers(0, total // step_fen))
    points_fen, points = steps * step_fen, steps * step_points
    stored = draw(st.integers(0, total - points_fen))
    bonus = draw(st.integers(0, stored))
    cash = draw(st.integers(0, total - points_fen - stored))
    payments = [
        PaidBy("points", points_fen, 0, points),
        PaidBy("stored_value", stored),
        PaidBy("cash", cash),
        PaidBy("wechat", total - points_fen - stored - cash),
    ]
    payments = [p for p in payments if p.paid_fen]
    entries = [
        debit("r", POINTS, Kind.REDEEM, -points),
        debit("p", PRINCIPAL, Kind.SPEND, -(stored - bonus)),
        debit("b", BONUS, Kind.SPEND, -bonus),
        debit("e", POINTS, Kind.EARN, (total - points_fen - bonus) // 100),
    ]
    units = [(line.position, n) for line in lines for n in range(line.quantity)]
    order = draw(st.permutations(units))
    cuts = sorted(draw(st.lists(st.integers(1, len(order)), max_size=4)))
    refunds, start = [], 0
    for cut in [*cuts, len(order)]:
        chunk = order[start:cut]
        if chunk:
            picks = {pos: sum(1 for p, _ in chunk if p == pos) for pos, _ in chunk}
            refunds.append([Pick(pos, qty) for pos, qty in picks.items()])
        start = cut
    return lines, payments, entries, refunds


@settings(max_examples=300, deadline=None)
@given(sales())
def test_money_refunded_is_points_value_restored_plus_other_payments_and_a_full_refund_is_exact(
    sale: tuple[list[SoldLine], list[PaidBy], list[LedgerEntry], list[list[Pick]]],
) -> None:
    lines, payments, entries, refunds = sale
    total = sum(line.net_fen for line in lines)
    points_paid = next((p for p in payments if p.method == "points"), None)
    spent = {e.id: e.amount for e in entries}
    restored = {e.id: 0 for e in entries}
    refunded, waiting = 0, []
    for step, picks in enumerate(refunds):
        waiting += picks  # a refused refund's items go back with the next one
        merged = {pick.position: 0 for pick in waiting}
        for pick in waiting:
            merged[pick.position] += pick.quantity
        chosen = refund_lines(lines, [Pick(pos, qty) for pos, qty in merged.items()])
        amount = sum(fen for _line, _qty, fen in chosen)
        if amount == 0:
            lines = _returned(lines, chosen)
            waiting = []
            continue
        last = step == len(refunds) - 1
        try:
            shares = split_payments(payments, total, refunded, amount)
        except RefundRefused:
            assert not last and points_paid is not None and points_paid.step_fen > 1
            continue
        by_method = dict.fromkeys(("points", "stored_value"), 0)
        given_back = {}
        for p, share in zip(payments, shares, strict=True):
            assert 0 <= share <= p.left_fen
            if p.member:
                by_method[p.method] += share
                given_back[p.method] = GivenBack(p.paid_fen, p.returned_fen, p.returned_fen + share)
        back = refund_reversals(
            entries, total, refunded, amount, stamp(prefix=f"r{step}-"), "refund", given_back
        )
        for e in back:
            restored[e.reverses] += e.amount
        points_back = sum(e.amount for e in back if e.reverses == "r")
        stored_back = sum(e.amount for e in back if e.reverses in ("p", "b"))
        points_value = points_back * points_paid.paid_fen // points_paid.points if points_back else 0
        assert points_back * points_paid.paid_fen % points_paid.points == 0 if points_back else True
        assert (points_value, stored_back) == (by_method["points"], by_method["stored_value"])
        others = sum(s for p, s in zip(payments, shares, strict=True) if not p.member)
        assert amount == points_value + stored_back + others
        payments = [
            PaidBy(p.method, p.paid_fen, p.returned_fen + s, p.points)
            for p, s in zip(payments, shares, strict=True)
        ]
        lines = _returned(lines, chosen)
        refunded += amount
        waiting = []
    assert refunded == total
    assert [p.left_fen for p in payments] == [0] * len(payments)
    assert {eid: restored[eid] + spent[eid] for eid in spent} == {eid: 0 for eid in spent}


def _returned(lines: list[SoldLine], chosen: list[tuple[SoldLine, int, int]]) -> list[SoldLine]:
    """``lines`` after the units in ``chosen`` went back."""
    qty = {line.position: q for line, q, _fen in chosen}
    return [
        SoldLine(x.position, x.quantity, x.net_fen, x.refunded_quantity + qty.get(x.position, 0))
        for x in lines
    ]
