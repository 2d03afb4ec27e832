"""Earning and redeeming points (积分). Integers only; every division rounds down.

The earn base is what the shopper actually paid with money that earns: line
amounts after discounts and coupons, minus the part of the sale paid with
points or with stored-value bonus money (赠送金额). That part is removed
proportionally from every line, so per-product multipliers still apply fairly.
"""

import datetime as dt
import math
from dataclasses import dataclass

from kiosk.domain.loyalty.errors import InsufficientBalance, LoyaltyError
from kiosk.domain.loyalty.holidays import holiday_bonus
from kiosk.domain.loyalty.rules import EarnRule, HolidayRule, RedeemRule, Reward

PERCENT = 100


@dataclass(frozen=True)
class EarnLine:
    """One sale line as the earn rule sees it: what was paid for it after discounts."""

    sku: str
    category: str
    net_fen: int


@dataclass(frozen=True)
class EarnContext:
    """Who earns and when: the sale's local date, the member's birthday and tier."""

    day: dt.date
    birthday: dt.date | None = None
    tier_multiplier: int = PERCENT


@dataclass(frozen=True)
class EarnResult:
    """Points earned and why, for the ledger entry and the receipt."""

    points: int
    eligible_fen: int
    multipliers: tuple[tuple[str, int], ...]

    @property
    def rule(self) -> str:
        """A short description stored on the ledger entry, e.g. ``earn tier=150 春节=300``."""
        parts = " ".join(f"{name}={value}" for name, value in self.multipliers)
        return f"earn {parts}".strip()


def line_multiplier(line: EarnLine, rule: EarnRule) -> int:
    """The line's multiplier percent: 0 when excluded, the product's, else the category's."""
    if line.sku in rule.excluded_skus or line.category in rule.excluded_categories:
        return 0
    if line.sku in rule.product_multipliers:
        return rule.product_multipliers[line.sku]
    return rule.category_multipliers.get(line.category, PERCENT)


def bonus_multipliers(
    rule: EarnRule, holidays: tuple[HolidayRule, ...], ctx: EarnContext
) -> list[tuple[str, int]]:
    """The sale-level bonus multipliers that apply (birthday month, holiday), after stacking."""
    found: list[tuple[str, int]] = []
    if ctx.birthday is not None and ctx.birthday.month == ctx.day.month:
        found.append(("birthday", rule.birthday_multiplier))
    holiday = holiday_bonus(holidays, ctx.day)
    if holiday is not None:
        found.append(holiday)
    if rule.bonus_stacking == "highest" and found:
        return [max(found, key=lambda item: item[1])]
    return found


def earn_points(
    lines: list[EarnLine],
    non_earning_paid_fen: int,
    rule: EarnRule,
    ctx: EarnContext,
    holidays: tuple[HolidayRule, ...] = (),
) -> EarnResult:
    """Points earned by a sale; ``non_earning_paid_fen`` is what points and bonus money paid.

    One floor at the very end, over an exact integer fraction, so no multiplier
    loses a fraction of a point on the way.
    """
    total = sum(line.net_fen for line in lines)
    earning_paid = max(0, total - max(0, non_earning_paid_fen))
    if total <= 0 or earning_paid == 0:
        return EarnResult(0, 0, ())
    weighted = sum(line.net_fen * line_multiplier(line, rule) for line in lines)
    eligible = sum(line.net_fen for line in lines if line_multiplier(line, rule) > 0)
    rate_num, rate_den = _rate(rule)
    multipliers = [("tier", ctx.tier_multiplier), *bonus_multipliers(rule, holidays, ctx)]
    num = weighted * earning_paid * rate_num
    den = total * PERCENT * rate_den
    for _, value in multipliers:
        num *= value
        den *= PERCENT
    shown = tuple(m for m in multipliers if m[1] != PERCENT)
    return EarnResult(num // den, eligible * earning_paid // total, shown)


def _rate(rule: EarnRule) -> tuple[int, int]:
    """Points per fen as a fraction."""
    if rule.mode == "per_yuan":
        return rule.points_per_yuan, 100
    return rule.percent, 100 * PERCENT


@dataclass(frozen=True)
class RedeemQuote:
    """How many points pay how many fen of a sale."""

    points: int
    fen: int


def points_value_fen(points: int, rule: RedeemRule) -> int:
    """What ``points`` are worth in fen, rounded down."""
    return points * 100 // rule.points_per_yuan


def redeem_quote(
    balance: int, amount_due_fen: int, rule: RedeemRule, wanted_points: int | None = None
) -> RedeemQuote:
    """The largest redemption allowed: within the balance, the share cap and ``wanted_points``.

    Points are used in whole steps that are worth a whole number of fen (at 10
    points per yuan, 1 point = 10 fen; at 300 points per yuan, 3 points = 1 fen),
    so no point is spent for a fraction of a fen.
    """
    step_gcd = math.gcd(100, rule.points_per_yuan)
    step_points, step_fen = rule.points_per_yuan // step_gcd, 100 // step_gcd
    cap_fen = max(0, amount_due_fen) * rule.max_share_percent // PERCENT
    limit = max(0, balance) if wanted_points is None else min(max(0, balance), wanted_points)
    steps = min(cap_fen // step_fen, limit // step_points)
    points = steps * step_points
    if points < max(rule.min_points, 1):
        return RedeemQuote(0, 0)
    return RedeemQuote(points, steps * step_fen)


def redeem_reward(balance: int, reward: Reward, quantity: int = 1) -> int:
    """The points ``quantity`` of ``reward`` cost; raises when the balance is short."""
    if quantity < 1:
        raise LoyaltyError(f"reward quantity must be at least 1, got {quantity}")
    cost = reward.points * quantity
    if cost > balance:
        raise InsufficientBalance(
            f"{reward.name_zh} needs {cost} points, the member has {balance} / 积分不足"
        )
    return cost
