"""The hub's second look at the coupons a terminal applied to a sale (券核对).

The terminal checked the coupons offline with what it knew; the hub checks them
again with the coupons as it issued them, at the sale's own time: validity
window, owner, stacking, minimum spend, and the amount each one took off. Every
disagreement is a :class:`CouponFinding`; the sale itself stands as sold.
"""

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from kiosk.domain.loyalty.coupons import Coupon, CouponNotApplicable, check_stacking, check_usable
from kiosk.domain.loyalty.pricing import PricedLine, coupon_discount, reduce_lines


@dataclass(frozen=True)
class AppliedCoupon:
    """A coupon as the terminal applied it: its id, the fen it took off, and where."""

    coupon_id: str
    amount_fen: int
    per_line: tuple[int, ...]


@dataclass(frozen=True)
class CouponFinding:
    """One disagreement: ``problem`` is ``terms``, ``stacking`` or ``amount``."""

    coupon_id: str
    problem: str
    expected_fen: int
    applied_fen: int
    detail: str


def recheck_coupons(
    lines: Sequence[PricedLine],
    applied: Sequence[AppliedCoupon],
    known: Mapping[str, Coupon],
    at: dt.datetime,
    member_id: str,
) -> list[CouponFinding]:
    """Re-apply ``applied`` coupons, in the terminal's order, to ``lines`` (after the member discount).

    A coupon the hub never issued (not in ``known``) cannot be judged: its
    amount is taken as applied so the coupons after it are priced on what the
    shopper really paid. Single use across sales is the caller's check.
    """
    findings: list[CouponFinding] = []
    current = list(lines)
    accepted: list[Coupon] = []
    for used in applied:
        coupon = known.get(used.coupon_id)
        if coupon is None:
            current = reduce_lines(current, list(used.per_line))
            continue
        problem = _refusal(replace(coupon, used=False), accepted, at, member_id)
        if problem is not None:
            findings.append(CouponFinding(coupon.id, problem[0], 0, used.amount_fen, problem[1]))
            current = reduce_lines(current, list(used.per_line))
            continue
        discount = coupon_discount(coupon, current)
        if discount.amount_fen == 0:
            detail = f"{coupon.name_zh}: minimum spend not reached / 未达到使用门槛"
            findings.append(CouponFinding(coupon.id, "terms", 0, used.amount_fen, detail))
            current = reduce_lines(current, list(used.per_line))
            continue
        accepted.append(coupon)
        if discount.amount_fen != used.amount_fen:
            detail = f"{coupon.name_zh}: takes off {discount.amount_fen} fen, terminal took {used.amount_fen}"
            findings.append(CouponFinding(coupon.id, "amount", discount.amount_fen, used.amount_fen, detail))
        current = reduce_lines(current, list(discount.per_line))
    return findings


def _refusal(
    coupon: Coupon, accepted: list[Coupon], at: dt.datetime, member_id: str
) -> tuple[str, str] | None:
    try:
        check_usable(coupon, at, member_id)
    except CouponNotApplicable as exc:
        return "terms", str(exc)
    try:
        check_stacking((*accepted, coupon))
    except CouponNotApplicable as exc:
        return "stacking", f"{coupon.name_zh}: {exc}"
    return None
