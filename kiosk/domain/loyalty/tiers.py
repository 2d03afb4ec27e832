"""Member tiers (会员等级): upgrade at once, downgrade only on evaluation dates after grace.

The qualifying amount is points earned or money spent (fen) inside a rolling
window of ``window_months`` ending on the day in question. A member whose
amount crosses a higher threshold moves up immediately (also offline; the hub
confirms). On an evaluation date a member below their tier's threshold gets a
grace period (保级期); at the first evaluation on or after its end, a member
still below is moved down to the tier the amount qualifies for.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from kiosk.domain.loyalty.dates import add_months
from kiosk.domain.loyalty.rules import Tier, TierRule


@dataclass(frozen=True)
class TierState:
    """A member's tier and, while below its threshold, when the grace period ends."""

    code: str
    grace_until: dt.date | None = None


def qualifying_amount(history: Iterable[tuple[dt.date, int]], on: dt.date, rule: TierRule) -> int:
    """Sum of (day, amount) items in the window ``(on - window_months, on]``."""
    start = add_months(on, -rule.window_months)
    return sum(amount for day, amount in history if start < day <= on)


def tier_for(amount: int, rule: TierRule) -> Tier:
    """The highest tier whose threshold ``amount`` reaches."""
    return [t for t in rule.tiers if t.threshold <= amount][-1]


def tier_by_code(code: str, rule: TierRule) -> Tier:
    """The tier named ``code``; an unknown code (a removed tier) counts as the lowest."""
    return next((t for t in rule.tiers if t.code == code), rule.tiers[0])


def _rank(code: str, rule: TierRule) -> int:
    return rule.tiers.index(tier_by_code(code, rule))


def upgrade(state: TierState, amount: int, rule: TierRule) -> TierState:
    """After a sale: move up if ``amount`` reaches a higher tier; never move down here."""
    qualified = tier_for(amount, rule)
    if rule.tiers.index(qualified) > _rank(state.code, rule):
        return TierState(qualified.code)
    if state.grace_until is not None and qualified.code == state.code:
        return TierState(state.code)  # back above the threshold: grace no longer needed
    return state


def is_evaluation_date(day: dt.date, rule: TierRule) -> bool:
    """Evaluation dates are the first day of each month listed in ``evaluation_months``."""
    return day.day == 1 and day.month in rule.evaluation_months


def evaluate(state: TierState, amount: int, on: dt.date, rule: TierRule) -> TierState:
    """The tier after the evaluation on ``on`` (call it on evaluation dates only)."""
    qualified = tier_for(amount, rule)
    if rule.tiers.index(qualified) >= _rank(state.code, rule):
        return TierState(qualified.code)
    if state.grace_until is None:
        return TierState(state.code, on + dt.timedelta(days=rule.grace_days))
    if on >= state.grace_until:
        return TierState(qualified.code)
    return state


def progress(amount: int, rule: TierRule) -> tuple[Tier, int] | None:
    """The next tier up and how much more is needed, or None at the top tier."""
    current = tier_for(amount, rule)
    index = rule.tiers.index(current)
    if index + 1 == len(rule.tiers):
        return None
    following = rule.tiers[index + 1]
    return following, following.threshold - amount


def birthday_gift(tier: Tier, birthday: dt.date | None, on: dt.date, last_gift_year: int | None) -> int:
    """Points the tier gives in the member's birthday month, once a year (生日礼)."""
    if birthday is None or birthday.month != on.month or last_gift_year == on.year:
        return 0
    return tier.birthday_gift_points
