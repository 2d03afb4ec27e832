"""Joining at the terminal: the versioned consent text, member PIN rules and the welcome coupon.

Pure: the time and the coupon id come in as arguments. The consent text is
what the member reads before anything is stored; its version is recorded with
the member (``consent_version``), so the shop can show later exactly which
text a member agreed to. Change the text only together with a new version.
"""

import datetime as dt

from kiosk.domain.loyalty.coupons import Coupon, CouponKind
from kiosk.domain.loyalty.errors import LoyaltyError
from kiosk.domain.loyalty.rules import RegistrationCoupon

CONSENT_VERSION = "kiosk-consent-2026-11"
# the separate, optional consent to marketing messages (PIPL: never bundled with membership)
MARKETING_VERSION = "kiosk-marketing-2026-12"

CONSENT_TEXT: dict[str, dict[str, str]] = {
    CONSENT_VERSION: {
        "zh": (
            "我们保存：您的手机号（用于在各门店识别您）、您愿意留下的称呼（用于问候）、"
            "您设置的会员密码（只保存不可还原的加密摘要），以及您的消费、积分、储值、"
            "优惠券和次卡流水（用于计算积分、等级和余额）。\n"
            "存放在：本店收银机与本商户的会员中心，手机号和称呼均加密保存，不提供给第三方。\n"
            "您可随时在“我的账户”中查看、导出或要求删除资料；删除后只保留不含个人信息的流水，"
            "以便账目相符。"
        ),
        "en": (
            "We store: your phone number (to recognise you in every shop), the name you choose to "
            "give (for greetings), the PIN you set (only as a one-way hash), and the record of your "
            "purchases, points, stored value, coupons and count cards (to compute points, tier and "
            "balances).\n"
            "Where: on this shop's terminals and the business's member hub; phone and name are "
            "encrypted and never given to third parties.\n"
            "In My account you can see, export or erase your data at any time; erasure keeps only "
            "an anonymous ledger so the accounts still add up."
        ),
    }
}

PIN_LENGTHS = range(4, 7)  # a member PIN chosen at the kiosk has 4 to 6 digits


class InvalidPin(LoyaltyError):
    """A PIN the member chose does not follow the rules; the text says how to fix it."""


def consent_text(lang: str, version: str = CONSENT_VERSION) -> str:
    """The consent text of ``version`` in ``lang`` (Chinese when the language is missing)."""
    text = CONSENT_TEXT[version]
    return text.get(lang) or text["zh"]


def check_new_pin(pin: str, again: str) -> None:
    """Raise :class:`InvalidPin` unless ``pin`` has 4–6 digits and ``again`` repeats it."""
    if not pin.isdigit() or len(pin) not in PIN_LENGTHS:
        raise InvalidPin("the PIN must be 4 to 6 digits / 密码须为4至6位数字")
    if len(set(pin)) == 1:
        raise InvalidPin("the PIN must not be one digit repeated / 密码不能全部相同")
    if pin != again:
        raise InvalidPin("the two PINs differ / 两次输入的密码不一致")


def registration_coupon(
    rule: RegistrationCoupon | None, member_id: str, coupon_id: str, now: dt.datetime
) -> Coupon | None:
    """The welcome coupon ``rule`` gives ``member_id`` joining at ``now``, or None without a rule."""
    if rule is None:
        return None
    return Coupon(
        id=coupon_id,
        kind=CouponKind.THRESHOLD,
        name_zh=rule.name_zh,
        min_spend_fen=rule.min_spend_fen,
        off_fen=rule.off_fen,
        valid_from=now,
        valid_until=now + dt.timedelta(days=rule.valid_days),
        member_id=member_id,
    )
