"""The catalog page and API: search, change a price, switch off, add, publish to a real broker."""

import datetime as dt
import json
import threading
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from hub.accounts import audit as owner_audit
from hub.catalog import edits as catalog_admin
from hub.catalog import releases as catalog
from hub.fleet.presence import record_status
from hub.web.app import create_app
from hub.web.catalog import broker_publisher
from kiosk.devtools.broker import MosquittoBroker
from kiosk.store.demo_catalog import demo_products
from kiosk.sync.topics import config_topic

TZ = __import__("zoneinfo").ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 24, 7, 0, tzinfo=dt.UTC)
MILK = "6902011110201"  # 特仑苏有机奶 250ml in the demo shop


@pytest.fixture
def shop(hub_db) -> dict[str, dict[str, object]]:  # type: ignore[no-untyped-def]
    items = demo_products()
    catalog.load_catalog(items)
    catalog.new_release(NOW)  # what the terminals run
    return {str(i["sku"]): i for i in items}


@pytest.fixture
def client(signed_in):  # type: ignore[no-untyped-def]
    """The catalog's app (keyword arguments to ``create_app``), signed in as the owner."""
    return lambda **kwargs: signed_in(create_app(TZ, **kwargs))


def milk_sku(shop: dict[str, dict[str, object]]) -> str:
    return next(sku for sku, item in shop.items() if item["barcode"] == MILK)


def test_search_finds_by_chinese_name_sku_or_barcode(shop, client) -> None:  # type: ignore[no-untyped-def]
    web = client()
    sku = milk_sku(shop)
    for q in ("特仑苏", sku, MILK[-6:]):
        html = web.get(f"/catalog?q={q}").text
        assert f'id="product-{sku}"' in html, q
        assert "显示 1 / 共 1 个商品" in html
    assert "终端已是最新：商品与已发布的第 1 版一致。" in web.get("/catalog").text
    assert f"Showing {len(shop)} of {len(shop)} products" in web.get("/catalog?lang=en").text


def test_a_price_change_is_audited_and_waits_for_publishing(shop, client) -> None:  # type: ignore[no-untyped-def]
    web = client()
    sku = milk_sku(shop)
    item = shop[sku]
    form = {"by": "amy", "price": "¥7.20", "name_zh": item["name_zh"], "name_en": item["name_en"],
            "category": item["category"], "active": "1"}  # fmt: skip
    answer = web.post(f"/catalog/{sku}", data=form, follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, f"/catalog?done=saved:{sku}&q={sku}")
    assert catalog.CatalogProduct.get_by_id(sku).price_fen == 720
    [audit] = owner_audit.trail(f"product:{sku}")
    # the signed-in account, not the "by" the form claims
    assert (audit["by"], audit["action"], audit["detail"]) == (
        "owner",
        "catalog.update",
        {"price_fen": [item["price_fen"], 720]},
    )
    pending = catalog_admin.unpublished()
    assert (pending.release, pending.added, pending.changed, pending.removed) == (1, [], [sku], [])
    html = web.get(f"/catalog?done=saved:{sku}&q={sku}").text
    assert f"已保存 {sku}。" in html
    assert "有 1 个商品的改动尚未发布到终端（新增 0，修改 1，删除 0）。" in html
    assert "在 hub 主机上运行 hub config publish 发布到终端。" in html  # no broker given to this app

    off = web.post(f"/catalog/{sku}", data={**form, "active": ""}, follow_redirects=False)  # box unticked
    assert off.status_code == 303 and catalog.CatalogProduct.get_by_id(sku).active is False


@pytest.mark.parametrize(
    ("price", "zh", "en"),
    [
        ("12.505", "价格“12.505”看不懂", "Price '12.505' is not a yuan amount"),
        ("十二", "价格“十二”看不懂", "Price '十二' is not a yuan amount"),
        ("2000000", "价格须在 ¥0 到 ¥1000000 之间。", "The price must be between ¥0 and ¥1,000,000."),
    ],
)
def test_a_bad_price_is_refused_with_the_reason(shop, price: str, zh: str, en: str, client) -> None:  # type: ignore[no-untyped-def]
    web = client()
    sku = milk_sku(shop)
    before = catalog.CatalogProduct.get_by_id(sku).price_fen
    page = web.post(f"/catalog/{sku}", data={"by": "amy", "price": price, "active": "1"})
    assert page.status_code == 400 and zh in page.text
    assert (
        en.replace("'", "&#39;")
        in web.post(f"/catalog/{sku}?lang=en", data={"by": "amy", "price": price}).text
    )
    assert catalog.CatalogProduct.get_by_id(sku).price_fen == before
    assert owner_audit.trail(f"product:{sku}") == []


