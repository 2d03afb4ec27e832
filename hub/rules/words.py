"""The owner's loyalty rules in plain words, zh-CN or English, for the rules page.

Each function takes one part of :class:`LoyaltyRules` and returns sentences a
shop owner reads without knowing the JSON: "每消费 1 元得 1 积分" / "1 point per ¥1".
The sentences are the ``words_*`` messages of the hub catalog (``hub/locale``).
"""

import datetime as dt
from typing import Any

from hub.web.i18n import N_, nt, t
from kiosk.domain.loyalty import LoyaltyRules
from kiosk.domain.loyalty.holidays import lunar_to_solar
from kiosk.domain.loyalty.rules import (
    EarnRule,
    ExpiryRule,
    HolidayRule,
    RedeemRule,
    RiskCap,
    StoredValueRule,
    TierRule,
)
from kiosk.domain.money import format_fen


def _x(percent: int) -> str:
    """A multiplier percent as ×1.5."""
    return f"×{percent / 100:g}"


def earn_words(rule: EarnRule, lang: str) -> list[str]:
    """How purchases earn points."""
    if rule.mode == "per_yuan":
        lines = [nt("words_earn_per_yuan", "words_earn_per_yuan_plural", rule.points_per_yuan, lang)]
    else:
        lines = [t("words_earn_percent", lang, percent=rule.percent)]
    lines.append(t("words_earn_rounding", lang))
    if rule.birthday_multiplier != 100:
        lines.append(t("words_birthday", lang, x=_x(rule.birthday_multiplier)))
    for key, percent in sorted(rule.category_multipliers.items()):
        lines.append(t("words_category_multiplier", lang, code=key, x=_x(percent)))
    for key, percent in sorted(rule.product_multipliers.items()):
        lines.append(t("words_product_multiplier", lang, code=key, x=_x(percent)))
    excluded = sorted(rule.excluded_categories | rule.excluded_skus)
    if excluded:
        lines.append(t("words_never_earn", lang, items=t("words_separator", lang).join(excluded)))
    return lines


def redeem_words(rule: RedeemRule, lang: str) -> list[str]:
    """How points pay."""
    line = t("words_redeem", lang, points=rule.points_per_yuan, share=rule.max_share_percent)
    return [line + (t("words_redeem_min", lang, min=rule.min_points) if rule.min_points else "")]


def expiry_words(rule: ExpiryRule, lang: str) -> list[str]:
    """When points expire."""
    if not rule.months:
        return [t("words_never_expire", lang)]
    return [t("words_expiry", lang, months=rule.months, days=rule.remind_days)]


#: The order stored value is spent in (message keys).
ORDER = {
    "principal_first": N_("words_order_principal_first"),
    "bonus_first": N_("words_order_bonus_first"),
    "proportional": N_("words_order_proportional"),
}


def stored_value_words(rule: StoredValueRule, lang: str) -> list[str]:
    """Top-up bonuses, spending order, refunds."""
    lines = [
        t("words_top_up_bonus", lang, min=format_fen(b.min_fen), bonus=format_fen(b.bonus_fen))
        for b in rule.bonus_tiers
    ] or [t("words_no_top_up_bonus", lang)]
    lines.append(t("words_spend_order", lang, order=t(ORDER[rule.spend_order], lang)))
    if rule.refund_deducts_used_bonus:
        lines.append(t("words_refund_deducts_bonus", lang))
    return lines


def offline_words(rule: RiskCap, lang: str) -> list[str]:
    """What a member may spend on one terminal while the hub is unreachable."""
    amount = format_fen(rule.offline_stored_value_fen)
    return [t("words_offline", lang, points=rule.offline_points, amount=amount)]


def tier_words(rule: TierRule, lang: str) -> list[str]:
    """How tiers are earned and kept."""
    months = "、".join(str(m) for m in sorted(rule.evaluation_months))
    basis = t(N_("words_basis_spend") if rule.basis == "spend" else N_("words_basis_points"), lang)
    return [
        t("words_tier_window", lang, basis=basis, months=rule.window_months),
        t("words_tier_downgrade", lang, months=months, days=rule.grace_days),
    ]


def tier_rows(rule: TierRule, lang: str) -> list[dict[str, Any]]:
    """The tier ladder as table rows, lowest first."""
    rows = []
    for tier in rule.tiers:
        threshold = format_fen(tier.threshold) if rule.basis == "spend" else str(tier.threshold)
        if rule.basis == "points":
            threshold = t("words_threshold_points", lang, threshold=threshold)
        rows.append({
            "code": tier.code,
            "name": tier.name_zh if lang != "en" else (tier.name_en or tier.name_zh),
            "threshold": threshold,
            "discount": (f"{tier.discount_percent}%" if tier.discount_percent else "–"),
            "multiplier": _x(tier.points_multiplier),
            "gift": str(tier.birthday_gift_points) if tier.birthday_gift_points else "–",
        })  # fmt: skip
    return rows


def holiday_rows(holidays: tuple[HolidayRule, ...], year: int, lang: str) -> list[dict[str, str]]:
    """Each holiday with its dates in solar ``year`` (lunar ones converted) and its multiplier."""
    rows = []
    for rule in holidays:
        if rule.calendar == "lunar":
            start = lunar_to_solar(year, rule.month, rule.day)
            calendar = t("words_lunar_date", lang, month=rule.month, day=rule.day)
        else:
            start = dt.date(year, rule.month, rule.day)
            calendar = t("words_solar_date", lang, month=rule.month, day=rule.day)
        last = start + dt.timedelta(days=rule.days - 1)
        dates = start.isoformat() if rule.days == 1 else f"{start.isoformat()} – {last.isoformat()}"
        rows.append(
            {"name": rule.name_zh, "calendar": calendar, "dates": dates, "multiplier": _x(rule.multiplier)}
        )
    return rows


def summary(rules: LoyaltyRules, lang: str) -> list[tuple[str, list[str]]]:
    """Every part of the rules as (heading key, sentences), in page order."""
    return [
        (N_("rules_earn"), earn_words(rules.earn, lang)),
        (N_("rules_redeem"), redeem_words(rules.redeem, lang)),
        (N_("rules_expiry"), expiry_words(rules.expiry, lang)),
        (N_("rules_stored_value"), stored_value_words(rules.stored_value, lang)),
        (N_("rules_offline"), offline_words(rules.risk, lang)),
    ]
