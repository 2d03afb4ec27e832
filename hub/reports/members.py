"""Member analysis: who is active, drifting or gone by each member's own rhythm, and RFM groups.

Read from the member sales the hub booked (``member_sale``: one row per member sale with its
day and what was paid). A member's *rhythm* and their state (:data:`SEGMENTS`: active, dormant,
churned 会员下线, new) are :mod:`kiosk.domain.loyalty.rhythm`'s, the same rule the win-back
campaign uses, with the owner's stored thresholds (:func:`hub.jobs.settings.thresholds`):

- ``active``: away less than ``dormant_after`` × rhythm (default 3 ×);
- ``dormant``: from there, until ``churned_after`` × rhythm (default 6 ×);
- ``churned``: from there on; ``new`` when the member has not bought yet.

RFM over the last year: recency (days since the last visit), frequency (visits) and monetary
(money paid), each high or low against the median of the members who bought; the three together
give the usual eight named groups (:data:`RFM_GROUPS`, 重要价值 … 一般挽留).
"""

import datetime as dt
import statistics
from dataclasses import dataclass

from peewee import fn

from hub.members.models import MemberSale
from kiosk.domain.loyalty.rhythm import DEFAULT_THRESHOLDS, STATES, Thresholds, member_state, visit_rhythm

SEGMENTS = STATES

# (recent, frequent, big spender) -> group key; the zh and en names are the catalog's rfm_{key}
RFM_GROUPS = {
    (True, True, True): "important_value",  # 重要价值
    (True, False, True): "important_develop",  # 重要发展
    (False, True, True): "important_keep",  # 重要保持
    (False, False, True): "important_winback",  # 重要挽留
    (True, True, False): "general_value",  # 一般价值
    (True, False, False): "general_develop",  # 一般发展
    (False, True, False): "general_keep",  # 一般保持
    (False, False, False): "general_winback",  # 一般挽留
}


@dataclass(frozen=True)
class Visits:
    """One member's buying: visit days (distinct, oldest first), money in the last year."""

    member_id: str
    days: tuple[dt.date, ...]
    visits_year: int
    paid_year_fen: int

    @property
    def visits(self) -> int:
        """How many days the member bought on."""
        return len(self.days)

    @property
    def first(self) -> dt.date:
        """The first visit day."""
        return self.days[0]

    @property
    def last(self) -> dt.date:
        """The latest visit day."""
        return self.days[-1]

    def rhythm_days(self, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> int:
        """The member's rhythm (:func:`kiosk.domain.loyalty.rhythm.visit_rhythm`)."""
        return visit_rhythm(self.days, thresholds.default_days)


def visits(today: dt.date) -> dict[str, Visits]:
    """Every member who bought up to ``today``, by member id."""
    year_ago = (today - dt.timedelta(days=364)).isoformat()
    m = MemberSale
    rows = (
        m.select(m.member_id, m.day)
        .where(m.day <= today.isoformat())
        .distinct()
        .order_by(m.member_id, m.day)
        .tuples()
    )
    days: dict[str, list[dt.date]] = {}
    for member, day in rows:
        days.setdefault(member, []).append(dt.date.fromisoformat(day))
    in_year = (
        m.select(m.member_id, fn.COUNT(fn.DISTINCT(m.day)), fn.SUM(m.paid_fen))
        .where(m.day >= year_ago, m.day <= today.isoformat())
        .group_by(m.member_id)
        .tuples()
    )
    year = {member: (int(n), int(paid)) for member, n, paid in in_year}
    return {member: Visits(member, tuple(seen), *year.get(member, (0, 0))) for member, seen in days.items()}


def segment(seen: Visits | None, today: dt.date, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> str:
    """The member's state today by their own rhythm (``new`` without a purchase)."""
    return member_state(seen.days if seen is not None else (), today, thresholds)


def rfm(all_visits: dict[str, Visits], today: dt.date) -> dict[str, str]:
    """Each member who bought in the last year: their RFM group key (high = at or better than median)."""
    recent = {m: v for m, v in all_visits.items() if v.visits_year}
    if not recent:
        return {}
    away = statistics.median((today - v.last).days for v in recent.values())
    often = statistics.median(v.visits_year for v in recent.values())
    spent = statistics.median(v.paid_year_fen for v in recent.values())
    return {
        m: RFM_GROUPS[((today - v.last).days <= away, v.visits_year >= often, v.paid_year_fen >= spent)]
        for m, v in recent.items()
    }