def test_adding_a_product_checks_sku_and_barcode(shop, client) -> None:  # type: ignore[no-untyped-def]
    web = client()
    new = {"by": "amy", "sku": "CAKE-1", "barcode": "", "name_zh": "芒果蛋糕", "name_en": "Mango cake",
           "category": "bakery", "price": "18.8"}  # fmt: skip
    assert web.post("/catalog", data=new, follow_redirects=False).status_code == 303
    cake = catalog.CatalogProduct.get_by_id("CAKE-1")
    assert (cake.name_zh, cake.price_fen, cake.barcode, cake.active) == ("芒果蛋糕", 1880, None, True)
    again = web.post("/catalog", data=new)
    assert again.status_code == 400 and "商品编码 CAKE-1 已存在。" in again.text
    taken = web.post("/catalog?lang=en", data={**new, "sku": "CAKE-2", "barcode": MILK})
    assert f"Barcode {MILK} belongs to another product." in taken.text
    assert catalog_admin.unpublished().added == ["CAKE-1"]


def test_the_api_reads_changes_and_adds(shop, client) -> None:  # type: ignore[no-untyped-def]
    web = client()
    sku = milk_sku(shop)
    changed = web.patch(f"/api/v1/catalog/{sku}", json={"by": "script", "price": "6", "active": False})
    assert changed.status_code == 200 and (changed.json()["price_fen"], changed.json()["active"]) == (
        600,
        False,
    )
    assert web.patch("/api/v1/catalog/NOPE", json={"by": "script", "price": "6"}).status_code == 404
    bad = web.patch(f"/api/v1/catalog/{sku}", json={"by": "script", "price": "6.001"})
    assert bad.status_code == 422 and "not a yuan amount" in bad.json()["detail"]
    added = web.post(
        "/api/v1/catalog", json={"by": "script", "sku": "TEA-9", "name_zh": "普洱", "price": "45"}
    )
    assert added.status_code == 201 and added.json()["price_fen"] == 4500
    listing = web.get("/api/v1/catalog?q=普洱").json()
    assert [p["sku"] for p in listing["products"]] == ["TEA-9"]
    assert listing["unpublished"] == {
        "release": 1,
        "added": ["TEA-9"],
        "changed": [sku],
        "removed": [],
        "behind": {},
    }


def test_publish_from_the_page_reaches_a_real_broker(shop, own_broker: MosquittoBroker, client) -> None:  # type: ignore[no-untyped-def]
    own_broker.start()
    status = {"state": "online", "device": "K01", "config_version": 1}
    record_status("pos/K01/status", json.dumps(status).encode(), NOW)  # a terminal the hub knows
    web = client(publish_catalog=broker_publisher("127.0.0.1", own_broker.port))
    sku = milk_sku(shop)
    web.patch(f"/api/v1/catalog/{sku}", json={"by": "amy", "price": "7.2"})
    answer = web.post("/catalog/publish", follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/catalog?done=published:2:1")
    assert "第 2 版已发布到 1 台终端。" in web.get("/catalog?done=published:2:1").text

    got: list[bytes] = []
    arrived = threading.Event()
    reader = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    reader.on_message = lambda _c, _u, m: (got.append(m.payload), arrived.set())
    reader.connect("127.0.0.1", own_broker.port)
    reader.subscribe(config_topic("K01"), qos=1)
    reader.loop_start()
    try:
        assert arrived.wait(10)
    finally:
        reader.loop_stop()
        reader.disconnect()
    release = json.loads(got[0])
    assert release["version"] == 2
    assert next(p for p in release["catalog"] if p["sku"] == sku)["price_fen"] == 720
    assert catalog_admin.unpublished().count == 0


def test_publish_failure_is_shown(shop, tmp_path: Path, client) -> None:  # type: ignore[no-untyped-def]
    record_status("pos/K01/status", json.dumps({"state": "online", "device": "K01"}).encode(), NOW)
    from kiosk.devtools.ports import free_port

    web = client(publish_catalog=broker_publisher("127.0.0.1", free_port()))  # nothing listens there
    page = web.post("/catalog/publish")
    assert page.status_code == 502 and "发布失败：无法连接消息服务器" in page.text
    pending = catalog_admin.unpublished()
    assert (pending.release, pending.behind) == (1, [("K01", 0)])  # no release spent; K01 still runs none
    assert "以下终端运行的配置旧于第 1 版" in page.text
