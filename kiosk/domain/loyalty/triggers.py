"""When an automatic campaign concerns a member (生日、入会纪念日、节日、唤醒、临近升级、感谢):
pure rules over the member's dates and visits; the day comes in as an argument.

Each rule returns an *occasion* key, or None: the hub issues a campaign's coupon once per
member and occasion (``2026`` for a yearly date, ``after:2026-10-02`` for one absence), so a
daily run finds the same key again and issues nothing twice.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from kiosk.domain.loyalty.campaigns import CampaignSpec
from kiosk.domain.loyalty.holidays import lunar_to_solar
from kiosk.domain.loyalty.rhythm import DEFAULT_THRESHOLDS, Thresholds, member_state
from kiosk.domain.loyalty.rules import TierRule
from kiosk.domain.loyalty.tiers import progress

CATCH_UP_DAYS = 7  # a yearly date is still honoured this many days late (the hub was off that day)


@dataclass(frozen=True)
class MemberHistory:
    """What the automatic triggers read about one member."""

    member_id: str
    birthday: dt.date | None = None
    registered_on: dt.date | None = None
    visits: Sequence[dt.date] = field(default_factory=tuple)  # distinct visit days, oldest first
    tier_amount: int = 0  # the qualifying amount in the tier window today


def on_date_this_year(month: int, day: int, year: int) -> dt.date:
    """``month``/``day`` in ``year``; 29 February falls on 28 February in other years."""
    if (month, day) == (2, 29):
        try:
            return dt.date(year, 2, 29)
        except ValueError:
            return dt.date(year, 2, 28)
    return dt.date(year, month, day)


def _yearly(date: dt.date, today: dt.date, days_before: int) -> bool:
    return -days_before <= (today - date).days < CATCH_UP_DAYS


def holiday_date(spec: CampaignSpec, year: int) -> dt.date:
    """The holiday of a ``holiday`` campaign in solar ``year`` (a lunar date converted)."""
    if spec.holiday_calendar == "lunar":
        return lunar_to_solar(year, spec.holiday_month, spec.holiday_day)
    return on_date_this_year(spec.holiday_month, spec.holiday_day, year)


def occasion(
    spec: CampaignSpec,
    member: MemberHistory,
    today: dt.date,
    tiers: TierRule,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> str | None:
    """The occasion on which ``spec`` gives ``member`` its coupon on ``today``, or None.

    A win-back concerns a member who is dormant or churned by their own rhythm and the owner's
    ``thresholds`` (:func:`kiosk.domain.loyalty.rhythm.member_state`): the members page's rule.
    """
    if spec.trigger == "birthday" and member.birthday is not None:
        for year in (today.year, today.year + 1):  # a 2 January birthday is 'days before' in December
            date = on_date_this_year(member.birthday.month, member.birthday.day, year)
            if _yearly(date, today, spec.days_before):
                return str(year)
    if spec.trigger == "anniversary" and member.registered_on is not None:
        for year in (today.year, today.year + 1):
            date = on_date_this_year(member.registered_on.month, member.registered_on.day, year)
            if year > member.registered_on.year and _yearly(date, today, spec.days_before):
                return str(year)
    if spec.trigger == "holiday":
        for year in (today.year, today.year + 1):
            if -spec.days_before <= (today - holiday_date(spec, year)).days <= 0:
                return str(year)
    if spec.trigger == "winback" and member_state(member.visits, today, thresholds) in ("dormant", "churned"):
        return f"after:{member.visits[-1].isoformat()}"
    if spec.trigger == "near_tier" and member.tier_amount > 0:
        ahead = progress(member.tier_amount, tiers)
        if ahead is not None and ahead[1] * 100 <= ahead[0].threshold * spec.near_percent:
            return f"{ahead[0].code}/{today.year}"
    if spec.trigger == "thank_you" and member.visits:
        last = member.visits[-1]
        if 1 <= (today - last).days <= 2:  # the day after; a day late if the hub was off
            return f"visit:{last.isoformat()}"
    return None
