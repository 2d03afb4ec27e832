"""Coupons a member holds on this terminal."""

import json

from kiosk.domain.loyalty import Coupon
from kiosk.domain.loyalty.coupons import coupon_from_dict, coupon_to_dict
from kiosk.store.connection import database
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


# Plain SQL: read on every scan while a member is identified (the cart's member price).
_MEMBER_COUPONS = "SELECT body, used_sale_id FROM coupon_row WHERE member_id = ?"


def member_coupons(member_id: str) -> list[Coupon]:
    """Every coupon of the member (used ones included, flagged ``used``)."""
    rows = database.execute_sql(_MEMBER_COUPONS, (member_id,)).fetchall()
    return [coupon_from_dict({**json.loads(body), "used": used is not None}) for body, used in rows]
