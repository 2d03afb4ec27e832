"""What the shopper may choose on the pay screen: which member money to draw, which coupons to use.

Pure data and rules over :mod:`kiosk.domain.loyalty` (no store, no Kivy):
:class:`MemberOptions` says what 储值支付 and 积分抵扣 would pay now or why they
cannot, and :class:`CouponChoice` says whether each usable coupon is in the
cart's price, kept for later by the shopper, or not usable on this cart.
"""

import datetime as dt
import math
from dataclasses import dataclass, field
from enum import StrEnum

from kiosk.domain.cart import Cart
from kiosk.domain.loyalty import Coupon, CouponNotApplicable, PricedCart, price_cart, redeem_quote
from kiosk.domain.loyalty.coupons import coupon_names
from kiosk.domain.loyalty.rules import RedeemRule
from kiosk.translations import N_


class MemberDraw(StrEnum):
    """The member money one pay-screen button draws on (also the sale's payment method)."""

    STORED_VALUE = "stored_value"
    POINTS = "points"


@dataclass(frozen=True)
class PointsDraw:
    """What 积分抵扣 would redeem now, or why nothing (``reason`` is a string-table key)."""

    points: int = 0
    fen: int = 0
    share_capped: bool = False
    """The rules' most-of-a-sale share (``redeem.max_share_percent``) is what limits the redemption."""
    reason: str = ""
    values: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class MemberOptions:
    """The two member-payment buttons' state for what is left to pay.

    ``stored_value_fen`` and ``points_left`` are the balances less what this sale
    already took; each ``*_reason`` is empty when the button can be used.
    """

    stored_value_fen: int
    stored_value_pay_fen: int
    stored_value_reason: str
    points_left: int
    points: PointsDraw
    share_percent: int
    points_most: int = 0
    """The most points this sale can take now (the draw when the shopper chose nothing)."""
    points_chosen: bool = False
    """The shopper set how many points to use (``points`` is that choice, or the reason it is none)."""
    points_left_to_pay_fen: int = 0
    """What is left to pay once ``points`` are used: the price the points stepper shows."""

    def usable(self, draw: MemberDraw | str) -> bool:
        """Whether the button for ``draw`` pays anything now."""
        if draw == MemberDraw.STORED_VALUE:
            return not self.stored_value_reason
        return not self.points.reason


