"""What a campaign really added: the members who received it against its holdout group.

For each group (``target``, ``holdout``) over the ``days`` after each member was assigned:
visit rate (share of members with at least one sale), spend per member (fen), and for the
target group the redemption rate (coupons used / issued). The differences come with a 95 %
confidence interval (normal approximation: two proportions; Welch for the means), so the owner
sees whether the difference could be chance.
"""

import datetime as dt
import math
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from hub.fleet.presence import as_utc
from hub.members.models import CampaignMember, HubCoupon, MemberSale

Z95 = 1.959964


@dataclass(frozen=True)
class GroupFigures:
    """One group's figures: members, members who visited, spend per member (each member's total)."""

    members: int
    visited: int
    spend: tuple[int, ...]  # fen per member, in member order

    @property
    def visit_rate(self) -> float:
        """Share of the group's members who visited (0 for an empty group)."""
        return self.visited / self.members if self.members else 0.0

    @property
    def spend_per_member(self) -> float:
        """Mean spend per member, fen."""
        return sum(self.spend) / self.members if self.members else 0.0


@dataclass(frozen=True)
class Difference:
    """Target minus holdout, and its 95 % confidence interval (None when a group is too small)."""

    value: float
    low: float | None
    high: float | None


@dataclass(frozen=True)
class CampaignResults:
    """A campaign's comparison over ``days`` days after assignment."""

    campaign_id: str
    days: int
    target: GroupFigures
    holdout: GroupFigures
    issued: int
    redeemed: int
    visit_difference: Difference
    spend_difference: Difference

    @property
    def redemption_rate(self) -> float:
        """Coupons used / coupons issued (0 when none were issued)."""
        return self.redeemed / self.issued if self.issued else 0.0


def proportion_difference(a: GroupFigures, b: GroupFigures) -> Difference:
    """Visit rate of ``a`` minus ``b`` with its 95 % interval (normal approximation)."""
    value = a.visit_rate - b.visit_rate
    if a.members < 2 or b.members < 2:
        return Difference(value, None, None)
    pa, pb = a.visit_rate, b.visit_rate
    se = math.sqrt(pa * (1 - pa) / a.members + pb * (1 - pb) / b.members)
    return Difference(value, value - Z95 * se, value + Z95 * se)


def _variance(values: tuple[int, ...]) -> float:
    mean = sum(values) / len(values)
    return sum((v - mean) ** 2 for v in values) / (len(values) - 1)


def mean_difference(a: GroupFigures, b: GroupFigures) -> Difference:
    """Spend per member of ``a`` minus ``b`` (fen) with its 95 % interval (Welch's standard error)."""
    value = a.spend_per_member - b.spend_per_member
    if a.members < 2 or b.members < 2:
        return Difference(value, None, None)
    se = math.sqrt(_variance(a.spend) / a.members + _variance(b.spend) / b.members)
    return Difference(value, value - Z95 * se, value + Z95 * se)


def campaign_results(campaign_id: str, tz: ZoneInfo, days: int = 30) -> CampaignResults:
    """Compare the campaign's target and holdout groups over ``days`` days from each assignment.

    A member concerned on several occasions (a yearly birthday) counts once per occasion.
    """
    assigned = list(
        CampaignMember.select()
        .where(CampaignMember.campaign_id == campaign_id)
        .order_by(CampaignMember.member_id, CampaignMember.occasion)
    )
    member_ids = sorted({a.member_id for a in assigned})
    sales: dict[str, list[tuple[str, int]]] = {}
    if member_ids:
        rows = MemberSale.select(MemberSale.member_id, MemberSale.day, MemberSale.paid_fen).where(
            MemberSale.member_id.in_(member_ids)
        )
        for member_id, day, paid in rows.tuples():
            sales.setdefault(member_id, []).append((day, int(paid)))
    groups: dict[str, list[int | None]] = {"target": [], "holdout": []}
    for row in assigned:
        start = as_utc(row.at).astimezone(tz).date()  # type: ignore[union-attr]
        end = start + dt.timedelta(days=days)
        spent = [
            paid for day, paid in sales.get(row.member_id, []) if start.isoformat() <= day < end.isoformat()
        ]
        groups[row.group].append(sum(spent) if spent else None)  # None: no visit
    figures = {
        name: GroupFigures(len(v), sum(1 for s in v if s is not None), tuple(s or 0 for s in v))
        for name, v in groups.items()
    }
    coupons = HubCoupon.select().where(HubCoupon.campaign_id == campaign_id)
    issued = coupons.count()
    redeemed = coupons.where(HubCoupon.used_sale_id.is_null(False)).count()
    target, holdout = figures["target"], figures["holdout"]
    return CampaignResults(
        campaign_id,
        days,
        target,
        holdout,
        issued,
        redeemed,
        proportion_difference(target, holdout),
        mean_difference(target, holdout),
    )
