"""The one visit-rhythm rule: median of the last ten gaps, at least 7 days, the owner's multiples."""

import datetime as dt

from kiosk.domain.loyalty.rhythm import Thresholds, member_state, visit_rhythm

DAY = dt.date(2026, 11, 1)


def days_after(*offsets: int) -> tuple[dt.date, ...]:
    return tuple(DAY + dt.timedelta(days=n) for n in offsets)


def test_the_rhythm_is_the_median_of_the_last_ten_gaps() -> None:
    # one 60-day holiday among 10-day gaps: the median stays 10 (the average would be 20)
    assert visit_rhythm(days_after(0, 10, 20, 80, 90, 100)) == 10
    # twelve gaps of 30 days, then ten of 8: only the last ten count
    old = tuple(range(0, 361, 30))
    recent = tuple(360 + 8 * n for n in range(1, 11))
    assert visit_rhythm(days_after(*old, *recent)) == 8
    assert visit_rhythm(days_after(0, 1, 2, 3)) == 7  # never under a week
    assert visit_rhythm(days_after(5)) == 30 and visit_rhythm(days_after(5), default_days=14) == 14
    assert visit_rhythm(days_after(0, 9, 19)) == 10  # median of 9 and 10 rounds to 10 (banker's)


def test_the_state_follows_the_owner_multiples() -> None:
    weekly = days_after(0, 7)
    today = DAY + dt.timedelta(days=7)
    assert [member_state(weekly, today + dt.timedelta(days=n)) for n in (20, 21, 41, 42)] == [
        "active", "dormant", "dormant", "churned",
    ]  # fmt: skip
    assert member_state(weekly, today + dt.timedelta(days=21), Thresholds(3.5, 8, 30)) == "active"
    assert member_state((), today) == "new"
