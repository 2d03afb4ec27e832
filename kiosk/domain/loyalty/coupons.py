"""Coupons (优惠券): what each kind takes off, when it is valid, and how coupons stack.

Kinds: 满减 (spend X, Y off), percent off (折扣券), item discount (单品券),
free item (赠品券) and buy-N-get-M (买N送M). Item-level coupons act on lines
and may be combined; at most one order-level coupon (满减 or percent) is used
per sale; an ``exclusive`` coupon is used alone. Every discount is rounded
down: the shopper never gets a fraction of a fen that the rule did not promise.
"""

import dataclasses
import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from kiosk.domain.loyalty.errors import CouponNotApplicable
from kiosk.domain.money import format_fen

PERCENT = 100


class CouponKind(StrEnum):
    """What a coupon does."""

    THRESHOLD = "threshold"  # 满减
    PERCENT = "percent"  # 折扣
    ITEM_DISCOUNT = "item_discount"  # 单品优惠
    FREE_ITEM = "free_item"  # 赠品
    BUY_N_GET_M = "buy_n_get_m"  # 买N送M


ORDER_LEVEL = frozenset({CouponKind.THRESHOLD, CouponKind.PERCENT})


@dataclass(frozen=True)
class Coupon:
    """One coupon held by a member (or a campaign coupon anyone may use).

    ``skus``/``categories`` limit which lines the coupon acts on (empty: all).
    ``off_fen`` is the 满减 amount or the per-unit item discount; ``percent_off``
    is 10 for 10% off (九折); ``max_off_fen`` caps a percent coupon (0: no cap).
    """

    id: str
    kind: CouponKind
    name_zh: str
    valid_from: dt.datetime
    valid_until: dt.datetime
    min_spend_fen: int = 0
    off_fen: int = 0
    percent_off: int = 0
    max_off_fen: int = 0
    skus: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    free_quantity: int = 1
    buy: int = 0
    get: int = 0
    single_use: bool = True
    exclusive: bool = False
    member_id: str = ""
    used: bool = False
    occasion: str = ""  # the automatic campaign that issued it (``winback``, ``birthday``...); "" otherwise

    def covers(self, sku: str, category: str) -> bool:
        """True when the coupon acts on a line of ``sku`` in ``category``."""
        if not self.skus and not self.categories:
            return True
        return sku in self.skus or category in self.categories


def coupon_names(coupon: Coupon) -> dict[str, str]:
    """What to call ``coupon`` on screen: the owner's Chinese name, and English from its terms.

    Owners name coupons in Chinese only (满30减5); an English shopper reads what the coupon
    does instead: "¥5.00 off over ¥30.00", "12% off (up to ¥20.00)", "Buy 2 get 1 free".
    """

    over = f" over {format_fen(coupon.min_spend_fen)}" if coupon.min_spend_fen else ""
    if coupon.kind is CouponKind.THRESHOLD:
        english = f"{format_fen(coupon.off_fen)} off{over}"
    elif coupon.kind is CouponKind.PERCENT:
        cap = f" (up to {format_fen(coupon.max_off_fen)})" if coupon.max_off_fen else ""
        english = f"{coupon.percent_off}% off{over}{cap}"
    elif coupon.kind is CouponKind.ITEM_DISCOUNT:
        english = f"{format_fen(coupon.off_fen)} off an item{over}"
    elif coupon.kind is CouponKind.FREE_ITEM:
        english = f"{coupon.free_quantity} free item{'s' if coupon.free_quantity > 1 else ''}{over}"
    else:
        english = f"Buy {coupon.buy} get {coupon.get} free{over}"
    return {"zh": coupon.name_zh, "en": english}


