"""Coupons a member holds on this terminal."""

import dataclasses
import datetime as dt
import json
from typing import Any

from kiosk.domain.loyalty import (
    Coupon,
    CouponKind,
)
from kiosk.store.member_models import (
    CouponRow,
)


def coupon_body(coupon: Coupon) -> dict[str, Any]:
    """The coupon's terms as plain JSON data (stored, and sent in events)."""
    body = dataclasses.asdict(coupon)
    body.update(
        kind=str(coupon.kind),
        valid_from=coupon.valid_from.isoformat(),
        valid_until=coupon.valid_until.isoformat(),
        skus=sorted(coupon.skus),
        categories=sorted(coupon.categories),
    )
    return body


def add_coupon(coupon: Coupon) -> None:
    """Store a coupon the member holds (from the hub, a campaign or registration)."""
    CouponRow.insert(
        id=coupon.id,
        member_id=coupon.member_id,
        body=json.dumps(coupon_body(coupon), ensure_ascii=False),
        single_use=coupon.single_use,
    ).on_conflict_ignore().execute()


def _coupon(row: CouponRow) -> Coupon:
    body = json.loads(row.body)
    body.update(
        kind=CouponKind(body["kind"]),
        valid_from=dt.datetime.fromisoformat(body["valid_from"]),
        valid_until=dt.datetime.fromisoformat(body["valid_until"]),
        skus=frozenset(body["skus"]),
        categories=frozenset(body["categories"]),
        used=row.used_sale_id is not None,
    )
    return Coupon(**body)


def member_coupons(member_id: str) -> list[Coupon]:
    """Every coupon of the member (used ones included, flagged ``used``)."""
    return [_coupon(r) for r in CouponRow.select().where(CouponRow.member_id == member_id)]
