"""The pay screen's member texts: what 储值支付 / 积分抵扣 pay or why not, and each coupon's state.

Plain functions over :mod:`kiosk.domain.member_choices` and the string table, so pay.kv
can import them while :mod:`kiosk.screens.pay` is still loading.
"""

from kiosk import i18n
from kiosk.domain.member_choices import CouponChoice, CouponState, MemberDraw, MemberOptions
from kiosk.domain.money import format_fen
from kiosk.translations import N_

# Keys made from a choice's name (override_for_{draw}, coupon_{state}_locked): declared for extraction.
_COMPUTED_KEYS = (
    N_("override_for_points"),
    N_("override_for_stored_value"),
    N_("coupon_on_locked"),
    N_("coupon_off_locked"),
)


def member_button_text(
    draw: str, lang: str, options: MemberOptions | None, override_draw: str, signed_in: bool
) -> str:
    """储值支付 / 积分抵扣 with what a tap pays, the reason it cannot, or the staff override it offers."""
    if draw and override_draw == draw:
        button = i18n.tr("override_cap_button", lang)
        return f"{button}\n{i18n.tr(f'override_for_{draw}', lang)}"
    if draw == MemberDraw.STORED_VALUE:
        head = i18n.tr("member_pay_stored", lang)
    else:
        head = i18n.tr("member_pay_points", lang, points=options.points_left if options else 0)
    if not signed_in or options is None:
        sign_in = i18n.tr("member_pay_sign_in", lang)
        return f"{head}\n{sign_in}"
    if draw == MemberDraw.STORED_VALUE:
        reason = options.stored_value_reason
        detail = i18n.tr(reason or "member_stored_balance", lang, amount=format_fen(options.stored_value_fen))
        return f"{head}\n{detail}"
    draw_now = options.points
    if draw_now.reason == "points_chosen_none":
        return f"{head}\n{i18n.tr('points_chosen_none', lang)}"
    if draw_now.reason:
        return f"{head}\n{i18n.tr(draw_now.reason, lang, **draw_now.values)}"
    key = N_("member_points_capped") if draw_now.share_capped else N_("member_points_worth")
    worth = i18n.tr(
        key, lang, points=draw_now.points, amount=format_fen(draw_now.fen), percent=options.share_percent
    )
    return f"{head}\n{worth}"


def coupon_text(choice: CouponChoice, lang: str, locked: bool = False) -> str:
    """The coupon's name over what a tap does (or why it cannot be used on this cart).

    ``locked``: paying has begun, the total is fixed, a tap does nothing: no "tap to" hint.
    """
    name = choice.name.get(lang) or choice.name["zh"]
    state = {
        CouponState.USED: N_("coupon_on"),
        CouponState.KEPT: N_("coupon_off"),
        CouponState.NOT_HERE: N_("coupon_not_here"),
        CouponState.NOT_WITH: N_("coupon_not_with"),
    }[choice.state]
    if locked and choice.can_toggle:
        state += "_locked"
    return f"{name}\n{i18n.tr(state, lang, off=format_fen(choice.off_fen))}"


def points_choice_text(lang: str, options: MemberOptions | None) -> str:
    """Between the points stepper's − and +: the points chosen and what is then left to pay."""
    if options is None or not options.points_most:
        return ""
    draw = options.points
    left = format_fen(options.points_left_to_pay_fen)
    if draw.reason:
        return i18n.tr("points_choice_none", lang, left=left)
    return i18n.tr("points_choice", lang, points=draw.points, left=left)


def count_card_pay_text(choice: object, lang: str) -> str:
    """次卡抵扣 ¥30.00 / 洗车5次卡（剩 5 次）: what one visit pays, and the card with its visits left."""
    if choice is None:
        return ""
    names: dict[str, str] = choice.names  # type: ignore[attr-defined]
    fen: int = choice.fen  # type: ignore[attr-defined]
    left: int = choice.left  # type: ignore[attr-defined]
    head = i18n.tr("pay_count_card", lang, amount=format_fen(fen))
    card = i18n.ntr("pay_count_card_left", "pay_count_card_left_plural", left, lang, name=names.get(lang, ""))
    return f"{head}\n{card}"
