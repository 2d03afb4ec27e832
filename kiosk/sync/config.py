"""Downlink config (``pos/{d}/down/config``): parse a versioned release and apply it atomically.

The hub publishes one retained message per device holding the whole catalog,
rules, campaigns and settings with a version number. The terminal applies a
release only when its version is newer than the one it runs, in one
IMMEDIATE transaction, so the checkout never sees half a price list.
"""

import datetime as dt
import json
from typing import Any

from pydantic import BaseModel as Schema
from pydantic import ConfigDict, Field, ValidationError

from kiosk.domain.loyalty import LoyaltyRules
from kiosk.store.connection import database
from kiosk.store.models import AppliedConfig, Product
from kiosk.sync.schema import SCHEMA_VERSION, SchemaError, canonical


class CatalogItem(Schema):
    """One product as the hub publishes it."""

    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1, description="Stock-keeping unit, the product's key.")
    barcode: str | None = Field(default=None, description="EAN/UPC printed on the item.")
    name_zh: str = Field(min_length=1, description="Chinese name shown and printed.")
    name_en: str = Field(default="", description="English name.")
    price_fen: int = Field(ge=0, description="Unit price in fen.")
    category: str = Field(default="", description="Category shown on the dashboard.")
    active: bool = Field(default=True, description="False hides the product from scanning.")


class Promotion(Schema):
    """One line the attract screen rotates through, in both languages (``settings.promotions``)."""

    model_config = ConfigDict(extra="forbid")

    zh: str = Field(min_length=1, max_length=60, description="Chinese text, 1-60 characters.")
    en: str = Field(min_length=1, max_length=60, description="English text, 1-60 characters.")


#: At most this many promotions in one release: the attract screen shows each for a few seconds.
MAX_PROMOTIONS = 10


class Promotions(Schema):
    """The ``promotions`` list of a release's settings, checked on its own."""

    model_config = ConfigDict(extra="forbid")

    promotions: list[Promotion] = Field(min_length=1, max_length=MAX_PROMOTIONS)


def parse_promotions(items: object) -> list[Promotion]:
    """Validate a promotions list; raise SchemaError saying which entry is wrong and why."""
    try:
        return Promotions.model_validate({"promotions": items}).promotions
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise SchemaError(f"{where}: {error['msg']}") from exc


class ConfigRelease(Schema):
    """A whole versioned downlink config."""

    model_config = ConfigDict(extra="forbid")

    v: int = Field(description="Schema version of the message (1).")
    version: int = Field(ge=1, description="Release number; the terminal applies only newer ones.")
    issued_at: str = Field(description="When the hub issued it (ISO 8601).")
    catalog: list[CatalogItem] = Field(description="Every product; a product left out is deactivated.")
    rules: dict[str, Any] = Field(
        default_factory=dict,
        description='The owner\'s loyalty rules: {"version": n, "rules": LoyaltyRules}; empty: defaults.',
    )
    campaigns: list[dict[str, Any]] = Field(default_factory=list, description="Campaigns.")
    settings: dict[str, Any] = Field(default_factory=dict, description="Kiosk settings.")


def release_message(release: ConfigRelease) -> bytes:
    """The retained payload for ``release``."""
    return canonical(release.model_dump())


def parse_release(payload: bytes) -> ConfigRelease:
    """Decode a config message; raise SchemaError naming what is wrong."""
    try:
        release = ConfigRelease.model_validate(json.loads(payload))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SchemaError(f"config is not JSON: {exc}") from exc
    except ValidationError as exc:
        raise SchemaError(f"config does not follow the schema: {exc.errors()[0]}") from exc
    if release.v != SCHEMA_VERSION:
        raise SchemaError(f"unknown config schema version {release.v}")
    parse_rules(release)
    skus = [item.sku for item in release.catalog]
    if len(set(skus)) != len(skus):
        raise SchemaError("config catalog lists a sku twice")
    barcodes = [item.barcode for item in release.catalog if item.barcode]
    if len(set(barcodes)) != len(barcodes):
        raise SchemaError("config catalog gives two products the same barcode")
    if "promotions" in release.settings:
        parse_promotions(release.settings["promotions"])
    return release


