"""Choosing how many points to use on the pay screen: the stepper's strides, 0, the minimum, the most."""

from kiosk.domain.loyalty.rules import RedeemRule
from kiosk.domain.member_choices import PointsDraw, member_options, points_stride, step_points

RULE = RedeemRule(points_per_yuan=100, max_share_percent=50)


def test_the_stepper_strides_one_yuan_down_to_zero_and_back_up_to_the_most() -> None:
    downs = [1280]
    while downs[-1]:
        downs.append(step_points(downs[-1], 1280, False, RULE))
    assert downs == [1280, 1200, 1100, 1000, 900, 800, 700, 600, 500, 400, 300, 200, 100, 0]
    assert [step_points(p, 1280, True, RULE) for p in (0, 100, 1100, 1200, 1280)] == [
        100,
        200,
        1200,
        1280,
        1280,
    ]


def test_larger_redemptions_stride_five_or_ten_yuan() -> None:
    assert (points_stride(2000, RULE), points_stride(2100, RULE), points_stride(10100, RULE)) == (
        100,
        500,
        1000,
    )
    assert step_points(9000, 9000, False, RULE) == 8500


def test_an_amount_under_the_minimum_falls_to_zero_and_plus_starts_at_the_minimum() -> None:
    strict = RULE.model_copy(update={"min_points": 300})
    assert step_points(300, 1280, False, strict) == 0
    assert step_points(0, 1280, True, strict) == 300


def test_the_chosen_points_pay_their_worth_and_the_price_left_follows() -> None:
    # ¥32.40 due, 1280 points: the most is all 1280 (¥12.80, under half of the sale)
    most = member_options(5000, 1280, 3240, 3240, 0, RULE)
    assert (most.points, most.points_most, most.points_left_to_pay_fen) == (
        PointsDraw(1280, 1280),
        1280,
        1960,
    )
    chosen = member_options(5000, 1280, 3240, 3240, 0, RULE, wanted_points=500)
    assert (chosen.points, chosen.points_chosen, chosen.points_left_to_pay_fen) == (
        PointsDraw(500, 500),
        True,
        2740,
    )
    none = member_options(5000, 1280, 3240, 3240, 0, RULE, wanted_points=0)
    assert (none.points, none.usable("points"), none.points_left_to_pay_fen) == (
        PointsDraw(reason="points_chosen_none"),
        False,
        3240,
    )


def test_a_choice_above_the_most_is_the_most_and_odd_points_round_down_to_whole_fen() -> None:
    assert member_options(0, 1280, 1000, 1000, 0, RULE, wanted_points=900).points == PointsDraw(
        500, 500, share_capped=True
    )
    coarse = RedeemRule(points_per_yuan=300, max_share_percent=100)  # 3 points = 1 fen
    assert member_options(0, 1000, 5000, 5000, 0, coarse, wanted_points=100).points == PointsDraw(99, 33)
