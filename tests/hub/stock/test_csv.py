"""Catalog and stock CSV import/export: every problem named with its line, a bad file refused whole,
UTF-8 (with or without BOM) and GBK read, UTF-16 and junk refused clearly, formulas neutralised."""

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from hub.catalog import csvfile
from hub.catalog.models import CatalogProduct
from hub.catalog.releases import load_catalog
from hub.cli import main
from hub.stock import csvfile as stock_csv
from hub.stock import ledger
from hub.stock.models import StockDocument, StockMove

NOW = dt.datetime(2026, 11, 24, 7, 0, tzinfo=dt.UTC)
GOOD = "sku,barcode,name_zh,name_en,price,category,active\nA100,6901234567892,有机奶,Milk,6.50,dairy,1\n"


@pytest.fixture
def shop(hub_db):  # type: ignore[no-untyped-def]
    load_catalog([{"sku": "OLD1", "barcode": "6907992500133", "name_zh": "旧货", "price_fen": 100}])
    return hub_db


def test_a_bad_catalog_file_lists_every_line_and_changes_nothing(shop) -> None:  # type: ignore[no-untyped-def]
    text = (
        "SKU,name_zh,price,barcode,active\n"
        "A1,苹果,3.5,,1\n"
        "\n"
        "A2,梨,3.555,,1\n"  # line 4: three decimals
        "A1,苹果二,4,,1\n"  # line 5: A1 again
        "A3,,4,,1\n"  # line 6: no Chinese name
        "A4,桃,4,6907992500133,1\n"  # line 7: OLD1's barcode
        "A5,橙,4,,maybe\n"  # line 8
    )
    with pytest.raises(csvfile.CsvRefused) as refused:
        csvfile.import_text(text, NOW, "owner")
    assert refused.value.render("goods.csv").splitlines() == [
        "goods.csv:4: price: Price '3.555' is not a yuan amount: write it like 12.50 "
        "(at most two decimals). / "
        "第 4 行 price：价格“3.555”看不懂：请写元，最多两位小数，例如 12.50。",
        "goods.csv:5: sku: A1 is also on line 2 / 第 5 行 sku：A1 与第 2 行重复",
        "goods.csv:6: name_zh: String should have at least 1 character / "
        "第 6 行 name_zh：取值无效：String should have at least 1 character",
        "goods.csv:7: barcode: 6907992500133 belongs to product OLD1 / "
        "第 7 行 barcode：条码 6907992500133 已属于商品 OLD1",
        "goods.csv:8: active: 'maybe': write 1 (on sale) or 0 (off) / "
        "第 8 行 active：“maybe”看不懂：在售写 1，停售写 0",
        "5 problem(s), nothing imported / 共 5 处问题，未导入任何内容",
    ]
    assert [p.sku for p in CatalogProduct.select()] == ["OLD1"]


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (GOOD.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + GOOD.encode("utf-8"), "utf-8 with BOM"),
        (GOOD.replace("\n", "\r\n").encode("gbk"), "GBK as Excel saves it"),
    ],
)
def test_the_encodings_excel_writes_are_read(shop, data: bytes, what: str) -> None:  # type: ignore[no-untyped-def]
    assert csvfile.import_text(csvfile.decode(data), NOW, "owner") == (1, 0), what
    milk = CatalogProduct.get_by_id("A100")
    assert (milk.name_zh, milk.price_fen, milk.barcode, milk.active) == ("有机奶", 650, "6901234567892", True)


def test_other_encodings_are_refused_with_the_way_to_save() -> None:
    with pytest.raises(csvfile.CsvRefused) as utf16:
        csvfile.decode(GOOD.encode("utf-16"))
    assert (
        utf16.value.problems[0].zh
        == "这是 UTF-16 文件（Excel 的“Unicode 文本”）：请另存为“CSV UTF-8（逗号分隔）”"
    )
    with pytest.raises(csvfile.CsvRefused) as junk:
        csvfile.decode(b"sku,name_zh,price\nA1,\xff\xfe\xfd,1\n")
    assert junk.value.render() == (
        "line 2: neither UTF-8 nor GBK text: save the sheet as 'CSV UTF-8 (comma delimited)' / "
        "第 2 行：既不是 UTF-8 也不是 GBK 编码：请在 Excel 里另存为“CSV UTF-8（逗号分隔）”\n"
        "1 problem(s), nothing imported / 共 1 处问题，未导入任何内容"
    )


def test_the_export_imports_again_unchanged_and_runs_no_formula(shop) -> None:  # type: ignore[no-untyped-def]
    load_catalog([{"sku": "X1", "name_zh": "=cmd|' /C calc'!A0", "name_en": "+SUM(A1)", "price_fen": 1250}])
    text = csvfile.export_text()
    assert text.splitlines()[2] == "X1,,'=cmd|' /C calc'!A0,'+SUM(A1),12.50,,1"
    assert csvfile.import_text(csvfile.export_text().replace("'=cmd", "=cmd").replace("'+SUM", "+SUM"),
                               NOW, "owner") == (0, 0)  # fmt: skip


def test_a_stock_take_file_books_one_document_per_store(shop) -> None:  # type: ignore[no-untyped-def]
    load_catalog([{"sku": s, "name_zh": s, "price_fen": 100} for s in ("A1", "A2")])
    ledger.receive("S01", [("A1", 10)], NOW, "owner")
    text = "store,sku,on_hand,low,target\nS01,A1,7,5,20\nS02,A1,3,,\nS02,A2,,2,8\n"
    ids, limits = stock_csv.import_text(text, "count", NOW, "owner")
    assert (len(ids), limits) == (2, 2)
    assert [(x.store, x.sku, x.on_hand, x.low, x.target) for x in ledger.levels()] == [
        ("S01", "A1", 7, 5, 20), ("S02", "A1", 3, None, None), ("S02", "A2", 0, 2, 8),
    ]  # fmt: skip
    exported = stock_csv.export_text().lstrip("\ufeff").splitlines()
    assert exported[1] == "S01,A1,A1,,7,5,20,0"


def test_a_bad_stock_file_through_the_cli(shop, hub_db_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    load_catalog([{"sku": "A1", "name_zh": "苹果", "price_fen": 100}])
    bad = tmp_path / "count.csv"
    bad.write_bytes("store,sku,quantity\nS01,A1,5\nS 2,A1,1\nS01,Z9,1\nS01,A1,2\nS03,A1,-1\n".encode("gbk"))
    result = CliRunner().invoke(main, ["stock", "import", str(bad), "--db", hub_db_url])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{bad}:3: store: Store 'S 2' is not a store id: letters, digits, _ and -, e.g. S01. / "
        "第 3 行 store：门店编号“S 2”无效：只能包含字母、数字、_ 和 -，例如 S01。",
        f"{bad}:4: sku: no product Z9 in the catalog / 第 4 行 sku：商品目录里没有编码 Z9",
        f"{bad}:5: sku: S01 A1 is also on line 2 / 第 5 行 sku：S01 A1 与第 2 行重复",
        f"{bad}:6: quantity: '-1': a whole number from 0 to 1000000 / "
        "第 6 行 quantity：“-1”无效：须为 0 到 1000000 的整数",
        "4 problem(s), nothing imported / 共 4 处问题，未导入任何内容",
    ]
    assert (StockMove.select().count(), StockDocument.select().count()) == (0, 0)
