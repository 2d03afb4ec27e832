"""Points-expiry reminders (积分到期提醒): which members have points expiring within N days.

The lots and their expiry dates come from :func:`kiosk.domain.loyalty.expiring_soon`
(oldest points are spent first), run over each member's ledger at the hub.
"""

import datetime as dt
from dataclasses import dataclass

from hub.members.book import settings
from hub.members.expiry import points_entries
from kiosk.domain.loyalty import expiring_soon
from kiosk.domain.loyalty.rules import ExpiryRule


@dataclass(frozen=True)
class Reminder:
    """``points`` of ``member_id`` expire at the start of ``expires_on``."""

    member_id: str
    expires_on: dt.date
    points: int


def expiring_points(on: dt.date, days: int) -> list[Reminder]:
    """Points expiring after ``on``, within ``days`` days, by date then member ([] if they never expire)."""
    months = settings.rules.expiry.months
    if not months or days <= 0:
        return []
    rule = ExpiryRule(months=months, remind_days=days)
    found = [
        Reminder(member_id, expires_on, points)
        for member_id, history in points_entries().items()
        for expires_on, points in expiring_soon(history, member_id, rule, on)
    ]
    return sorted(found, key=lambda r: (r.expires_on, r.member_id))
