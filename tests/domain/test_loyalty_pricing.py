"""Coupons and checkout pricing, with an exact breakdown."""

import dataclasses
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.domain.cart import Cart, Product
from kiosk.domain.loyalty import Coupon, CouponKind, CouponNotApplicable, allocate
from kiosk.domain.loyalty.coupons import coupon_names, coupons_to_restore
from kiosk.domain.loyalty.pricing import best_coupons, price_cart

CST = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2026, 3, 1, 10, 0, tzinfo=CST)
RICE = Product("rice", "1", "大米", "Rice", 5000, "food")
COLA = Product("cola", "2", "可乐", "Cola", 350, "drink")
JUICE = Product("juice", "3", "果汁", "Juice", 600, "drink")
SOAP = Product("soap", "4", "香皂", "Soap", 1290, "daily")
CART = Cart().add(RICE, 2).add(COLA, 4).add(SOAP)  # 10000 + 1400 + 1290 = 12690


def coupon(cid: str, kind: CouponKind, **kw: object) -> Coupon:
    return Coupon(
        id=cid,
        kind=kind,
        name_zh=cid,
        valid_from=NOW - dt.timedelta(days=1),
        valid_until=NOW + dt.timedelta(days=30),
        **kw,  # type: ignore[arg-type]
    )


MANJIAN = coupon("满100减20", CouponKind.THRESHOLD, min_spend_fen=10000, off_fen=2000)


def nets(cart: Cart, *coupons: Coupon, discount: int = 0) -> list[int]:
    return [line.net_fen for line in price_cart(cart, coupons, NOW, "m1", discount).lines]


def test_manjian_is_spread_over_lines_exactly() -> None:
    priced = price_cart(CART, (MANJIAN,), NOW)
    assert priced.discounts[0].per_line == (1576, 221, 203)
    assert (priced.list_total_fen, priced.discount_fen, priced.total_fen) == (12690, 2000, 10690)


def test_manjian_below_threshold_is_refused() -> None:
    with pytest.raises(CouponNotApplicable, match="不满足使用条件"):
        price_cart(Cart().add(RICE), (MANJIAN,), NOW)


def test_percent_coupon_with_and_without_cap() -> None:
    assert price_cart(CART, (coupon("9折", CouponKind.PERCENT, percent_off=10),), NOW).total_fen == 11421
    capped = coupon("9折封顶10元", CouponKind.PERCENT, percent_off=10, max_off_fen=1000)
    assert price_cart(CART, (capped,), NOW).total_fen == 11690


def test_item_discount_per_unit() -> None:
    cola_off = coupon("可乐立减", CouponKind.ITEM_DISCOUNT, off_fen=50, skus=frozenset({"cola"}))
    assert nets(CART, cola_off) == [10000, 1200, 1290]


def test_free_item() -> None:
    gift = coupon("赠香皂", CouponKind.FREE_ITEM, skus=frozenset({"soap"}))
    assert nets(CART, gift) == [10000, 1400, 0]


def test_buy_three_get_one_frees_the_cheapest_unit() -> None:
    b3g1 = coupon("饮料买三送一", CouponKind.BUY_N_GET_M, buy=3, get=1, categories=frozenset({"drink"}))
    cart = Cart().add(JUICE, 2).add(COLA, 2)
    assert nets(cart, b3g1) == [1200, 350]
    assert nets(Cart().add(COLA, 7), b3g1) == [2100]
    with pytest.raises(CouponNotApplicable):
        price_cart(Cart().add(COLA, 3), (b3g1,), NOW)


def test_member_discount_then_coupon() -> None:
    priced = price_cart(CART, (MANJIAN,), NOW, "m1", 5)
    assert [d.per_line for d in priced.discounts] == [(500, 70, 64), (1576, 221, 203)]
    assert [line.net_fen for line in priced.lines] == [7924, 1109, 1023]
    assert priced.total_fen == 10056


def test_stacking_rules() -> None:
    nine = coupon("9折", CouponKind.PERCENT, percent_off=10)
    solo = coupon("独享", CouponKind.ITEM_DISCOUNT, off_fen=10, exclusive=True)
    with pytest.raises(CouponNotApplicable, match="整单券"):
        price_cart(CART, (MANJIAN, nine), NOW)
    with pytest.raises(CouponNotApplicable, match="不可与其他券同用"):
        price_cart(CART, (solo, MANJIAN), NOW)
    with pytest.raises(CouponNotApplicable, match="重复"):
        price_cart(CART, (MANJIAN, MANJIAN), NOW)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"valid_from": NOW + dt.timedelta(seconds=1)}, "不在有效期内"),
        ({"valid_until": NOW}, "不在有效期内"),
        ({"used": True}, "已使用"),
        ({"member_id": "m2"}, "非本人"),
    ],
)
def test_unusable_coupons_are_refused(change: dict[str, object], message: str) -> None:
    with pytest.raises(CouponNotApplicable, match=message):
        price_cart(CART, (dataclasses.replace(MANJIAN, **change),), NOW, "m1")  # type: ignore[arg-type]


def test_best_coupons_picks_the_largest_saving() -> None:
    cola_off = coupon("可乐立减", CouponKind.ITEM_DISCOUNT, off_fen=50, skus=frozenset({"cola"}))
    nine = coupon("9折", CouponKind.PERCENT, percent_off=10)
    best = best_coupons(CART, (nine, MANJIAN, cola_off), NOW)
    assert best.coupon_ids == ("可乐立减", "满100减20")
    assert best.total_fen == 10490


def test_coupon_is_restored_only_by_a_full_refund() -> None:
    assert coupons_to_restore(("c1",), 10000, 9999) == ()
    assert coupons_to_restore(("c1",), 10000, 10000) == ("c1",)


def test_allocate_ties_go_to_the_earlier_line() -> None:
    assert allocate(1, [100, 100]) == [1, 0]
    assert allocate(10, [1, 1, 1]) == [4, 3, 3]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=100_000), min_size=1, max_size=8), st.data())
def test_allocate_is_exact_and_bounded(weights: list[int], data: st.DataObject) -> None:
    amount = data.draw(st.integers(min_value=0, max_value=sum(weights)))
    shares = allocate(amount, weights)
    assert sum(shares) == (amount if sum(weights) else 0)
    assert all(0 <= s <= w for s, w in zip(shares, weights, strict=True))


@pytest.mark.parametrize(
    ("made", "english"),
    [
        (MANJIAN, "¥20.00 off over ¥100.00"),
        (coupon("九折", CouponKind.PERCENT, percent_off=10), "10% off"),
        (coupon("八八折", CouponKind.PERCENT, percent_off=12, min_spend_fen=5000, max_off_fen=2000),
         "12% off over ¥50.00 (up to ¥20.00)"),
        (coupon("可乐立减", CouponKind.ITEM_DISCOUNT, off_fen=50, skus=frozenset({"cola"})),
         "¥0.50 off an item"),
        (coupon("送可乐", CouponKind.FREE_ITEM, skus=frozenset({"cola"})), "1 free item"),
        (coupon("送两瓶", CouponKind.FREE_ITEM, free_quantity=2, min_spend_fen=3000),
         "2 free items over ¥30.00"),
        (coupon("买二送一", CouponKind.BUY_N_GET_M, buy=2, get=1), "Buy 2 get 1 free"),
    ],
)  # fmt: skip
def test_a_coupon_is_named_in_chinese_by_the_owner_and_in_english_by_what_it_does(
    made: Coupon, english: str
) -> None:
    assert coupon_names(made) == {"zh": made.name_zh, "en": english}
