"""The owner's job settings (kept in the hub database, changed with ``hub jobs set`` or the jobs page).

The ``together_*`` settings choose which "often bought together" rules go to the terminals
(:func:`together_thresholds`, read by :mod:`hub.reports.together_downlink`).

The visit-rhythm thresholds (``rhythm_*``) are read by the members page, its segments and the
win-back campaign alike (:func:`thresholds`); the members page sets them.
"""

from decimal import Decimal, InvalidOperation

from hub.jobs.models import JobSetting
from hub.reports.together import PER_PRODUCT
from kiosk.domain.loyalty.rhythm import Thresholds

DEFAULTS = {
    "retention_months": "0",  # anonymise members inactive this long; 0: never (the owner decides)
    "backup_keep": "14",  # backups kept in <data dir>/backups
    "smtp_host": "",  # the mail server messages go through; "" = no e-mail channel
    "smtp_port": "25",
    "smtp_from": "",
    "sms_url": "",  # the SMS gateway (token in HUB_SMS_TOKEN); "" = no SMS channel
    "shop_name": "会员店",  # the SMS signature 【...】
    "sms_daily_cap": "2",  # SMS per member and day; more wait for the next day
    # a member is dormant from this many of their own rhythms away, churned from the next one
    "rhythm_dormant_after": "3",
    "rhythm_churned_after": "6",
    "rhythm_default_days": "30",  # the rhythm of a member with one visit
    # which "often bought together" rules the terminals suggest from: at least this support (percent
    # of receipts) and lift, and each product's best this many (1 to 3)
    "together_min_support": "0.5",
    "together_min_lift": "1.2",
    "together_per_item": "2",
}
MULTIPLES = ("rhythm_dormant_after", "rhythm_churned_after")
# key: (scale to whole numbers, smallest, largest, the error in both languages)
TOGETHER_LIMITS = {
    "together_min_support": (
        100,
        0,
        10000,
        "a percentage from 0 to 100, e.g. 0.5 / 请填写 0 到 100 的百分比，如 0.5",
    ),
    "together_min_lift": (
        1000,
        1000,
        100000,
        "a number from 1 to 100, e.g. 1.2 / 请填写 1 到 100 之间的数，如 1.2",
    ),
}


def get(key: str) -> str:
    """The setting's value (its default when the owner never set it)."""
    row = JobSetting.get_or_none(JobSetting.key == key)
    return row.value if row is not None else DEFAULTS[key]


def get_int(key: str) -> int:
    """The setting as a whole number."""
    return int(get(key))


def put(key: str, value: str) -> None:
    """Set ``key`` (one of :data:`DEFAULTS`); ValueError names the settings that exist."""
    if key not in DEFAULTS:
        raise ValueError(f"no setting {key!r}; settings: {', '.join(sorted(DEFAULTS))} / 没有该设置")
    if key in MULTIPLES:
        _check_multiple(key, value)
    elif key in TOGETHER_LIMITS:
        _scaled(key, value)
    elif DEFAULTS[key].isdigit() and not (value.isdigit() and int(value) >= 0):
        raise ValueError(f"{key} must be a whole number of 0 or more / 请填写不小于 0 的整数")
    if key == "rhythm_default_days" and not 1 <= int(value) <= 365:
        raise ValueError(f"{key} must be 1 to 365 days / 默认周期请填写 1 到 365 天")
    if key == "together_per_item" and not 1 <= int(value) <= PER_PRODUCT:
        raise ValueError(f"{key} must be 1 to {PER_PRODUCT} / 每个商品推荐条数请填写 1 到 {PER_PRODUCT}")
    JobSetting.insert(key=key, value=value).on_conflict(
        conflict_target=[JobSetting.key], update={JobSetting.value: value}
    ).execute()


def _check_multiple(key: str, value: str) -> None:
    try:
        number = float(value)
    except ValueError:
        number = 0.0
    if not 1 <= number <= 52:
        raise ValueError(f"{key} must be a number from 1 to 52 / 请填写 1 到 52 之间的倍数")


def thresholds() -> Thresholds:
    """The owner's visit-rhythm thresholds (the defaults until the owner sets them)."""
    return Thresholds(
        float(get("rhythm_dormant_after")), float(get("rhythm_churned_after")), get_int("rhythm_default_days")
    )


def put_thresholds(dormant_after: str, churned_after: str, default_days: str) -> Thresholds:
    """Store the three thresholds together; ValueError (zh/en) leaves all three as they were.

    Churned cannot come before dormant: that is refused, not silently reordered."""
    _check_multiple("rhythm_dormant_after", dormant_after)
    _check_multiple("rhythm_churned_after", churned_after)
    if float(churned_after) <= float(dormant_after):
        raise ValueError("churned must be more rhythms away than dormant / 流失的倍数须大于沉睡的倍数")
    if not (default_days.isdigit() and 1 <= int(default_days) <= 365):
        raise ValueError("the default rhythm must be 1 to 365 days / 默认周期请填写 1 到 365 天")
    put("rhythm_dormant_after", dormant_after)
    put("rhythm_churned_after", churned_after)
    put("rhythm_default_days", default_days)
    return thresholds()


def _scaled(key: str, value: str) -> int:
    """``value`` as the whole number the rules hold (basis points, lift × 1000); ValueError (zh/en)."""
    scale, low, high, problem = TOGETHER_LIMITS[key]
    try:
        number = Decimal(value.strip()) * scale
    except InvalidOperation:
        number = Decimal(-1)
    if not number.is_finite() or number != number.to_integral_value() or not low <= number <= high:
        raise ValueError(f"{key} must be {problem}")
    return int(number)


def together_thresholds() -> tuple[int, int, int]:
    """What the terminals get of the rules: (least support in basis points, least lift × 1000,
    rules per product)."""
    support = _scaled("together_min_support", get("together_min_support"))
    return support, _scaled("together_min_lift", get("together_min_lift")), get_int("together_per_item")
