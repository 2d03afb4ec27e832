"""Downlink config: the hub publishes a retained, versioned release; the kiosk applies it atomically."""

import datetime as dt
import json
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from click.testing import CliRunner
from paho.mqtt.enums import CallbackAPIVersion

from hub.catalog import releases as hub_catalog
from hub.cli import main as hub_main
from hub.db.schema import open_hub_database
from hub.fleet.presence import DeviceStatus
from hub.ingest.worker import HubIngestor
from kiosk.devtools.broker import MosquittoBroker
from kiosk.store import catalog as kiosk_catalog
from kiosk.store.models import Product
from kiosk.sync import config
from kiosk.sync.topics import config_topic
from tests.sync.harness import TZ, AgentThread, wait_until

TEA = {"sku": "T1", "barcode": "6901010370005", "name_zh": "绿茶", "name_en": "Green tea", "price_fen": 300}
BUN = {"sku": "B1", "barcode": "6901010370012", "name_zh": "豆沙包", "name_en": "Bean bun", "price_fen": 250}


def raw_publish(port: int, device: str, payload: bytes) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect("127.0.0.1", port)
    client.loop_start()
    client.publish(config_topic(device), payload, qos=1, retain=True).wait_for_publish(5)
    client.loop_stop()
    client.disconnect()


def products() -> dict[str, tuple[str | None, int, bool]]:
    return {p.sku: (p.barcode, p.price_fen, p.active) for p in Product.select()}


def test_published_config_reaches_the_kiosk_and_newer_versions_replace_it_atomically(
    tmp_path: Path,
    kiosk_db,
    broker: MosquittoBroker,  # type: ignore[no-untyped-def]
) -> None:
    hub_url = f"sqlite:///{tmp_path / 'hub.db'}"
    catalog_file = tmp_path / "catalog.json"
    catalog_file.write_text(json.dumps([TEA, BUN], ensure_ascii=False), encoding="utf-8")
    runner = CliRunner()
    port = ["--mqtt-port", str(broker.port)]
    loaded = runner.invoke(hub_main, ["catalog", "load", str(catalog_file), "--db", hub_url])
    assert loaded.exit_code == 0, loaded.output
    published = runner.invoke(hub_main, ["config", "publish", "--db", hub_url, "--device", "KC", *port])
    assert published.output == "config version 1 published to 1 devices: KC\n"

    open_hub_database(hub_url)
    hub = HubIngestor("127.0.0.1", broker.port, TZ, worker="cfg")
    hub.start()
    agent = AgentThread(broker.port, device="KC")  # connects after the publish: the release is retained
    try:
        wait_until(lambda: config.running_version() == 1, what="release 1 applied")
        assert products() == {"T1": ("6901010370005", 300, True), "B1": ("6901010370012", 250, True)}
        assert kiosk_catalog.find_by_barcode("6901010370012").name_zh == "豆沙包"  # type: ignore[union-attr]

        # release 2: tea dearer, the bun's barcode moves to a new bun, the old bun is gone
        hub_catalog.CatalogProduct.delete().where(hub_catalog.CatalogProduct.sku == "B1").execute()
        hub_catalog.load_catalog([{**TEA, "price_fen": 350}, {**BUN, "sku": "B2", "name_zh": "新豆沙包"}])
        release = hub_catalog.new_release(dt.datetime.now(dt.UTC))
        hub_catalog.publish_release(release, ["KC"], "127.0.0.1", broker.port)
        wait_until(lambda: config.running_version() == 2, what="release 2 applied")
        assert products() == {
            "T1": ("6901010370005", 350, True),
            "B1": (None, 250, False),
            "B2": ("6901010370012", 250, True),
        }
        # the terminal reports the version it runs, and the hub's fleet table records it
        wait_until(lambda: getattr(DeviceStatus.get_or_none(device="KC"), "config_version", 0) == 2)

        old = hub_catalog.Release.get_by_id(1).body.encode()
        raw_publish(broker.port, "KC", old)  # a stale release is never applied
        raw_publish(broker.port, "KC", b'{"v":1,"version":9,"catalog":[{"sku":"X"}]}')  # malformed
        raw_publish(broker.port, "KC", b"")  # the hub clearing the retained topic
        marker = {**hub_catalog.latest_release().model_dump(), "version": 3}  # type: ignore[union-attr]
        raw_publish(broker.port, "KC", config.release_message(config.ConfigRelease.model_validate(marker)))
        wait_until(lambda: config.running_version() == 3, what="release 3 applied after the junk")
        assert products()["T1"] == ("6901010370005", 350, True)
    finally:
        agent.close()
        hub.stop()


def test_release_with_a_duplicate_barcode_is_refused_whole(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    payload = json.dumps(
        {
            "v": 1,
            "version": 1,
            "issued_at": "2026-11-24T09:00:00+08:00",
            "catalog": [TEA, {**BUN, "barcode": TEA["barcode"]}],
        }
    ).encode()
    with pytest.raises(config.SchemaError, match=r"^config catalog gives two products the same barcode$"):
        config.parse_release(payload)
    assert config.running_version() == 0 and Product.select().count() == 0
