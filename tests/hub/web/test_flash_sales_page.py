"""Flash sales at the hub: a line at the flash price sold inside the window books quietly, one sold
outside it is a ``flash_window`` reconciliation item with the window and the sale's time; the
flash sales page shows the window, state, cap, sold and left in all and per terminal share."""

import datetime as dt
import re
from typing import Any

from hub.campaigns import flash
from hub.catalog import releases as hub_catalog
from hub.db import transaction
from hub.fleet.devices import DeviceRegistry
from hub.ingest.batch import ingest_batch
from hub.members.models import Reconciliation
from hub.members.reconciliation_text import kind_text
from hub.web.app import create_app
from kiosk.sync.schema import GENESIS, batch, make_event
from tests.events import sale_data
from tests.hub.campaigns.test_flash_sales import TZ

NOW = dt.datetime(2026, 9, 25, 3, 0, tzinfo=dt.UTC)  # 11:00 in Shanghai, inside the window
START, END = dt.datetime(2026, 9, 25, 2, 0, tzinfo=dt.UTC), dt.datetime(2026, 9, 25, 4, 0, tzinfo=dt.UTC)


def sell(device: str, sales: list[tuple[str, int, str]]) -> None:
    """Book ``sales`` of (sale id, unit price, local time) of one mooncake each from ``device``."""
    prev, events = GENESIS, []
    for seq, (sale_id, price, at) in enumerate(sales, start=1):
        event = make_event(event_id=f"{device}-ev-{seq}", device=device, seq=seq, boot="b",
                           ts=f"2026-09-25T{at}:00.000+08:00", type="sale.completed", prev=prev,
                           data=sale_data(sale_id, [("mooncake", price, 1)]))  # fmt: skip
        prev = event["hash"]
        events.append(event)
    result = ingest_batch(f"pos/{device}/up/events", batch(device, events), NOW, TZ)
    assert result is not None and result.applied == len(sales)


def text(html: str, id_: str) -> str:
    match = re.search(rf'id="{id_}"[^>]*>(.*?)</section>', html, re.S)
    assert match, f"no {id_}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def shop() -> None:
    hub_catalog.load_catalog(
        [{"sku": "mooncake", "name_zh": "月饼", "name_en": "Mooncake", "price_fen": 3000}]
    )
    with transaction():
        flash.define("mid-autumn", "mooncake", 1000, 5, START, END, ["K01", "K02"], "owner", NOW)
    hub_catalog.new_release(NOW - dt.timedelta(days=1))


def test_a_flash_line_sold_outside_the_window_is_flagged_with_the_window(hub_db: Any) -> None:
    shop()
    sell("K01", [("a1", 1000, "10:30"), ("a2", 1000, "11:59"), ("a3", 3000, "12:10")])
    sell("K02", [("b1", 1000, "09:59"), ("b2", 1000, "12:00")])  # one before, one at the end: outside
    found = [
        (r.kind, r.sale_id, r.device, r.got, r.detail)
        for r in Reconciliation.select().order_by(Reconciliation.id)
    ]
    window = "outside the flash window 2026-09-25T02:00:00+00:00 – 2026-09-25T04:00:00+00:00 (UTC)"
    assert found == [
        ("flash_window", "b1", "K02", 1000,
         f"flash sale mid-autumn line 1 mooncake: sold at 2026-09-25T01:59:00+00:00, {window}"),
        ("flash_window", "b2", "K02", 1000,
         f"flash sale mid-autumn line 1 mooncake: sold at 2026-09-25T04:00:00+00:00, {window}"),
    ]  # fmt: skip
    assert kind_text("flash_window").text("en")[0] == "Flash price outside its window"
    # a terminal without a share that charges the flash price is a plain price mismatch
    sell("K09", [("c1", 1000, "11:00")])
    assert Reconciliation.get(Reconciliation.sale_id == "c1").kind == "price_mismatch"


def test_the_page_shows_window_cap_sold_and_left_per_terminal(hub_db: Any, signed_in: Any) -> None:
    shop()
    sell("K01", [("a1", 1000, "10:30"), ("a2", 1000, "11:00")])
    sell("K02", [("b1", 1000, "12:30")])
    app = create_app(TZ, clock=lambda: NOW)
    client = signed_in(app)
    assert text(client.get("/flash-sales").text, "flash-mid-autumn") == (
        "月饼 mooncake · mid-autumn 进行中 秒杀价 ¥10.00 （原价 ¥30.00） "
        "时间 2026-09-25 10:00 – 2026-09-25 12:00 总量 5 已售 3 剩余 2 "
        "终端 份额 已售 剩余 K01 3 2 1 K02 2 1 1 1 行在秒杀时间外以秒杀价售出，见对账"
    )
    assert text(client.get("/flash-sales?lang=en").text, "flash-mid-autumn") == (
        "Mooncake mooncake · mid-autumn Running Flash price ¥10.00 (normally ¥30.00) "
        "Window 2026-09-25 10:00 – 2026-09-25 12:00 Cap 5 Sold 3 Left 2 "
        "Terminal Share Sold Left K01 3 2 1 K02 2 1 1 "
        "1 line sold at the flash price outside the window: see reconciliation"
    )
    assert "进行中" not in signed_in(create_app(TZ, clock=lambda: END)).get("/flash-sales").text
    assert signed_in(app, "manager", stores="S01").get("/flash-sales").status_code == 200
    assert signed_in(app, "accountant").get("/flash-sales").status_code == 403


