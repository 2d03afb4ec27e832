"""Campaign targeting and coupon issue, and the hub's re-check of applied coupons (exact fen)."""

import datetime as dt

import pytest
from pydantic import ValidationError

from kiosk.domain.cart import Cart
from kiosk.domain.loyalty import CouponKind
from kiosk.domain.loyalty.campaigns import (
    CouponTemplate,
    MemberFacts,
    Target,
    coupon_id,
    is_targeted,
    issue_coupon,
)
from kiosk.domain.loyalty.coupon_check import AppliedCoupon, CouponFinding, recheck_coupons
from kiosk.domain.loyalty.coupons import coupon_from_dict, coupon_to_dict
from kiosk.domain.loyalty.pricing import price_cart
from tests.domain.test_loyalty_pricing import CART, MANJIAN, NOW, RICE, coupon

TODAY = dt.date(2026, 3, 1)
ANNA = MemberFacts("m-anna", "gold", frozenset({"VIP"}), 3, dt.date(2026, 2, 22))
BO = MemberFacts("m-bo", "normal", frozenset(), None, dt.date(2025, 12, 1))


@pytest.mark.parametrize(
    ("target", "anna", "bo"),
    [
        (Target(kind="all"), True, True),
        (Target(kind="tier", tier="gold"), True, False),
        (Target(kind="tag", tag="VIP"), True, False),
        (Target(kind="tag", tag="宝妈"), False, False),
        (Target(kind="birthday_month", month=3), True, False),
        (Target(kind="birthday_month", month=12), False, False),
        (Target(kind="registered_within", days=7), True, False),  # 2026-02-22 is 7 days before
        (Target(kind="registered_within", days=6), False, False),
        (Target(kind="registered_within", days=90), True, True),  # 2025-12-01 is 90 days before
    ],
)
def test_targets_pick_members(target: Target, anna: bool, bo: bool) -> None:
    assert (is_targeted(target, ANNA, TODAY), is_targeted(target, BO, TODAY)) == (anna, bo)


def test_a_target_without_its_value_is_refused_with_a_bilingual_message() -> None:
    with pytest.raises(ValidationError, match="target tier needs its value / 请填写目标条件"):
        Target(kind="tier")


WELCOME = CouponTemplate(kind=CouponKind.THRESHOLD, name_zh="新人满50减10", min_spend_fen=5000, off_fen=1000,
                         valid_days=30)  # fmt: skip


def test_a_relative_window_starts_when_the_coupon_is_issued() -> None:
    issued = issue_coupon("camp-1", WELCOME, "m-anna", NOW)
    assert (issued.valid_from, issued.valid_until) == (NOW, NOW + dt.timedelta(days=30))
    assert (issued.kind, issued.min_spend_fen, issued.off_fen, issued.member_id) == (
        CouponKind.THRESHOLD, 5000, 1000, "m-anna"
    )  # fmt: skip
    assert issued.id == coupon_id("camp-1", "m-anna") == issue_coupon("camp-1", WELCOME, "m-anna", NOW).id
    assert issued.id != coupon_id("camp-1", "m-bo") != coupon_id("camp-2", "m-anna")
    assert coupon_from_dict(coupon_to_dict(issued)) == issued


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "threshold", "off_fen": 1000}, "give valid_from and valid_until, or valid_days"),
        ({"kind": "threshold", "valid_days": 7}, "a threshold coupon needs off_fen > 0 / 满减金额"),
        ({"kind": "buy_n_get_m", "buy": 3, "valid_days": 7}, "buy > 0 and get > 0"),
        ({"kind": "free_item", "valid_days": 7}, "skus or categories / 赠品"),
        (
            {
                "kind": "percent",
                "percent_off": 10,
                "valid_from": "2026-03-02T00:00:00+08:00",
                "valid_until": "2026-03-01T00:00:00+08:00",
            },
            "valid_until must be after valid_from / 结束时间须晚于开始时间",
        ),
        ({"kind": "percent", "percent_off": 10, "valid_days": 7, "colour": "red"}, "Extra inputs"),
    ],
)
def test_bad_templates_are_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        CouponTemplate.model_validate({"name_zh": "券", **fields})


