"""Calendar arithmetic the loyalty rules share (month steps, rolling windows)."""

import calendar
import datetime as dt


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by ``months`` (may be negative), clamped to the month's last day.

    ``2026-01-31 + 1 month`` is ``2026-02-28``.
    """
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return dt.date(year, month0 + 1, min(day.day, last))
