"""Earning and redeeming points, with exact numbers."""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.domain.loyalty import EarnContext, EarnLine, InsufficientBalance, earn_points
from kiosk.domain.loyalty.points import points_value_fen, redeem_quote, redeem_reward
from kiosk.domain.loyalty.rules import EarnRule, HolidayRule, RedeemRule, Reward

PLAIN = EarnRule()
DAY = EarnContext(day=dt.date(2026, 3, 10))
RICE = EarnLine("rice", "food", 10000)


def test_one_point_per_yuan_rounds_down() -> None:
    assert earn_points([EarnLine("a", "food", 12345)], 0, PLAIN, DAY).points == 123


def test_excluded_category_earns_nothing() -> None:
    rule = EarnRule(excluded_categories=frozenset({"tobacco"}))
    lines = [RICE, EarnLine("cig", "tobacco", 5000)]
    result = earn_points(lines, 0, rule, DAY)
    assert (result.points, result.eligible_fen) == (100, 10000)


def test_excluded_sku_earns_nothing() -> None:
    rule = EarnRule(excluded_skus=frozenset({"rice"}))
    assert earn_points([RICE], 0, rule, DAY).points == 0


def test_product_multiplier_wins_over_category() -> None:
    rule = EarnRule(category_multipliers={"food": 300}, product_multipliers={"a": 200})
    lines = [EarnLine("a", "food", 1050), EarnLine("b", "food", 2000)]
    assert earn_points(lines, 0, rule, DAY).points == 81  # 10.5*2 + 20*3 = 81


def test_points_paid_part_earns_nothing() -> None:
    assert earn_points([RICE], 3000, PLAIN, DAY).points == 70


def test_non_earning_payment_is_removed_proportionally_from_lines() -> None:
    rule = EarnRule(excluded_categories=frozenset({"tobacco"}))
    lines = [EarnLine("rice", "food", 6000), EarnLine("cig", "tobacco", 4000)]
    result = earn_points(lines, 5000, rule, DAY)
    assert (result.points, result.eligible_fen) == (30, 3000)


def test_one_floor_at_the_end_not_per_line() -> None:
    rule = EarnRule(category_multipliers={"food": 150})
    lines = [EarnLine("a", "food", 199), EarnLine("b", "food", 199)]
    assert earn_points(lines, 0, rule, DAY).points == 5  # 5.97, not 2 + 2


def test_percent_mode() -> None:
    rule = EarnRule(mode="percent", percent=5)
    assert earn_points([EarnLine("a", "", 12345)], 0, rule, DAY).points == 6


def test_tier_and_birthday_multipliers() -> None:
    rule = EarnRule(birthday_multiplier=200)
    ctx = EarnContext(day=dt.date(2026, 3, 10), birthday=dt.date(1990, 3, 22), tier_multiplier=150)
    result = earn_points([RICE], 0, rule, ctx)
    assert result.points == 300
    assert result.rule == "earn tier=150 birthday=200"


def test_birthday_outside_its_month_does_not_count() -> None:
    rule = EarnRule(birthday_multiplier=200)
    ctx = EarnContext(day=dt.date(2026, 4, 1), birthday=dt.date(1990, 3, 22))
    assert earn_points([RICE], 0, rule, ctx).points == 100


WOMENS_DAY = (HolidayRule(name_zh="妇女节", calendar="solar", month=3, day=8, days=3, multiplier=150),)


def test_bonus_stacking_highest_takes_the_birthday() -> None:
    rule = EarnRule(birthday_multiplier=200)
    ctx = EarnContext(day=dt.date(2026, 3, 10), birthday=dt.date(1990, 3, 1), tier_multiplier=150)
    assert earn_points([RICE], 0, rule, ctx, WOMENS_DAY).points == 300


def test_bonus_stacking_multiply_combines_birthday_and_holiday() -> None:
    rule = EarnRule(birthday_multiplier=200, bonus_stacking="multiply")
    ctx = EarnContext(day=dt.date(2026, 3, 10), birthday=dt.date(1990, 3, 1), tier_multiplier=150)
    result = earn_points([RICE], 0, rule, ctx, WOMENS_DAY)
    assert result.points == 450
    assert result.rule == "earn tier=150 birthday=200 妇女节=150"


def test_nothing_earned_when_everything_paid_with_points() -> None:
    assert earn_points([RICE], 10000, PLAIN, DAY).points == 0
    assert earn_points([], 0, PLAIN, DAY).points == 0


amounts = st.lists(st.integers(min_value=1, max_value=500_000), min_size=1, max_size=6)


@settings(max_examples=60, deadline=None)
@given(amounts, st.integers(min_value=0, max_value=3_000_000))
def test_never_earn_on_points_paid_money(nets: list[int], paid: int) -> None:
    lines = [EarnLine(f"s{i}", "c", n) for i, n in enumerate(nets)]
    total = sum(nets)
    points = earn_points(lines, paid, PLAIN, DAY).points
    assert points == max(0, total - paid) // 100
    assert points <= earn_points(lines, 0, PLAIN, DAY).points


@pytest.mark.parametrize(
    ("ppy", "share", "balance", "due", "expected"),
    [
        (100, 50, 5000, 8000, (4000, 4000)),
        (100, 50, 1234, 8000, (1234, 1234)),
        (10, 50, 55, 10000, (55, 550)),
        (300, 100, 1000, 1000, (999, 333)),
        (100, 0, 1000, 1000, (0, 0)),
    ],
)
def test_redeem_quote(ppy: int, share: int, balance: int, due: int, expected: tuple[int, int]) -> None:
    quote = redeem_quote(balance, due, RedeemRule(points_per_yuan=ppy, max_share_percent=share))
    assert (quote.points, quote.fen) == expected


def test_redeem_quote_respects_wish_and_minimum() -> None:
    rule = RedeemRule(min_points=500)
    assert redeem_quote(400, 10000, rule) == redeem_quote(0, 10000, rule)
    assert (redeem_quote(400, 10000, rule).points, redeem_quote(400, 10000, rule).fen) == (0, 0)
    assert redeem_quote(5000, 10000, RedeemRule(), wanted_points=150).fen == 150


def test_points_value_rounds_down() -> None:
    assert points_value_fen(250, RedeemRule(points_per_yuan=300)) == 83


@settings(max_examples=60, deadline=None)
@given(
    st.integers(min_value=1, max_value=1000),
    st.integers(min_value=0, max_value=100),
    st.integers(min_value=0, max_value=100_000),
    st.integers(min_value=0, max_value=100_000),
)
def test_redeem_quote_stays_within_balance_and_cap(ppy: int, share: int, bal: int, due: int) -> None:
    rule = RedeemRule(points_per_yuan=ppy, max_share_percent=share)
    quote = redeem_quote(bal, due, rule)
    assert quote.points <= bal
    assert quote.fen <= due * share // 100
    assert quote.fen * ppy == quote.points * 100


def test_reward_costs_points_and_refuses_a_short_balance() -> None:
    cup = Reward(id="cup", name_zh="保温杯", points=500, sku="cup-01")
    assert redeem_reward(1200, cup, 2) == 1000
    with pytest.raises(InsufficientBalance):
        redeem_reward(1200, cup, 3)
