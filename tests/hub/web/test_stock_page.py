"""The stock pages and API as each role uses them: documents by form and JSON, errors with the line,
managers kept to their stores, the accountant reading, CSV without formulas, the home page's alert."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from hub.catalog.releases import load_catalog
from hub.reports import overview
from hub.stock import ledger
from hub.stock.models import StockDocument, StockMove
from hub.web.app import create_app

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 24, 7, 0, tzinfo=dt.UTC)


@pytest.fixture
def shop(hub_db):  # type: ignore[no-untyped-def]
    load_catalog(
        [
            {
                "sku": "A100",
                "barcode": None,
                "name_zh": "有机奶",
                "name_en": "Organic milk",
                "price_fen": 650,
            },
            {
                "sku": "B200",
                "barcode": None,
                "name_zh": "=cmd|' /C calc'!A0",
                "name_en": "",
                "price_fen": 300,
            },
        ]
    )
    return create_app(TZ, clock=lambda: NOW)


def test_the_owner_receives_counts_and_reads_it_back(shop, signed_in) -> None:  # type: ignore[no-untyped-def]
    web = signed_in(shop, follow_redirects=False)
    answer = web.post("/stock/new", data={"kind": "receive", "store": "S01", "lines": "A100 24\n\nB200,6"})
    assert (answer.status_code, answer.headers["location"]) == (303, "/stock?store=S01&done=receive")
    web.post("/stock/new?lang=en", data={"kind": "count", "store": "S01", "lines": "A100 20"})
    page = web.get("/stock?store=S01").text
    assert "到货入库已保存。" in web.get("/stock?store=S01&done=receive").text
    assert '<td class="num ">20</td>' in page and '<td class="num ">6</td>' in page
    moves = web.get("/stock/product/A100?lang=en").text
    assert "Stock-take" in moves and "-4" in moves and "+24" in moves
    assert web.get("/api/v1/stock?store=S01").json()["levels"][0] == {
        "store": "S01", "sku": "A100", "name_zh": "有机奶", "name_en": "Organic milk", "on_hand": 20,
        "low": None, "target": None, "is_low": False, "suggested": 0,
    }  # fmt: skip


def test_a_bad_line_is_named_and_nothing_is_written(shop, signed_in) -> None:  # type: ignore[no-untyped-def]
    web = signed_in(shop)
    answer = web.post("/stock/new", data={"kind": "receive", "store": "S01", "lines": "A100 2\n\nZ9 1"})
    assert answer.status_code == 400
    assert "第 3 行：商品目录里没有编码 Z9。" in answer.text
    assert "A100 2" in answer.text  # the form keeps what was typed
    answer = web.post("/stock/new?lang=en", data={"kind": "adjust", "store": "S01", "lines": "A100 two"})
    assert "Line 1: quantity &#39;two&#39; is not a whole number." in answer.text
    assert (StockMove.select().count(), StockDocument.select().count()) == (0, 0)
    sent = {"kind": "transfer", "store": "S01", "to_store": "S02", "lines": [{"sku": "A100", "quantity": 1}]}
    refused = web.post("/api/v1/stock/documents", json=sent)
    assert refused.status_code == 422
    assert (
        refused.json()["detail"]
        == "第 1 行：S01 只有 0 件 A100，调不出 1 件。 / Line 1: S01 holds 0 of A100, cannot send 1."
    )


def test_a_manager_keeps_to_their_stores_and_the_accountant_reads(shop, signed_in) -> None:  # type: ignore[no-untyped-def]
    ledger.receive("S01", [("A100", 5)], NOW, "owner")
    ledger.receive("S02", [("A100", 7)], NOW, "owner")
    manager = signed_in(shop, "manager", stores="S01")
    assert [x["store"] for x in manager.get("/api/v1/stock").json()["levels"]] == ["S01"]
    assert manager.get("/stock?store=S02").status_code == 403
    assert (
        manager.post("/stock/new", data={"kind": "receive", "store": "S02", "lines": "A100 1"}).status_code
        == 403
    )
    sent = {"kind": "transfer", "store": "S01", "to_store": "S02", "lines": [{"sku": "A100", "quantity": 1}]}
    assert manager.post("/api/v1/stock/documents", json=sent).status_code == 403  # S02 is not theirs
    assert manager.post("/api/v1/stock/documents", json={**sent, "kind": "receive"}).status_code == 201
    accountant = signed_in(shop, "accountant")
    assert accountant.get("/stock").status_code == 200
    assert (
        accountant.post("/stock/new", data={"kind": "receive", "store": "S01", "lines": "A100 1"}).status_code
        == 403
    )
    assert ledger.on_hand("S01", "A100") == 6 and ledger.on_hand("S02", "A100") == 7


def test_low_stock_reaches_the_home_page_and_the_reorder_csv(shop, signed_in) -> None:  # type: ignore[no-untyped-def]
    web = signed_in(shop)
    ledger.receive("S01", [("A100", 3), ("B200", 1)], NOW, "owner")
    assert (
        web.post(
            "/stock/threshold", data={"store": "S01", "sku": "A100", "low": "5", "target": "24"}
        ).status_code
        == 200
    )
    web.put("/api/v1/stock/thresholds", json={"store": "S01", "sku": "B200", "low": 2, "target": 10})
    alert = next(a for a in overview.alerts(NOW) if a.kind == "stock")
    assert (alert.zh, alert.link) == (
        "2 种商品低于库存下限：S01 有机奶、S01 =cmd|' /C calc'!A0",
        "/stock/reorder",
    )
    assert "/stock/reorder" in web.get("/").text
    assert web.get("/stock/reorder").text.count('id="reorder-S01-') == 2
    csv = web.get("/stock.csv?table=reorder").content.decode("utf-8-sig").splitlines()
    assert csv == [
        "store,sku,name_zh,name_en,on_hand,low,target,suggested",
        "S01,A100,有机奶,Organic milk,3,5,24,21",
        "S01,B200,'=cmd|' /C calc'!A0,,1,2,10,9",
    ]


def test_csv_uploads_from_the_pages(shop, signed_in) -> None:  # type: ignore[no-untyped-def]
    web = signed_in(shop, follow_redirects=False)
    csrf = web.headers.pop("X-CSRF-Token")  # the browser's form sends its csrf field, not the header
    bad = "sku,name_zh,price\nC1,茶,2\nC2,咖啡,abc\n".encode("gbk")
    answer = web.post("/catalog/import", data={"csrf": csrf}, files={"file": ("goods.csv", bad, "text/csv")})
    assert answer.status_code == 400
    assert "文件有 1 处问题，没有导入任何内容：" in answer.text
    assert "<li>第 3 行 price：价格“abc”看不懂：请写元，最多两位小数，例如 12.50。</li>" in answer.text
    good = bad.replace(b"abc", b"18.5")
    answer = web.post("/catalog/import", data={"csrf": csrf}, files={"file": ("goods.csv", good, "text/csv")})
    assert (answer.status_code, answer.headers["location"]) == (303, "/catalog?done=imported:2:0")
    assert "C2,,咖啡,,18.50,,1" in web.get("/catalog.csv").content.decode("utf-8-sig")
    assert web.post("/catalog/import", files={"file": ("goods.csv", good, "text/csv")}).status_code == 403
    count = b"store,sku,quantity,low,target\nS01,C1,9,10,30\nS01,C2,4,,\n"
    answer = web.post(
        "/stock/import?lang=en",
        data={"csrf": csrf, "kind": "count"},
        files={"file": ("c.csv", count, "text/csv")},
    )
    assert (answer.status_code, answer.headers["location"]) == (303, "/stock?done=imported%3A1%3A1&lang=en")
    assert (ledger.on_hand("S01", "C1"), ledger.on_hand("S01", "C2")) == (9, 4)
    assert "Imported: 1 document(s), 1 low level(s)." in web.get(answer.headers["location"]).text
    manager = signed_in(shop, "manager", stores="S02", follow_redirects=False)
    token = manager.headers.pop("X-CSRF-Token")
    files = {"file": ("c.csv", count, "text/csv")}
    assert (
        manager.post("/stock/import", data={"csrf": token, "kind": "receive"}, files=files).status_code == 403
    )
    assert (ledger.on_hand("S01", "C1"), ledger.on_hand("S01", "C2")) == (9, 4)
