"""Coupons a member holds on this terminal."""

import json

from kiosk.domain.loyalty import Coupon
from kiosk.domain.loyalty.coupons import coupon_from_dict, coupon_to_dict
from kiosk.store.member_models import (
    CouponRow,
)


def add_coupon(coupon: Coupon) -> None:
    """Store a coupon the member holds (from the hub, a campaign or registration)."""
    CouponRow.insert(
        id=coupon.id,
        member_id=coupon.member_id,
        body=json.dumps(coupon_to_dict(coupon), ensure_ascii=False),
        single_use=coupon.single_use,
    ).on_conflict_ignore().execute()


def _coupon(row: CouponRow) -> Coupon:
    return coupon_from_dict({**json.loads(row.body), "used": row.used_sale_id is not None})


def member_coupons(member_id: str) -> list[Coupon]:
    """Every coupon of the member (used ones included, flagged ``used``)."""
    return [_coupon(r) for r in CouponRow.select().where(CouponRow.member_id == member_id)]
