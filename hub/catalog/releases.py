"""The hub's catalog and the versioned config releases it publishes to terminals.

A release is the whole catalog plus rules, campaigns and settings under one
version number (see docs/protocol.md, "Downlink config"). It is stored here and
published retained on ``pos/{d}/down/config`` for every device.
"""

import datetime as dt
import json
from collections.abc import Callable, Iterable
from typing import Any

from peewee import fn

from hub.campaigns import flash
from hub.catalog import prices
from hub.catalog.models import CatalogProduct, Release
from hub.db import database
from hub.fleet import broker_client
from hub.fleet.presence import DeviceStatus
from hub.ingest.models import DeviceHead
from hub.rules import store as rules_store
from kiosk.sync.config import CatalogItem, ConfigRelease, release_message
from kiosk.sync.schema import SCHEMA_VERSION
from kiosk.sync.topics import config_topic


def load_catalog(items: Iterable[dict[str, Any]]) -> int:
    """Insert or update products (validated like the downlink); return how many."""
    rows = [CatalogItem.model_validate(item).model_dump() for item in items]
    fields = [getattr(CatalogProduct, name) for name in rows[0] if name != "sku"] if rows else []
    with database.atomic():
        for row in rows:
            CatalogProduct.insert(**row).on_conflict(
                conflict_target=[CatalogProduct.sku], preserve=fields
            ).execute()
    return len(rows)


def new_release(
    now: dt.datetime,
    rules: dict[str, Any] | None = None,
    campaigns: list[dict[str, Any]] | None = None,
    settings: dict[str, Any] | None = None,
) -> ConfigRelease:
    """Freeze the current catalog (and rules, campaigns, settings) into the next release.

    ``settings=None`` keeps the previous release's settings (the attract screen's
    promotions), so publishing a price change never drops them. ``campaigns`` defaults to the
    flash sales not yet ended, with every terminal's share (hub.campaigns.flash). ``rules`` defaults to the
    owner's stored loyalty rules as ``{"version": n, "rules": {...}}`` (hub.rules.store);
    before the owner saved any, the release carries none and terminals keep theirs.
    """
    if settings is None:
        previous = latest_release()
        settings = previous.settings if previous is not None else {}
    if rules is None:
        rules = _stored_rules()
    if campaigns is None:
        campaigns = flash.offers(now)
    catalog = [
        CatalogItem(
            sku=p.sku,
            barcode=p.barcode,
            name_zh=p.name_zh,
            name_en=p.name_en,
            price_fen=p.price_fen,
            category=p.category,
            active=p.active,
        )
        for p in CatalogProduct.select().order_by(CatalogProduct.sku)
    ]
    with database.atomic():
        version = (Release.select(fn.MAX(Release.version)).scalar() or 0) + 1
        release = ConfigRelease(
            v=SCHEMA_VERSION,
            version=version,
            issued_at=now.isoformat(timespec="seconds"),
            catalog=catalog,
            rules=rules or {},
            campaigns=campaigns or [],
            settings=settings or {},
        )
        frozen = json.dumps(prices.store_prices(), sort_keys=True)  # each store's own prices, with it
        Release.create(
            version=version,
            issued_at=release.issued_at,
            body=json.dumps(release.model_dump()),
            store_prices=frozen,
        )
    return release


def _stored_rules() -> dict[str, Any]:

    version, current = rules_store.current()
    return {"version": version, "rules": current.model_dump(mode="json")} if version else {}


def latest_release() -> ConfigRelease | None:
    """The newest stored release, or None."""
    row = Release.select().order_by(Release.version.desc()).first()
    return ConfigRelease.model_validate_json(row.body) if row else None


def known_devices() -> list[str]:
    """Every device the hub has heard from (events or status)."""

    devices = {h.device for h in DeviceHead.select(DeviceHead.device)}
    devices |= {s.device for s in DeviceStatus.select(DeviceStatus.device)}
    return sorted(devices)


def publish_release(
    release: ConfigRelease,
    devices: list[str],
    host: str,
    port: int,
    username: str | None = None,
    password: str | None = None,
    ca_file: str | None = None,
    timeout: float = 10.0,
    registry: Iterable[Callable[[str], str | None]] = (),
) -> None:
    """Publish ``release`` retained to each device's config topic, at the prices of the device's
    store (:mod:`hub.catalog.prices`; ``registry``: where the device registry places a device);
    raise if the broker does not take it."""
    frozen = prices.frozen_prices(release.version)
    stores = list(registry)
    messages = {
        config_topic(d): release_message(
            prices.catalog_for(release, prices.store_of_device(d, stores), frozen)
        )
        for d in devices
    }
    publish_retained(messages, host, port, username, password, ca_file, timeout, "hub-config-publisher")


def publish_retained(
    messages: dict[str, bytes],
    host: str,
    port: int,
    username: str | None = None,
    password: str | None = None,
    ca_file: str | None = None,
    timeout: float = 10.0,
    client_id: str = "hub-publisher",
) -> None:
    """Publish each topic's payload retained (QoS 1) and wait for the broker to take every one.

    Raises ``ConnectionError`` (zh/en, with what to check) when the broker cannot be reached.
    """
    broker = broker_client.hub_broker(host, port, username, password, ca_file)
    with broker_client.connected(broker, client_id, timeout) as client:
        infos = [client.publish(topic, payload, qos=1, retain=True) for topic, payload in messages.items()]
        for info in infos:
            info.wait_for_publish(timeout)
