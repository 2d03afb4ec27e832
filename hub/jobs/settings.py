"""The owner's job settings (kept in the hub database, changed with ``hub jobs set`` or the jobs page)."""

from hub.jobs.models import JobSetting

DEFAULTS = {
    "retention_months": "0",  # anonymise members inactive this long; 0: never (the owner decides)
    "backup_keep": "14",  # backups kept in <data dir>/backups
    "smtp_host": "",  # the mail server messages go through; "" = no e-mail channel
    "smtp_port": "25",
    "smtp_from": "",
    "sms_url": "",  # the SMS gateway (token in HUB_SMS_TOKEN); "" = no SMS channel
    "shop_name": "会员店",  # the SMS signature 【...】
    "sms_daily_cap": "2",  # SMS per member and day; more wait for the next day
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
    if DEFAULTS[key].isdigit() and not (value.isdigit() and int(value) >= 0):
        raise ValueError(f"{key} must be a whole number of 0 or more / 请填写不小于 0 的整数")
    JobSetting.insert(key=key, value=value).on_conflict(
        conflict_target=[JobSetting.key], update={JobSetting.value: value}
    ).execute()
