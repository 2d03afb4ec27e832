"""A member's details as a customer may ask staff to correct them: name, birthday, marketing answer.

Pure: today's date comes in as an argument. The terminal checks a change before storing it and
the hub checks it again when the ``member.updated`` event arrives (a change it cannot accept is
quarantined with the reason), so both sides use these rules.
"""

import datetime as dt
import unicodedata
from dataclasses import dataclass

from kiosk.domain.loyalty.errors import LoyaltyError

NAME_MAX = 20  # the same limit as at registration (kiosk name screen, hub front desk)
OLDEST = dt.date(1900, 1, 1)


class InvalidDetails(LoyaltyError):
    """A changed detail breaks the rules; the text says which and why, in English and Chinese."""


@dataclass(frozen=True)
class DetailsChange:
    """What changes; ``None`` leaves a detail as it is. ``name == ""`` removes the name."""

    name: str | None = None
    birthday: dt.date | None = None
    marketing: bool | None = None

    def fields(self) -> list[str]:
        """The names of the details this change touches, in a fixed order."""
        given = {"name": self.name, "birthday": self.birthday, "marketing": self.marketing}
        return [field for field, value in given.items() if value is not None]


def check_name(name: str) -> str:
    """The name as stored (stripped); raise :class:`InvalidDetails` when too long or not printable."""
    name = name.strip()
    if len(name) > NAME_MAX:
        raise InvalidDetails(f"the name has more than {NAME_MAX} characters / 称呼最多 {NAME_MAX} 个字")
    if any(unicodedata.category(c).startswith("C") for c in name):
        raise InvalidDetails("the name holds control characters / 称呼含有不可显示的字符")
    return name


def check_birthday(day: dt.date, today: dt.date) -> dt.date:
    """``day`` when it lies between 1900-01-01 and ``today``; else :class:`InvalidDetails`."""
    if not OLDEST <= day <= today:
        raise InvalidDetails(
            f"the birthday {day} is not between {OLDEST} and today / 生日 {day} 应在 {OLDEST} 至今天之间"
        )
    return day


def parse_birthday(text: str, today: dt.date) -> dt.date:
    """A birthday typed as eight digits (``19900517``) or ISO (``1990-05-17``), checked."""
    digits = text.strip().replace("-", "")
    if len(digits) != 8 or not digits.isdigit():
        raise InvalidDetails(f"{text!r} is not a date like 19900517 / 生日应为8位数字，如 19900517")
    try:
        day = dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError as exc:
        raise InvalidDetails(f"{text!r} is not a real date / {text} 不是有效日期") from exc
    return check_birthday(day, today)
