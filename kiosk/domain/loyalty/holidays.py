"""Holidays for points multipliers, solar or lunar, for any year lunardate covers (1900-2099).

A lunar holiday is matched by converting the day in question to the lunar
calendar, so no per-year table has to be maintained: 春节 is lunar 1/1, 端午
is 5/5, 中秋 is 8/15, whichever solar day they fall on that year.
"""

import datetime as dt

from lunardate import LunarDate

from kiosk.domain.loyalty.rules import HolidayRule

SPRING_FESTIVAL = (1, 1)
DRAGON_BOAT = (5, 5)
MID_AUTUMN = (8, 15)


def lunar_to_solar(year: int, month: int, day: int) -> dt.date:
    """The solar date of lunar ``month``/``day`` (not a leap month) in lunar ``year``."""
    solar: dt.date = LunarDate(year, month, day).to_solar_date()
    return solar


def spring_festival(year: int) -> dt.date:
    """春节 (lunar new year's day) that falls in solar ``year``."""
    return lunar_to_solar(year, *SPRING_FESTIVAL)


def dragon_boat(year: int) -> dt.date:
    """端午节 (lunar 5/5) in solar ``year``."""
    return lunar_to_solar(year, *DRAGON_BOAT)


def mid_autumn(year: int) -> dt.date:
    """中秋节 (lunar 8/15) in solar ``year``."""
    return lunar_to_solar(year, *MID_AUTUMN)


def _starts_on(rule: HolidayRule, day: dt.date) -> bool:
    if rule.calendar == "solar":
        return (day.month, day.day) == (rule.month, rule.day)
    lunar = LunarDate.from_solar_date(day.year, day.month, day.day)
    return not lunar.is_leap_month and (lunar.month, lunar.day) == (rule.month, rule.day)


def is_holiday(rule: HolidayRule, day: dt.date) -> bool:
    """True when ``day`` is within ``rule.days`` days from one of the rule's start dates."""
    return any(_starts_on(rule, day - dt.timedelta(days=k)) for k in range(rule.days))


def holiday_bonus(holidays: tuple[HolidayRule, ...], day: dt.date) -> tuple[str, int] | None:
    """The active holiday with the highest multiplier on ``day``: (name, percent), or None."""
    active = [(h.multiplier, h.name_zh) for h in holidays if is_holiday(h, day)]
    if not active:
        return None
    multiplier, name = max(active)
    return name, multiplier
