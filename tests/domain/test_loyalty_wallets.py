"""Stored value, count cards, the offline risk cap, and a member sale end to end."""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.domain.cart import Cart, Product
from kiosk.domain.loyalty import (
    BONUS,
    POINTS,
    PRINCIPAL,
    CardExpired,
    CountCardProduct,
    EarnContext,
    InsufficientBalance,
    Kind,
    LoyaltyRules,
    MemberPayment,
    OfflineSpend,
    Split,
    Verdict,
    balance,
    balances,
    cash_out,
    check_offline_spend,
    check_visit,
    count_account,
    price_cart,
    refund_reversals,
    sale_ledger,
    sell_count_card,
    spend,
    top_up,
)
from kiosk.domain.loyalty.rules import BonusTier, CountCardKind, RiskCap, StoredValueRule
from tests.domain.loyalty_support import stamp

TIERS = (BonusTier(min_fen=10000, bonus_fen=2000), BonusTier(min_fen=50000, bonus_fen=15000))


@pytest.mark.parametrize(
    ("amount", "expected"),
    [(10000, Split(10000, 2000)), (9999, Split(9999, 0)), (60000, Split(60000, 15000))],
)
def test_top_up_bonus_tiers(amount: int, expected: Split) -> None:
    assert top_up(amount, StoredValueRule(bonus_tiers=TIERS)) == expected


@pytest.mark.parametrize(
    ("order", "amount", "expected"),
    [
        ("principal_first", 5000, Split(5000, 0)),
        ("principal_first", 8000, Split(7000, 1000)),
        ("bonus_first", 5000, Split(3000, 2000)),
        ("proportional", 5000, Split(3889, 1111)),
        ("proportional", 9000, Split(7000, 2000)),
    ],
)
def test_spend_order(order: str, amount: int, expected: Split) -> None:
    rule = StoredValueRule(spend_order=order)  # type: ignore[arg-type]
    assert spend(amount, Split(7000, 2000), rule) == expected


def test_spending_more_than_the_balance_is_refused() -> None:
    with pytest.raises(InsufficientBalance, match="储值余额不足"):
        spend(9001, Split(7000, 2000), StoredValueRule())


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from(["principal_first", "bonus_first", "proportional"]),
    st.integers(min_value=0, max_value=100_000),
    st.integers(min_value=0, max_value=100_000),
    st.data(),
)
def test_spend_split_is_exact_and_within_the_card(
    order: str, principal: int, bonus: int, data: st.DataObject
) -> None:
    amount = data.draw(st.integers(min_value=0, max_value=principal + bonus))
    split = spend(amount, Split(principal, bonus), StoredValueRule(spend_order=order))  # type: ignore[arg-type]
    assert split.total == amount
    assert 0 <= split.principal <= principal and 0 <= split.bonus <= bonus


def test_cash_out_forfeits_bonus_and_deducts_bonus_used() -> None:
    deducting = StoredValueRule()
    assert cash_out(Split(7000, 0), 2000, deducting) == 5000
    assert cash_out(Split(1000, 0), 2000, deducting) == 0
    assert cash_out(Split(7000, 0), 2000, StoredValueRule(refund_deducts_used_bonus=False)) == 7000


HAIRCUTS = CountCardProduct("cc10", "理发10次卡", 10, 12, frozenset({"haircut"}))


def test_count_card_sold_consumed_and_expired() -> None:
    card = sell_count_card(HAIRCUTS, "card-1", "m1", dt.date(2026, 1, 31))
    assert card.expires_on == dt.date(2027, 1, 30)
    s = stamp()
    account = count_account(card.id)
    bought = s.entry(member_id="m1", account=account, kind=Kind.TOP_UP, amount=10, sale_id="s1")
    visits = [s.entry(member_id="m1", account=account, kind=Kind.SPEND, amount=-1) for _ in range(3)]
    left = balance([bought, *visits], "m1", account)
    assert left == 7
    check_visit(card, left, "haircut", dt.date(2027, 1, 30))
    with pytest.raises(CardExpired):
        check_visit(card, left, "haircut", dt.date(2027, 1, 31))
    with pytest.raises(InsufficientBalance, match="剩余次数不足"):
        check_visit(card, 0, "haircut", dt.date(2026, 2, 1))
    with pytest.raises(InsufficientBalance, match="不适用"):
        check_visit(card, left, "dye", dt.date(2026, 2, 1))


def test_a_card_valid_for_days_counts_the_day_of_sale_as_the_first() -> None:
    ninety = CountCardProduct("cc90", "理发90天卡", 10, 12, frozenset({"haircut"}), valid_days=90)
    card = sell_count_card(ninety, "card-2", "m1", dt.date(2026, 12, 7))
    assert card.expires_on == dt.date(2027, 3, 6)  # 25 + 31 + 28 + 6 days
    check_visit(card, 10, "haircut", dt.date(2027, 3, 6))
    with pytest.raises(CardExpired):
        check_visit(card, 10, "haircut", dt.date(2027, 3, 7))