def parse_rules(release: ConfigRelease) -> LoyaltyRules | None:
    """The loyalty rules ``release`` carries (None when it carries none); raise SchemaError if bad."""
    if not release.rules:
        return None
    try:
        return LoyaltyRules.model_validate(release.rules["rules"])
    except (KeyError, TypeError) as exc:
        raise SchemaError(f"config rules lack their rules block: {exc!r}") from exc
    except ValidationError as exc:
        raise SchemaError(f"config rules do not follow the schema: {exc.errors()[0]}") from exc


def applied_rules() -> LoyaltyRules | None:
    """The loyalty rules of the applied release: None when no config ever arrived; the defaults
    when the owner never set any (the hub then checks with the defaults too)."""
    row = AppliedConfig.get_or_none(AppliedConfig.id == 1)
    if row is None:
        return None
    return parse_rules(ConfigRelease.model_validate_json(row.body)) or LoyaltyRules()


class RulesFromConfig:
    """The terminal's loyalty rules, re-read whenever a newer release has been applied.

    Calling it costs one primary-key lookup of the running version; ``fallback``
    answers until the first config arrives.
    """

    def __init__(self, fallback: LoyaltyRules) -> None:
        self.fallback = fallback
        self._version = -1
        self._rules = fallback

    def __call__(self) -> LoyaltyRules:
        version = running_version()
        if version != self._version:
            self._version, self._rules = version, applied_rules() or self.fallback
        return self._rules


def applied_rules_version() -> int:
    """``rules.version`` of the applied release: 0 when no config arrived or it carries no rules
    (the terminal then runs its built-in defaults). A sale states it so the hub checks exactly it."""
    row = AppliedConfig.get_or_none(AppliedConfig.id == 1)
    if row is None:
        return 0
    if row.body != _rules_version[0]:  # the body is parsed once per applied release
        rules = json.loads(row.body).get("rules") or {}
        _rules_version[:] = [row.body, int(rules.get("version", 0))]
    return int(_rules_version[1])


_rules_version: list[Any] = ["", 0]  # (applied release body, its rules.version)


def running_version() -> int:
    """The version of the config release the terminal runs (0: none yet)."""
    row = AppliedConfig.get_or_none(AppliedConfig.id == 1)
    return row.version if row else 0


def applied_promotions() -> list[Promotion]:
    """The promotions of the release the terminal runs; empty when none was ever sent."""
    row = AppliedConfig.get_or_none(AppliedConfig.id == 1)
    if row is None:
        return []
    items = json.loads(row.body).get("settings", {}).get("promotions")
    return parse_promotions(items) if items else []


def apply_release(release: ConfigRelease, now: dt.datetime) -> bool:
    """Apply ``release`` if it is newer than the running one; return True when applied."""
    with database.atomic("IMMEDIATE"):
        row = AppliedConfig.get_or_none(AppliedConfig.id == 1)
        if row is not None and row.version >= release.version:
            return False
        _replace_catalog(release.catalog)
        AppliedConfig.insert(
            id=1,
            version=release.version,
            applied_at=now.isoformat(timespec="seconds"),
            body=json.dumps(release.model_dump(), ensure_ascii=False),
        ).on_conflict_replace().execute()
    return True


def _replace_catalog(items: list[CatalogItem]) -> None:
    # Barcodes are unique: clear them first so a barcode may move between products.
    Product.update(barcode=None).execute()
    rows = [item.model_dump() for item in items]
    fields = [Product.barcode, Product.name_zh, Product.name_en, Product.price_fen]
    fields += [Product.category, Product.active]
    for start in range(0, len(rows), 500):
        Product.insert_many(rows[start : start + 500]).on_conflict(
            conflict_target=[Product.sku], preserve=fields
        ).execute()
    skus = {item.sku for item in items}
    Product.update(active=False).where(Product.sku.not_in(list(skus))).execute()
