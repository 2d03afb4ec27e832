"""The owner's loyalty rules at the hub: one validated, versioned, audited record.

Every save appends a version (versions only grow, none is edited), so the hub
can still check a sale against the rules a terminal ran before a change. The
rules are validated with the domain's own :class:`LoyaltyRules`; a bad set is
refused with a zh-CN/English message naming the field and nothing is saved.

Each ingest worker keeps the rules in memory (``member_book.settings``) and
calls :func:`refresh` once per member sale: one ``MAX(version)`` query, and a
reload only when another process saved a newer version.
"""

import datetime as dt
import json
from typing import Any

from peewee import AutoField, CharField, TextField, fn
from pydantic import ValidationError

from hub.accounts import audit as owner_audit
from hub.catalog.models import Release
from hub.fleet.presence import DeviceStatus
from hub.ingest.models import BaseModel
from hub.members.book import settings
from hub.web.i18n import N_, t
from kiosk.domain.loyalty import LoyaltyRules


class StoredRules(BaseModel):
    """One version of the owner's loyalty rules, as saved."""

    version = AutoField()
    body = TextField(help_text="LoyaltyRules as JSON")
    by = CharField(help_text="who saved it (audited)")
    saved_at = CharField(help_text="UTC, ISO 8601")

    class Meta:
        table_name = "hub_loyalty_rules"


MODELS = [StoredRules]


