"""Checkout pricing for a member: tier discount, then coupons, with a breakdown to show.

Order of application (each step works on what the previous one left):
1. the tier's member discount (会员折扣) on every line;
2. item-level coupons, in the order given;
3. the one order-level coupon (满减 or percent), spread over the lines it
   covers in proportion to what they still cost.
Every discount is kept per line, so refunds of some lines and the earn rule
(which needs per-line net amounts) see exactly what each line cost.
"""

import datetime as dt
import itertools
from dataclasses import dataclass

from kiosk.domain.cart import Cart
from kiosk.domain.loyalty.coupons import (
    ORDER_LEVEL,
    PERCENT,
    Coupon,
    CouponKind,
    CouponNotApplicable,
    allocate,
    check_stacking,
    check_usable,
)
from kiosk.domain.loyalty.points import EarnLine


@dataclass(frozen=True)
class PricedLine:
    """A cart line with its list amount and what the shopper pays after discounts."""

    sku: str
    category: str
    quantity: int
    unit_fen: int
    list_fen: int
    net_fen: int


@dataclass(frozen=True)
class Discount:
    """One discount in the breakdown: where it came from, how much, and on which lines."""

    source: str
    label_zh: str
    amount_fen: int
    per_line: tuple[int, ...]


@dataclass(frozen=True)
class PricedCart:
    """The priced sale: lines, every discount applied, and the totals."""

    lines: tuple[PricedLine, ...]
    discounts: tuple[Discount, ...]
    coupon_ids: tuple[str, ...]

    @property
    def list_total_fen(self) -> int:
        """What the items cost before any discount."""
        return sum(line.list_fen for line in self.lines)

    @property
    def total_fen(self) -> int:
        """What the shopper pays."""
        return sum(line.net_fen for line in self.lines)

    @property
    def discount_fen(self) -> int:
        """All discounts together."""
        return sum(d.amount_fen for d in self.discounts)

    def earn_lines(self) -> list[EarnLine]:
        """The lines as the earn rule needs them (net of every discount)."""
        return [EarnLine(line.sku, line.category, line.net_fen) for line in self.lines]


def price_cart(
    cart: Cart,
    coupons: tuple[Coupon, ...],
    now: dt.datetime,
    member_id: str = "",
    member_discount_percent: int = 0,
) -> PricedCart:
    """Apply the member discount and ``coupons`` to ``cart``; raise if a coupon cannot apply."""
    check_stacking(coupons)
    for coupon in coupons:
        check_usable(coupon, now, member_id)
    lines = [
        PricedLine(
            line.product.sku,
            line.product.category,
            line.quantity,
            line.product.price_fen,
            line.total_fen,
            line.total_fen,
        )
        for line in cart.lines
    ]
    discounts: list[Discount] = []
    if member_discount_percent:
        per_line = [line.net_fen * member_discount_percent // PERCENT for line in lines]
        label = f"会员折扣 {member_discount_percent}%"
        discounts.append(Discount("tier", label, sum(per_line), tuple(per_line)))
        lines = reduce_lines(lines, per_line)
    ordered = [c for c in coupons if c.kind not in ORDER_LEVEL] + [
        c for c in coupons if c.kind in ORDER_LEVEL
    ]
    for coupon in ordered:
        discount = coupon_discount(coupon, lines)
        if discount.amount_fen == 0:
            raise CouponNotApplicable(f"{coupon.name_zh}: nothing in the cart qualifies / 不满足使用条件")
        discounts.append(discount)
        lines = reduce_lines(lines, list(discount.per_line))
    return PricedCart(tuple(lines), tuple(discounts), tuple(c.id for c in ordered))


def coupon_discount(coupon: Coupon, lines: list[PricedLine]) -> Discount:
    """What ``coupon`` takes off ``lines`` as they stand (zero when nothing qualifies); no validity check."""
    per_line = _coupon_off(coupon, lines)
    return Discount(coupon.id, coupon.name_zh, sum(per_line), tuple(per_line))


def reduce_lines(lines: list[PricedLine], per_line: list[int]) -> list[PricedLine]:
    """``lines`` with ``per_line`` fen taken off each line's net amount."""
    return [
        PricedLine(ln.sku, ln.category, ln.quantity, ln.unit_fen, ln.list_fen, ln.net_fen - off)
        for ln, off in zip(lines, per_line, strict=True)
    ]


def _coupon_off(coupon: Coupon, lines: list[PricedLine]) -> list[int]:
    """Per-line fen off for ``coupon`` on ``lines`` (zeros when it does not qualify)."""
    covered = [ln.net_fen if coupon.covers(ln.sku, ln.category) else 0 for ln in lines]
    if sum(covered) < max(coupon.min_spend_fen, 1):
        return [0] * len(lines)
    if coupon.kind == CouponKind.THRESHOLD:
        return allocate(min(coupon.off_fen, sum(covered)), covered)
    if coupon.kind == CouponKind.PERCENT:
        off = sum(covered) * coupon.percent_off // PERCENT
        if coupon.max_off_fen:
            off = min(off, coupon.max_off_fen)
        return allocate(off, covered)
    if coupon.kind == CouponKind.ITEM_DISCOUNT:
        return [_item_off(coupon, ln) if c else 0 for ln, c in zip(lines, covered, strict=True)]
    if coupon.kind == CouponKind.FREE_ITEM:
        return _free_units(lines, covered, coupon.free_quantity, cheapest=False)
    free = sum(ln.quantity for ln, c in zip(lines, covered, strict=True) if c)
    free = free // (coupon.buy + coupon.get) * coupon.get if coupon.buy + coupon.get else 0
    return _free_units(lines, covered, free, cheapest=True)


def _item_off(coupon: Coupon, line: PricedLine) -> int:
    off = coupon.off_fen * line.quantity + line.net_fen * coupon.percent_off // PERCENT
    return min(off, line.net_fen)


def _free_units(lines: list[PricedLine], covered: list[int], units: int, cheapest: bool) -> list[int]:
    """Make ``units`` covered units free: the cheapest ones (买N送M) or the first line's (赠品)."""
    order = [i for i, c in enumerate(covered) if c]
    if cheapest:
        order.sort(key=lambda i: (lines[i].unit_fen, i))
    off = [0] * len(lines)
    for i in order:
        take = min(units, lines[i].quantity)
        off[i] = min(take * lines[i].unit_fen, lines[i].net_fen)
        units -= take
    return off


def best_coupons(
    cart: Cart,
    coupons: tuple[Coupon, ...],
    now: dt.datetime,
    member_id: str = "",
    member_discount_percent: int = 0,
    max_coupons: int = 3,
) -> PricedCart:
    """The allowed combination of up to ``max_coupons`` coupons that saves the most.

    Ties go to fewer coupons, then to the earlier coupons in ``coupons``, so
    the member keeps the rest for later.
    """
    best = price_cart(cart, (), now, member_id, member_discount_percent)
    for size in range(1, max_coupons + 1):
        for combo in itertools.combinations(coupons, size):
            try:
                priced = price_cart(cart, combo, now, member_id, member_discount_percent)
            except CouponNotApplicable:
                continue
            if priced.total_fen < best.total_fen:
                best = priced
    return best