def check_usable(coupon: Coupon, now: dt.datetime, member_id: str = "") -> None:
    """Raise CouponNotApplicable if ``coupon`` cannot be used at ``now`` by ``member_id``."""
    if not coupon.valid_from <= now < coupon.valid_until:
        raise CouponNotApplicable(
            f"{coupon.name_zh}: valid {coupon.valid_from:%Y-%m-%d} to "
            f"{coupon.valid_until:%Y-%m-%d} / 不在有效期内"
        )
    if coupon.single_use and coupon.used:
        raise CouponNotApplicable(f"{coupon.name_zh}: already used / 已使用")
    if coupon.member_id and coupon.member_id != member_id:
        raise CouponNotApplicable(f"{coupon.name_zh}: belongs to another member / 非本人优惠券")


def check_stacking(coupons: tuple[Coupon, ...]) -> None:
    """Raise CouponNotApplicable when ``coupons`` may not be used together."""
    ids = [c.id for c in coupons]
    if len(set(ids)) != len(ids):
        raise CouponNotApplicable("the same coupon twice / 同一张券不能重复使用")
    if len(coupons) > 1 and any(c.exclusive for c in coupons):
        raise CouponNotApplicable("an exclusive coupon cannot be combined / 该券不可与其他券同用")
    if sum(1 for c in coupons if c.kind in ORDER_LEVEL) > 1:
        raise CouponNotApplicable("only one 满减 or discount coupon per sale / 整单券每单限用一张")


def coupons_to_restore(
    coupon_ids: tuple[str, ...], sale_total_fen: int, refunded_fen: int
) -> tuple[str, ...]:
    """Coupons given back after refunds totalling ``refunded_fen``: all of them, on a full refund only.

    A coupon cannot be split; on a partial refund the shopper keeps what the
    coupon saved on the lines not returned, and the returned lines are refunded
    at their discounted price.
    """
    return coupon_ids if refunded_fen >= sale_total_fen else ()


def allocate(amount: int, weights: list[int]) -> list[int]:
    """Split ``amount`` over ``weights`` proportionally, exactly (largest remainder).

    Each share is at most its weight when ``amount <= sum(weights)``; ties go to
    the earlier line, so the split is deterministic.
    """
    whole = sum(weights)
    if amount == 0 or whole == 0:
        return [0] * len(weights)
    shares = [amount * w // whole for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(amount * weights[i] % whole), i))
    for i in remainders[: amount - sum(shares)]:
        shares[i] += 1
    return shares


_COUPON_FIELDS = tuple(f.name for f in dataclasses.fields(Coupon))


def coupon_to_dict(coupon: Coupon) -> dict[str, object]:
    """``coupon`` as JSON-ready data (the form the hub stores and sends to terminals)."""
    # a shallow copy: the fields that are not str/int/bool are replaced just below, so the deep
    # copy ``asdict`` makes of the dates and sets was waste (most of a member snapshot's apply)
    body = {name: getattr(coupon, name) for name in _COUPON_FIELDS}
    if not coupon.occasion:
        del body["occasion"]  # a coupon without one keeps the body (and the event hashes) it always had
    body.update(
        kind=str(coupon.kind),
        valid_from=coupon.valid_from.isoformat(),
        valid_until=coupon.valid_until.isoformat(),
        skus=sorted(coupon.skus),
        categories=sorted(coupon.categories),
    )
    return body


def coupon_from_dict(body: dict[str, object]) -> Coupon:
    """The coupon :func:`coupon_to_dict` wrote; keys a newer hub added are left out, not refused."""
    fields = {name: value for name, value in body.items() if name in _COUPON_FIELDS}
    fields.update(
        kind=CouponKind(str(body["kind"])),
        valid_from=dt.datetime.fromisoformat(str(body["valid_from"])),
        valid_until=dt.datetime.fromisoformat(str(body["valid_until"])),
        skus=frozenset(body.get("skus", ())),  # type: ignore[call-overload]
        categories=frozenset(body.get("categories", ())),  # type: ignore[call-overload]
    )
    return Coupon(**fields)  # type: ignore[arg-type]
