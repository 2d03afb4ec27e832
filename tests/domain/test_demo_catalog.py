import re

from kiosk.domain.barcode import is_valid_ean13
from kiosk.store.demo_catalog import CATEGORIES, demo_products

HAN = re.compile(r"[\u4e00-\u9fff]")


def test_demo_shop_has_112_products_with_valid_unique_barcodes() -> None:
    products = demo_products()
    assert len(products) == 112
    barcodes = [p["barcode"] for p in products]
    assert len(set(barcodes)) == 112
    assert all(is_valid_ean13(str(code)) for code in barcodes)
    assert all(str(code).startswith("69") for code in barcodes)  # GS1 China


def test_demo_products_have_chinese_names_prices_and_known_categories() -> None:
    products = demo_products()
    assert len({p["sku"] for p in products}) == 112
    assert all(HAN.search(str(p["name_zh"])) for p in products)
    assert all(p["name_en"] for p in products)
    assert all(100 <= int(p["price_fen"]) <= 5000 for p in products)  # type: ignore[call-overload]
    assert {p["category"] for p in products} == set(CATEGORIES)


def test_demo_catalog_is_stable() -> None:
    first = demo_products()[0]
    assert first == {
        "sku": "DRK-001",
        "barcode": "6901010370005",
        "name_zh": "农夫山泉 550ml",
        "name_en": "Nongfu Spring water 550ml",
        "price_fen": 200,
        "category": "drinks",
    }
