"""The owner's loyalty rules in plain words, zh-CN or English, for the rules page.

Each function takes one part of :class:`LoyaltyRules` and returns sentences a
shop owner reads without knowing the JSON: "每消费 1 元得 1 积分" / "1 point per ¥1".
"""

import datetime as dt
from typing import Any

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
from kiosk.translations import N_


def _x(percent: int) -> str:
    """A multiplier percent as ×1.5."""
    return f"×{percent / 100:g}"


def earn_words(rule: EarnRule, lang: str) -> list[str]:
    """How purchases earn points."""
    zh = lang != "en"
    if rule.mode == "per_yuan":
        n = rule.points_per_yuan
        lines = [f"每消费 1 元得 {n} 积分" if zh else f"{n} point{'s' if n != 1 else ''} per ¥1"]
    else:
        lines = [
            f"按消费金额的 {rule.percent}% 得积分"
            if zh
            else f"{rule.percent}% of the amount (in ¥) as points"
        ]
    lines.append(
        "积分向下取整；用积分、优惠券或赠送储值支付的部分不积分"
        if zh
        else "Rounded down; nothing earned on the part paid with points, coupons or bonus money"
    )
    if rule.birthday_multiplier != 100:
        lines.append(
            f"生日当月积分 {_x(rule.birthday_multiplier)}"
            if zh
            else f"Birthday month: points {_x(rule.birthday_multiplier)}"
        )
    for name, table in (("品类", rule.category_multipliers), ("商品", rule.product_multipliers)):
        for key, percent in sorted(table.items()):
            lines.append(
                f"{name} {key}：积分 {_x(percent)}"
                if zh
                else f"{'Category' if name == '品类' else 'Product'} {key}: points {_x(percent)}"
            )
    excluded = sorted(rule.excluded_categories | rule.excluded_skus)
    if excluded:
        lines.append(f"不积分：{'、'.join(excluded)}" if zh else f"Never earn: {', '.join(excluded)}")
    return lines


def redeem_words(rule: RedeemRule, lang: str) -> list[str]:
    """How points pay."""
    if lang != "en":
        line = f"{rule.points_per_yuan} 积分抵 1 元，最多抵订单金额的 {rule.max_share_percent}%"
        return [line + (f"，每次至少 {rule.min_points} 积分" if rule.min_points else "")]
    line = f"{rule.points_per_yuan} points pay ¥1, up to {rule.max_share_percent}% of a sale"
    return [line + (f", at least {rule.min_points} points at a time" if rule.min_points else "")]


def expiry_words(rule: ExpiryRule, lang: str) -> list[str]:
    """When points expire."""
    if not rule.months:
        return ["积分永久有效" if lang != "en" else "Points never expire"]
    if lang != "en":
        return [f"积分在获得 {rule.months} 个月后过期（先到期的先用），提前 {rule.remind_days} 天提醒会员"]
    return [
        f"Points expire {rule.months} months after earning, oldest first; "
        f"members are reminded {rule.remind_days} days before"
    ]


ORDER = {
    "principal_first": ("先用本金，再用赠送金额", "principal first, then bonus money"),
    "bonus_first": ("先用赠送金额，再用本金", "bonus money first, then principal"),
    "proportional": ("本金与赠送金额按比例扣", "principal and bonus in proportion"),
}


def stored_value_words(rule: StoredValueRule, lang: str) -> list[str]:
    """Top-up bonuses, spending order, refunds."""
    zh = lang != "en"
    lines = [
        (
            f"充 {format_fen(b.min_fen)} 送 {format_fen(b.bonus_fen)}"
            if zh
            else f"Top up {format_fen(b.min_fen)}, get {format_fen(b.bonus_fen)} bonus"
        )
        for b in rule.bonus_tiers
    ] or ["充值无赠送" if zh else "No top-up bonus"]
    order = ORDER[rule.spend_order]
    lines.append(f"消费时{order[0]}" if zh else f"Spending uses {order[1]}")
    if rule.refund_deducts_used_bonus:
        lines.append("退卡时扣除已用的赠送金额" if zh else "A cash-out deducts bonus money already spent")
    return lines


def offline_words(rule: RiskCap, lang: str) -> list[str]:
    """What a member may spend on one terminal while the hub is unreachable."""
    if lang != "en":
        return [
            f"断网时，每位会员在每台终端最多用 {rule.offline_points} 积分、"
            f"储值 {format_fen(rule.offline_stored_value_fen)}"
        ]
    return [
        f"Offline, each member may spend at most {rule.offline_points} points and "
        f"{format_fen(rule.offline_stored_value_fen)} stored value per terminal"
    ]


def tier_words(rule: TierRule, lang: str) -> list[str]:
    """How tiers are earned and kept."""
    months = "、".join(str(m) for m in sorted(rule.evaluation_months))
    if lang != "en":
        basis = "消费金额" if rule.basis == "spend" else "获得积分"
        return [
            f"按最近 {rule.window_months} 个月的{basis}定级，达到门槛立即升级",
            f"降级只在每年 {months} 月 1 日评定，保级期 {rule.grace_days} 天",
        ]
    basis = "spend" if rule.basis == "spend" else "points earned"
    return [
        f"Tier by {basis} over the last {rule.window_months} months; upgrade as soon as a threshold is met",
        f"Downgrades only on the 1st of month {months}, after {rule.grace_days} days' grace",
    ]


def tier_rows(rule: TierRule, lang: str) -> list[dict[str, Any]]:
    """The tier ladder as table rows, lowest first."""
    rows = []
    for tier in rule.tiers:
        threshold = format_fen(tier.threshold) if rule.basis == "spend" else str(tier.threshold)
        if rule.basis == "points":
            threshold += " 积分" if lang != "en" else " points"
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
            calendar = (
                f"农历 {rule.month} 月 {rule.day} 日" if lang != "en" else f"lunar {rule.month}/{rule.day}"
            )
        else:
            start = dt.date(year, rule.month, rule.day)
            calendar = f"{rule.month} 月 {rule.day} 日" if lang != "en" else f"{rule.month}/{rule.day}"
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
