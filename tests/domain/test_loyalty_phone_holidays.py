"""Phone normalisation and masking; solar and lunar holidays for 2020-2035."""

import datetime as dt

import pytest

from kiosk.domain.loyalty import InvalidPhone, mask_name, mask_phone, normalize_phone
from kiosk.domain.loyalty.holidays import (
    dragon_boat,
    holiday_bonus,
    is_holiday,
    mid_autumn,
    spring_festival,
)
from kiosk.domain.loyalty.rules import HolidayRule


@pytest.mark.parametrize(
    ("text", "e164"),
    [
        ("13812341234", "+8613812341234"),
        ("138 1234 1234", "+8613812341234"),
        ("+86 138-1234-1234", "+8613812341234"),
        ("008613812341234", "+8613812341234"),
        ("010-12345678", "+861012345678"),
        ("+852 6123 4567", "+85261234567"),
    ],
)
def test_normalize_phone_gives_e164_with_china_default(text: str, e164: str) -> None:
    assert normalize_phone(text) == e164


@pytest.mark.parametrize("text", ["12345", "abc", "", "1381234123"])
def test_normalize_phone_rejects_non_numbers(text: str) -> None:
    with pytest.raises(InvalidPhone):
        normalize_phone(text)


def test_mask_phone_shows_first_three_and_last_four() -> None:
    assert mask_phone("+8613812341234") == "138****1234"
    assert mask_phone("+861012345678") == "101***5678"


def test_mask_name_keeps_the_family_name() -> None:
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳修文") == "欧***"
    assert mask_name("李") == "李"
    assert mask_name("") == ""


# Published dates (Hong Kong Observatory / State Council calendars), not computed here.
SPRING = "01-25 02-12 02-01 01-22 02-10 01-29 02-17 02-06 01-26 02-13 02-03 01-23 02-11 01-31 02-19 02-08"
DRAGON = "06-25 06-14 06-03 06-22 06-10 05-31 06-19 06-09 05-28 06-16 06-05 06-24 06-12 06-01 06-20 06-10"
AUTUMN = "10-01 09-21 09-10 09-29 09-17 10-06 09-25 09-15 10-03 09-22 09-12 10-01 09-19 09-08 09-27 09-16"


def _table(text: str) -> list[tuple[int, dt.date]]:
    return [(2020 + i, dt.date.fromisoformat(f"{2020 + i}-{md}")) for i, md in enumerate(text.split())]


@pytest.mark.parametrize(("year", "day"), _table(SPRING))
def test_spring_festival_2020_to_2035(year: int, day: dt.date) -> None:
    assert spring_festival(year) == day


@pytest.mark.parametrize(("year", "day"), _table(DRAGON))
def test_dragon_boat_2020_to_2035(year: int, day: dt.date) -> None:
    assert dragon_boat(year) == day


@pytest.mark.parametrize(("year", "day"), _table(AUTUMN))
def test_mid_autumn_2020_to_2035(year: int, day: dt.date) -> None:
    assert mid_autumn(year) == day


CHUNJIE = HolidayRule(name_zh="春节", calendar="lunar", month=1, day=1, days=7, multiplier=300)
GUOQING = HolidayRule(name_zh="国庆", calendar="solar", month=10, day=1, days=7, multiplier=150)
ZHONGQIU = HolidayRule(name_zh="中秋", calendar="lunar", month=8, day=15, multiplier=200)


def test_lunar_holiday_spans_its_days() -> None:
    assert not is_holiday(CHUNJIE, dt.date(2026, 2, 16))
    assert is_holiday(CHUNJIE, dt.date(2026, 2, 17))
    assert is_holiday(CHUNJIE, dt.date(2026, 2, 23))
    assert not is_holiday(CHUNJIE, dt.date(2026, 2, 24))


def test_lunar_rule_ignores_the_leap_month() -> None:
    buddha = HolidayRule(name_zh="浴佛节", calendar="lunar", month=4, day=8)
    assert is_holiday(buddha, dt.date(2020, 4, 30))
    assert not is_holiday(buddha, dt.date(2020, 5, 30))  # 闰四月初八


def test_overlapping_holidays_take_the_highest_multiplier() -> None:
    rules = (GUOQING, ZHONGQIU)
    assert holiday_bonus(rules, dt.date(2020, 10, 1)) == ("中秋", 200)
    assert holiday_bonus(rules, dt.date(2020, 10, 2)) == ("国庆", 150)
    assert holiday_bonus(rules, dt.date(2020, 10, 8)) is None
