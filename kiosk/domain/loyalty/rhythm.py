"""A member's visit rhythm and the state it gives them (active, dormant, churned): one definition
for the hub's member page, its segments and the win-back campaign.

The *rhythm* is the member's usual number of days between visits: the median of the gaps between
their last eleven visit days (ten gaps), never under :data:`MIN_RHYTHM_DAYS`; a member with one
visit has the owner's default rhythm. The median, not the mean, so one long holiday does not make
a weekly shopper look like a monthly one; the last ten gaps, so a habit that changed counts.

Days away from the last visit, against the rhythm times the owner's multiples, give the state:
``active`` below ``dormant_after`` × rhythm, ``dormant`` from there, ``churned`` (会员下线) from
``churned_after`` × rhythm; ``new`` without a visit. docs/loyalty.md, "Visit rhythm".
"""

import datetime as dt
import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

MIN_RHYTHM_DAYS = 7  # a daily shopper is not "dormant" after three days off
RHYTHM_GAPS = 10  # the gaps the median is taken over
STATES = ("active", "dormant", "churned", "new")


@dataclass(frozen=True)
class Thresholds:
    """The owner's thresholds: multiples of a member's own rhythm, and the rhythm of a first-timer."""

    dormant_after: float = 3.0
    churned_after: float = 6.0
    default_days: int = 30


DEFAULT_THRESHOLDS = Thresholds()


def visit_rhythm(visits: Sequence[dt.date], default_days: int = Thresholds.default_days) -> int:
    """Days between visits: the median of the last ten gaps of ``visits`` (distinct days, oldest
    first), at least :data:`MIN_RHYTHM_DAYS`; ``default_days`` with fewer than two visits."""
    recent = visits[-(RHYTHM_GAPS + 1) :]
    gaps = [(b - a).days for a, b in itertools.pairwise(recent)]
    if not gaps:
        return default_days
    return max(MIN_RHYTHM_DAYS, round(statistics.median(gaps)))


def member_state(
    visits: Sequence[dt.date], today: dt.date, thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> str:
    """The member's state on ``today`` (one of :data:`STATES`) by their own rhythm."""
    if not visits:
        return "new"
    away = (today - visits[-1]).days
    pace = visit_rhythm(visits, thresholds.default_days)
    if away >= thresholds.churned_after * pace:
        return "churned"
    if away >= thresholds.dormant_after * pace:
        return "dormant"
    return "active"