def points_draw(
    points_left: int, remaining_fen: int, due_fen: int, used_fen: int, rule: RedeemRule
) -> PointsDraw:
    """The largest redemption for up to ``remaining_fen``, within the rule's share of ``due_fen``.

    ``used_fen`` is what points already paid on this sale: the share cap covers the whole sale.
    :func:`kiosk.domain.loyalty.redeem_quote` sets the steps, the minimum and the cap.
    """
    share_left = max(0, due_fen * rule.max_share_percent // 100 - used_fen)
    limit_fen = max(0, min(remaining_fen, share_left))
    wanted = limit_fen * rule.points_per_yuan // 100
    quote = redeem_quote(points_left, due_fen, rule, wanted_points=wanted)
    if quote.points > 0:
        capped = share_left < remaining_fen and quote.fen + _step_fen(rule) > share_left
        return PointsDraw(quote.points, quote.fen, share_capped=capped)
    if points_left <= 0:
        return PointsDraw(reason=N_("points_none"))
    if rule.max_share_percent == 0:
        return PointsDraw(reason=N_("points_not_taken"))
    least = max(rule.min_points, _step_points(rule))
    if points_left < least:
        return PointsDraw(reason=N_("points_too_few"), values={"least": least})
    if used_fen > 0 and share_left < _step_fen(rule):
        return PointsDraw(reason=N_("points_share_used"), values={"percent": rule.max_share_percent})
    return PointsDraw(reason=N_("points_sale_too_small"), values={"percent": rule.max_share_percent})


def chosen_draw(most: PointsDraw, wanted: int | None, rule: RedeemRule) -> PointsDraw:
    """``most`` cut down to the shopper's ``wanted`` points (``None``: all of ``most``).

    The choice is rounded down to whole fen steps; below the rules' minimum it is
    no points at all (reason ``points_chosen_none``), which is a valid choice.
    """
    if wanted is None or most.reason or wanted >= most.points:
        return most
    steps = max(0, wanted) // _step_points(rule)
    points = steps * _step_points(rule)
    if points < max(rule.min_points, 1):
        return PointsDraw(reason=N_("points_chosen_none"))
    return PointsDraw(points, steps * _step_fen(rule))


def points_stride(most_points: int, rule: RedeemRule) -> int:
    """How many points one tap of the points stepper adds or takes: ¥1, ¥5 or ¥10 worth.

    Larger strides for larger redemptions keep the stepper to about twenty taps.
    """
    most_yuan = most_points // rule.points_per_yuan
    yuan = 1 if most_yuan <= 20 else 5 if most_yuan <= 100 else 10
    return yuan * rule.points_per_yuan


def step_points(current: int, most: int, up: bool, rule: RedeemRule) -> int:
    """The points after one tap of + (``up``) or − from ``current``, within 0..``most``.

    A step lands on a whole stride (+ from 1280 by 100s is not asked; − from 1280 is 1200);
    an amount under the rules' minimum falls to 0, and + from 0 starts at the minimum.
    """
    stride = points_stride(most, rule)
    least = max(rule.min_points, _step_points(rule))
    if up:
        target = (current // stride + 1) * stride
        return min(most, max(target, least))
    target = (-(-current // stride) - 1) * stride
    return max(0, target) if target >= least else 0


def _step_points(rule: RedeemRule) -> int:
    """The fewest points worth a whole number of fen (as :func:`redeem_quote` steps)."""
    return rule.points_per_yuan // _gcd(rule)


def _step_fen(rule: RedeemRule) -> int:
    return 100 // _gcd(rule)


def _gcd(rule: RedeemRule) -> int:
    return math.gcd(100, rule.points_per_yuan)


def member_options(
    stored_left: int,
    points_left: int,
    remaining_fen: int,
    due_fen: int,
    points_used_fen: int,
    rule: RedeemRule,
    wanted_points: int | None = None,
) -> MemberOptions:
    """What 储值支付 and 积分抵扣 would pay for ``remaining_fen`` of ``due_fen``.

    ``wanted_points`` is the shopper's choice on the points stepper (``None``: the most allowed).
    """
    stored_pay = max(0, min(remaining_fen, stored_left))
    most = points_draw(points_left, remaining_fen, due_fen, points_used_fen, rule)
    draw = chosen_draw(most, wanted_points, rule)
    return MemberOptions(
        stored_value_fen=max(0, stored_left),
        stored_value_pay_fen=stored_pay,
        stored_value_reason="" if stored_pay > 0 else N_("stored_value_none"),
        points_left=max(0, points_left),
        points=draw,
        share_percent=rule.max_share_percent,
        points_most=most.points,
        points_chosen=wanted_points is not None and not most.reason,
        points_left_to_pay_fen=max(0, remaining_fen - draw.fen),
    )


class CouponState(StrEnum):
    """Where a usable coupon stands on this cart."""

    USED = "used"  # in the price
    KEPT = "kept"  # the shopper keeps it for later
    NOT_HERE = "not_here"  # nothing in this cart qualifies
    NOT_WITH = "not_with"  # applies, but does not combine with the coupons in the price


@dataclass(frozen=True)
class CouponChoice:
    """One usable coupon as the pay screen offers it; ``off_fen`` is what it takes off when used."""

    coupon_id: str
    name: dict[str, str]
    state: CouponState
    off_fen: int = 0

    @property
    def can_toggle(self) -> bool:
        """Whether a tap changes it (used <-> kept)."""
        return self.state in (CouponState.USED, CouponState.KEPT)


def coupon_choices(
    coupons: list[Coupon],
    priced: PricedCart,
    declined: frozenset[str],
    cart: Cart,
    now: dt.datetime,
    member_id: str,
    discount_percent: int,
) -> tuple[CouponChoice, ...]:
    """Each usable coupon's state on ``cart`` priced as ``priced`` (with ``declined`` left out)."""
    choices = []
    for coupon in coupons:
        name = coupon_names(coupon)
        if coupon.id in priced.coupon_ids:
            off = sum(d.amount_fen for d in priced.discounts if d.source == coupon.id)
            choices.append(CouponChoice(coupon.id, name, CouponState.USED, off))
        elif coupon.id in declined:
            choices.append(CouponChoice(coupon.id, name, CouponState.KEPT))
        else:
            alone = _applies(cart, coupon, now, member_id, discount_percent)
            choices.append(
                CouponChoice(coupon.id, name, CouponState.NOT_WITH if alone else CouponState.NOT_HERE)
            )
    return tuple(choices)


def _applies(cart: Cart, coupon: Coupon, now: dt.datetime, member_id: str, discount_percent: int) -> bool:
    try:
        price_cart(cart, (coupon,), now, member_id, discount_percent)
    except CouponNotApplicable:
        return False
    return True