def applied(cart: Cart, *coupons: object) -> tuple[list, list[AppliedCoupon]]:  # type: ignore[type-arg]
    """The lines before coupons and the coupons as an honest terminal applied them."""
    priced = price_cart(cart, tuple(coupons), NOW, "m1")  # type: ignore[arg-type]
    return list(price_cart(cart, (), NOW, "m1").lines), [
        AppliedCoupon(d.source, d.amount_fen, d.per_line) for d in priced.discounts
    ]


NINE = coupon("9折", CouponKind.PERCENT, percent_off=10)
COLA_OFF = coupon("可乐立减", CouponKind.ITEM_DISCOUNT, off_fen=50, skus=frozenset({"cola"}))


def test_coupons_applied_as_issued_agree() -> None:
    lines, used = applied(CART, COLA_OFF, MANJIAN)
    known = {c.id: c for c in (COLA_OFF, MANJIAN)}
    assert [u.amount_fen for u in used] == [200, 2000]
    assert recheck_coupons(lines, used, known, NOW, "m1") == []


def test_expired_or_someone_elses_coupon_is_a_terms_finding() -> None:
    lines, used = applied(CART, MANJIAN)
    late = NOW + dt.timedelta(days=30)  # valid_until is exclusive
    assert recheck_coupons(lines, used, {MANJIAN.id: MANJIAN}, late, "m1") == [
        CouponFinding(
            "满100减20", "terms", 0, 2000, "满100减20: valid 2026-02-28 to 2026-03-31 / 不在有效期内"
        )
    ]
    theirs = {MANJIAN.id: coupon("满100减20", CouponKind.THRESHOLD, min_spend_fen=10000, off_fen=2000,
                                 member_id="m2")}  # fmt: skip
    [finding] = recheck_coupons(lines, used, theirs, NOW, "m1")
    assert (finding.problem, finding.expected_fen, finding.applied_fen) == ("terms", 0, 2000)
    assert finding.detail == "满100减20: belongs to another member / 非本人优惠券"


def test_unmet_minimum_spend_and_a_wrong_amount_are_reported_with_both_numbers() -> None:
    lines = list(price_cart(Cart().add(RICE), (), NOW, "m1").lines)  # ¥50 < ¥100
    forged = [AppliedCoupon(MANJIAN.id, 2000, (2000,))]
    assert recheck_coupons(lines, forged, {MANJIAN.id: MANJIAN}, NOW, "m1") == [
        CouponFinding("满100减20", "terms", 0, 2000, "满100减20: minimum spend not reached / 未达到使用门槛")
    ]
    lines, _used = applied(CART, NINE)  # 10% of 12690 = 1269
    greedy = [AppliedCoupon(NINE.id, 1500, (1200, 160, 140))]
    assert recheck_coupons(lines, greedy, {NINE.id: NINE}, NOW, "m1") == [
        CouponFinding("9折", "amount", 1269, 1500, "9折: takes off 1269 fen, terminal took 1500")
    ]


def test_two_order_coupons_break_the_stacking_rule() -> None:
    lines, first = applied(CART, MANJIAN)
    _, second = applied(CART, NINE)
    used = [*first, *second]
    [finding] = recheck_coupons(lines, used, {MANJIAN.id: MANJIAN, NINE.id: NINE}, NOW, "m1")
    assert (finding.coupon_id, finding.problem, finding.expected_fen, finding.applied_fen) == (
        "9折", "stacking", 0, 1269
    )  # fmt: skip
    assert finding.detail == "9折: only one 满减 or discount coupon per sale / 整单券每单限用一张"


def test_a_coupon_the_hub_did_not_issue_still_counts_for_the_ones_after_it() -> None:
    lines, used = applied(CART, COLA_OFF, NINE)  # cola 1400 -> 1200; 10% of 12490 = 1249
    assert [u.amount_fen for u in used] == [200, 1249]
    assert recheck_coupons(lines, used, {NINE.id: NINE}, NOW, "m1") == []
    assert recheck_coupons(lines, used[1:], {NINE.id: NINE}, NOW, "m1") == [
        CouponFinding("9折", "amount", 1269, 1249, "9折: takes off 1269 fen, terminal took 1249")
    ]