class RulesRefused(ValueError):
    """A rule set the hub will not save; ``problems`` name each field in zh-CN and English."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("积分规则有误，未保存 / rules refused, nothing saved: " + "; ".join(problems))
        self.problems = problems


#: What a pydantic error type means for the owner's rules (hub catalog keys).
_MESSAGES = {
    "missing": N_("rules_problem_missing"),
    "extra_forbidden": N_("rules_problem_extra_forbidden"),
    "greater_than_equal": N_("rules_problem_greater_than_equal"),
    "less_than_equal": N_("rules_problem_less_than_equal"),
    "int_parsing": N_("rules_problem_int_parsing"),
    "int_type": N_("rules_problem_int_parsing"),
    "int_from_float": N_("rules_problem_int_parsing"),
    "literal_error": N_("rules_problem_literal_error"),
    "too_short": N_("rules_problem_too_short"),
}


def _both(field: str, key: str, suffix: str = "") -> str:
    """One problem line in both languages: ``earn.percent: 数值太大 (100) / is too large (100)``."""
    return f"{field}: {t(key, 'zh')}{suffix} / {t(key, 'en')}{suffix}"


def _problem(error: Any) -> str:
    field = ".".join(str(part) for part in error["loc"]) or "rules"
    detail = error.get("ctx", {})
    limit = detail.get("ge", detail.get("le", detail.get("expected", "")))
    suffix = f" ({limit})" if limit != "" else ""
    if error["type"] == "value_error":  # the domain's own checks say what is wrong in English
        en = error["msg"].removeprefix("Value error, ")
        zh = t(
            N_("rules_problem_tier_order")
            if en.startswith("tiers must start")
            else N_("rules_problem_invalid"),
            "zh",
        )
        return f"{field}: {zh}{suffix} / {en}{suffix}"
    return _both(field, _MESSAGES.get(error["type"], N_("rules_problem_invalid")), suffix)


def parse_rules(body: Any) -> LoyaltyRules:
    """``body`` as LoyaltyRules; raise :class:`RulesRefused` naming every bad field."""
    if not isinstance(body, dict):
        raise RulesRefused([_both("rules", N_("rules_problem_not_object"))])
    try:
        return LoyaltyRules.model_validate(body)
    except ValidationError as exc:
        raise RulesRefused([_problem(e) for e in exc.errors()]) from exc


def save_rules(body: Any, by: str, now: dt.datetime) -> int:
    """Validate and store ``body`` as the next version, audited; return the version.

    Call inside a transaction: the version and its audit row commit together.
    """
    if not by.strip():
        raise RulesRefused([_both("by", N_("rules_problem_no_author"))])
    rules = parse_rules(body)
    row = StoredRules.create(body=rules_json(rules), by=by, saved_at=now.isoformat(timespec="seconds"))
    owner_audit.record(by, "rules.saved", "loyalty_rules", now, version=row.version)
    return int(row.version)


def rules_json(rules: LoyaltyRules) -> str:
    """The canonical JSON text of ``rules`` (sorted keys, Chinese kept readable)."""
    return json.dumps(rules.model_dump(mode="json"), ensure_ascii=False, sort_keys=True)


def current() -> tuple[int, LoyaltyRules]:
    """The newest version and its rules; ``(0, LoyaltyRules())`` before the owner saved any."""
    row = StoredRules.select().order_by(StoredRules.version.desc()).first()
    if row is None:
        return 0, LoyaltyRules()
    return int(row.version), _load(row)


_parsed: dict[str, LoyaltyRules] = {}


def _load(row: StoredRules) -> LoyaltyRules:
    if row.body not in _parsed:  # a stored version never changes, so each is parsed once
        _parsed[row.body] = LoyaltyRules.model_validate_json(row.body)
    return _parsed[row.body]


def history() -> list[dict[str, Any]]:
    """Every saved version, oldest first: version, by, saved_at."""
    query = StoredRules.select(StoredRules.version, StoredRules.by, StoredRules.saved_at)
    return list(query.order_by(StoredRules.version).dicts())


def refresh() -> int:
    """Reload the in-memory rules when a newer version was saved (by any process); return it.

    Costs one ``MAX(version)`` query when nothing changed.
    """
    newest = StoredRules.select(fn.MAX(StoredRules.version)).scalar() or 0
    if newest != settings.rules_version:
        settings.rules_version, settings.rules = current()
    return int(newest)


def candidates_for_sale(device: str, sale_ts: str) -> list[LoyaltyRules]:
    """The rules a terminal may have run for a sale, the most likely first.

    For sales from older terminals, whose events do not carry ``rules_version``
    (newer ones are checked with :func:`rules_of_version`): the hub takes the version
    in force when the sale was made, then older ones back to the version in the
    config the device last reported running (at least the one just before: a
    terminal applies a new release only when it next hears from the broker).
    A version saved after the sale never applies. See docs/loyalty.md.
    """
    saved = list(
        StoredRules.select().where(StoredRules.saved_at <= _utc(sale_ts)).order_by(StoredRules.version.desc())
    )
    in_force = int(saved[0].version) if saved else 0
    running = _reported_rules_version(device)
    oldest = in_force - 1 if running is None else min(running, in_force - 1)
    found = [_load(row) for row in saved if int(row.version) >= oldest]
    if oldest <= 0:
        found.append(_version_zero())
    return found


def rules_of_version(version: int) -> LoyaltyRules | None:
    """The rules saved as ``version`` (0: the defaults the hub ran before any); None when not stored."""
    if version == 0:
        return _version_zero()
    row = StoredRules.get_or_none(StoredRules.version == version) if version > 0 else None
    return _load(row) if row is not None else None


def _version_zero() -> LoyaltyRules:
    """Version 0: what the hub ran before the owner saved any rules (``hub serve``: the defaults)."""
    return settings.rules if settings.rules_version == 0 else LoyaltyRules()


def _utc(ts: str) -> str:
    return dt.datetime.fromisoformat(ts).astimezone(dt.UTC).isoformat(timespec="seconds")


def _reported_rules_version(device: str) -> int | None:
    """The rules version in the config the device last reported running (None: unknown)."""

    status = DeviceStatus.get_or_none(DeviceStatus.device == device)
    if status is None or not status.config_version:
        return None
    release = Release.get_or_none(Release.version == status.config_version)
    if release is None:
        return None
    return int(json.loads(release.body).get("rules", {}).get("version", 0))