def test_the_form_defines_a_sale_in_local_time_and_refuses_bad_input_in_both_languages(
    hub_db: Any, signed_in: Any
) -> None:
    mooncake = {"sku": "mooncake", "name_zh": "月饼", "name_en": "Mooncake", "price_fen": 3000}
    hub_catalog.load_catalog([mooncake])
    client = signed_in(create_app(TZ, clock=lambda: NOW))
    form = {"id": "double12", "sku": "mooncake", "price": "9.90", "cap": "7", "starts": "2026-12-12T10:00",
            "ends": "2026-12-12T12:00", "devices": "K02，K01"}  # fmt: skip
    made = client.post("/flash-sales", data=form, follow_redirects=False)
    assert (made.status_code, made.headers["location"]) == (303, "/flash-sales?saved=double12")
    row = flash.FlashSale.get_by_id("double12")
    assert (row.price_fen, row.cap, row.starts_at, row.ends_at, row.allocations) == (
        990, 7, "2026-12-12T02:00:00+00:00", "2026-12-12T04:00:00+00:00", '{"K01": 4, "K02": 3}'
    )  # fmt: skip
    bad = client.post("/flash-sales", data=form | {"id": "a b", "price": "9,9", "cap": "0", "ends": "noon"})
    shown = re.findall(r"<li>(.*?)</li>", re.search(r'id="problems".*?</div>', bad.text, re.S).group(0))  # type: ignore[union-attr]
    assert (bad.status_code, shown) == (422, [
        "id: 只能用字母、数字、_ . -（最多 40 个） / use letters, digits, _ . - only (at most 40)",
        "price: 价格请填元，如 99 或 99.50 / give the price in yuan, e.g. 99 or 99.50",
        "cap: 请填写整数件数，至少 1 / give a whole number of units, at least 1",
        "ends: 请填写日期和时间，如 2026-12-12 10:00 / give a date and time, e.g. 2026-12-12 10:00",
    ])  # fmt: skip
    again = client.post("/flash-sales", data=form | {"price": "30"})  # not below the normal price
    assert again.status_code == 422 and "below the normal price (3000 fen)" in again.text
    assert 'value="9,9"' in bad.text and flash.FlashSale.select().count() == 1


def test_a_manager_defines_and_sees_only_flash_sales_of_their_stores_terminals(
    hub_db: Any, signed_in: Any, tmp_path: Any
) -> None:
    registry = DeviceRegistry(tmp_path)
    for store, device in (("S01", "K01"), ("S01", "K02"), ("S02", "K03")):
        registry.add(store, f"Till {device}", NOW, device_id=device)
    registry.save()
    hub_catalog.load_catalog(
        [{"sku": "mooncake", "name_zh": "月饼", "name_en": "Mooncake", "price_fen": 3000}]
    )
    app = create_app(TZ, clock=lambda: NOW, data_dir=tmp_path)
    owner, manager = signed_in(app), signed_in(app, "manager", stores="S01")
    form = {"id": "s01", "sku": "mooncake", "price": "9.90", "cap": "5", "starts": "2026-09-25T10:00",
            "ends": "2026-09-25T12:00", "devices": "K01 K02"}  # fmt: skip
    assert manager.post("/flash-sales", data=form, follow_redirects=False).status_code == 303
    # another store's terminal, or no terminal named (every terminal), is the owner's to include
    other = manager.post("/flash-sales", data=form | {"id": "x", "devices": "K01 K03"})
    assert other.status_code == 403
    assert (
        "终端 K03 不属于您的门店（S01），只有店主可以把它们加入秒杀 / "
        "terminal(s) K03 are not in your stores (S01); only the owner may include them"
    ) in other.text
    body = {"id": "api", "sku": "mooncake", "price_fen": 990, "cap": 3, "by": "m",
            "starts_at": "2026-09-25T10:00:00+08:00", "ends_at": "2026-09-25T12:00:00+08:00"}  # fmt: skip
    assert manager.post("/api/v1/flash-sales", json=body).status_code == 403
    assert manager.post("/api/v1/flash-sales", json=body | {"devices": ["K03"]}).status_code == 403
    assert manager.post("/api/v1/flash-sales", json=body | {"devices": ["K02"]}).json() == {
        "id": "api", "allocations": {"K02": 3},
    }  # fmt: skip
    assert owner.post("/flash-sales", data=form | {"id": "all", "devices": "K01 K03"}).status_code == 200
    assert sorted(r.id for r in flash.FlashSale.select()) == ["all", "api", "s01"]
    # each sees the sales they may: the manager not the owner's sale that spans both stores
    assert [s["id"] for s in manager.get("/api/v1/flash-sales").json()["flash_sales"]] == ["api", "s01"]
    assert [s["id"] for s in owner.get("/api/v1/flash-sales").json()["flash_sales"]] == ["all", "api", "s01"]
    assert 'id="flash-all"' not in manager.get("/flash-sales").text
    assert 'id="flash-all"' in owner.get("/flash-sales").text
