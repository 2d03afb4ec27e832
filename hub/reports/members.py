"""Member analysis: who is active, drifting or gone by each member's own rhythm, and RFM groups.

Read from the member sales the hub booked (``member_sale``: one row per member sale with its
day and what was paid). A member's *rhythm* is the average number of days between their visits;
a member with a single visit has the default rhythm. Measured against it, the days since the last
visit say the member's state (:data:`SEGMENTS`):

- ``active``: back within ``dormant_after`` × rhythm days (default 2 ×);
- ``dormant``: later than that, but within ``churned_after`` × rhythm (default 4 ×);
- ``churned`` (会员下线): later still; ``new`` when the member has not bought yet.

RFM over the last year: recency (days since the last visit), frequency (visits) and monetary
(money paid), each high or low against the median of the members who bought; the three together
give the usual eight named groups (:data:`RFM_GROUPS`, 重要价值 … 一般挽留).
"""

import datetime as dt
import statistics
from dataclasses import dataclass

from peewee import fn

from hub.members.models import MemberSale

SEGMENTS = ("active", "dormant", "churned", "new")

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
class Rhythm:
    """The owner's thresholds, in multiples of a member's own rhythm."""

    dormant_after: float = 2.0
    churned_after: float = 4.0
    default_days: int = 30  # the rhythm of a member with one visit


@dataclass(frozen=True)
class Visits:
    """One member's buying: visits (days with a sale), first and last, money in the last year."""

    member_id: str
    visits: int
    first: dt.date
    last: dt.date
    visits_year: int
    paid_year_fen: int

    @property
    def rhythm_days(self) -> float | None:
        """Average days between visits (None with one visit)."""
        return (self.last - self.first).days / (self.visits - 1) if self.visits > 1 else None


def visits(today: dt.date) -> dict[str, Visits]:
    """Every member who bought up to ``today``, by member id."""
    year_ago = (today - dt.timedelta(days=364)).isoformat()
    m = MemberSale
    rows = (
        m.select(m.member_id, fn.COUNT(fn.DISTINCT(m.day)), fn.MIN(m.day), fn.MAX(m.day))
        .where(m.day <= today.isoformat())
        .group_by(m.member_id)
        .tuples()
    )
    in_year = (
        m.select(m.member_id, fn.COUNT(fn.DISTINCT(m.day)), fn.SUM(m.paid_fen))
        .where(m.day >= year_ago, m.day <= today.isoformat())
        .group_by(m.member_id)
        .tuples()
    )
    year = {member: (int(n), int(paid)) for member, n, paid in in_year}
    return {
        member: Visits(
            member,
            int(n),
            dt.date.fromisoformat(first),
            dt.date.fromisoformat(last),
            *year.get(member, (0, 0)),
        )
        for member, n, first, last in rows
    }


def segment(seen: Visits | None, today: dt.date, rhythm: Rhythm = Rhythm()) -> str:
    """The member's state today by their own rhythm (``new`` without a purchase)."""
    if seen is None:
        return "new"
    pace = seen.rhythm_days or rhythm.default_days
    away = (today - seen.last).days
    if away <= rhythm.dormant_after * pace:
        return "active"
    if away <= rhythm.churned_after * pace:
        return "dormant"
    return "churned"


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