def test_a_kind_with_stores_is_sold_only_there() -> None:
    kind = CountCardKind(sku="wash5", name_zh="洗车5次卡", visits=5, price_fen=9900, stores=("S01",))
    everywhere = kind.model_copy(update={"stores": ()})
    assert (kind.sold_at("S01"), kind.sold_at("S02"), everywhere.sold_at("S02")) == (True, False, True)


CAP = RiskCap(offline_points=2000, offline_stored_value_fen=20000)


def test_online_spend_is_never_capped() -> None:
    decision = check_offline_spend(True, OfflineSpend(99999, 99999), OfflineSpend(5000), CAP)
    assert decision.verdict == Verdict.ALLOW


def test_offline_spend_within_cap_is_allowed() -> None:
    assert check_offline_spend(False, OfflineSpend(1500), OfflineSpend(500), CAP).verdict == Verdict.ALLOW


def test_offline_spend_above_cap_needs_hub_or_audited_override() -> None:
    already, asked = OfflineSpend(1500, 15000), OfflineSpend(600, 5001)
    refused = check_offline_spend(False, already, asked, CAP)
    assert refused.verdict == Verdict.NEEDS_HUB
    assert refused.reason.startswith(
        "offline cap exceeded: points 2100 > 2000, stored value 20001 fen > 20000 fen"
    )
    overridden = check_offline_spend(False, already, asked, CAP, override_by="staff-7")
    assert overridden.verdict == Verdict.OVERRIDDEN
    assert overridden.audit == {
        "action": "offline_cap_override",
        "staff": "staff-7",
        "reason": "offline cap exceeded: points 2100 > 2000, stored value 20001 fen > 20000 fen",
        "points": 600,
        "stored_value_fen": 5001,
    }


RICE = Product("rice", "1", "大米", "Rice", 5000, "food")


def test_member_sale_entries_and_full_refund_restore_everything() -> None:
    priced = price_cart(Cart().add(RICE, 2), (), dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    paid = MemberPayment(points=2000, points_fen=2000, stored=Split(3000, 1000))
    ctx = EarnContext(day=dt.date(2026, 3, 1))
    earned, entries = sale_ledger("m1", "s1", priced, paid, LoyaltyRules(), ctx, stamp())
    assert earned.points == 70  # 10000 - 2000 points - 1000 bonus = 7000 fen earns
    assert [(e.account, e.kind, e.amount) for e in entries] == [
        (POINTS, Kind.REDEEM, -2000),
        (PRINCIPAL, Kind.SPEND, -3000),
        (BONUS, Kind.SPEND, -1000),
        (POINTS, Kind.EARN, 70),
    ]
    before = [
        stamp(prefix="t").entry(member_id="m1", account=a, kind=Kind.TOP_UP, amount=n)
        for a, n in [(POINTS, 5000), (PRINCIPAL, 3000), (BONUS, 1000)]
    ]
    undo = refund_reversals(entries, priced.total_fen, 0, priced.total_fen, stamp(prefix="r"), "refund")
    assert balances(before + entries + undo) == balances(before)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 20_000), st.integers(1, 5)), min_size=1, max_size=4),
    st.integers(0, 100),
    st.integers(0, 100),
    st.lists(st.integers(1, 100), min_size=1, max_size=4),
)
def test_member_sale_then_refund_in_parts_restores_all_balances(
    items: list[tuple[int, int]], points_pct: int, bonus_pct: int, weights: list[int]
) -> None:
    cart = Cart()
    for i, (price, qty) in enumerate(items):
        cart = cart.add(Product(f"p{i}", str(i), "商品", "Item", price, "c"), qty)
    priced = price_cart(cart, (), dt.datetime(2026, 3, 1, tzinfo=dt.UTC), "m1", 5)
    total = priced.total_fen
    points_fen = total * points_pct // 200
    bonus = (total - points_fen) * bonus_pct // 100
    paid = MemberPayment(points=points_fen, points_fen=points_fen, stored=Split(0, bonus))
    ctx = EarnContext(day=dt.date(2026, 3, 1))
    earned, entries = sale_ledger("m1", "s", priced, paid, LoyaltyRules(), ctx, stamp())
    assert earned.points == (total - points_fen - bonus) // 100
    parts = [total * w // sum(weights) for w in weights]
    parts[-1] += total - sum(parts)
    done, undo = 0, []
    for part in filter(None, parts):
        undo += refund_reversals(entries, total, done, part, stamp(prefix=f"r{done}-"), "refund")
        done += part
    assert all(value == 0 for value in balances(entries + undo).values())
