"""A week of stock for the stock pages: used for their screenshots.

``python -m hub.devtools.stock_story docs/screenshots`` seeds a throwaway hub with the report story's
catalog, receives goods at two stores, sets low-stock levels, books the report story's week of sales
through the real ingest (the sales take stock away), then transfers, adjusts and counts, serves the
dashboard and saves ``hub-stock{,_new,_product,_reorder}-{zh,en}.png``, the phone widths
``hub-stock{,_reorder}_phone-{zh,en}.png`` and the catalog with two store prices of S02
``hub-catalog_store_prices{,_phone}-{zh,en}.png``.
"""

import datetime as dt
import io
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw

from hub.catalog import edits, images
from hub.catalog import releases as catalog
from hub.db.schema import open_hub_database
from hub.devtools import loyalty_story, report_story, shots
from hub.devtools.serving import serving
from hub.members import ledger as loyalty
from hub.stock import ledger
from hub.web.app import create_app
from kiosk.domain.loyalty import LoyaltyRules
from kiosk.store.demo_catalog import demo_products

TZ = loyalty_story.TZ
NOW = loyalty_story.NOW
SOLD = (report_story.MILK, report_story.WATER, report_story.BREAD)


def seed(work: Path) -> None:
    """Goods in, levels set, a week of sales, then a transfer, an adjustment and a stock-take."""
    loyalty_story.seed(work)
    catalog.load_catalog(demo_products())
    catalog.load_catalog(
        {"sku": p.sku, "barcode": p.barcode or None, "name_zh": p.name_zh, "name_en": p.name_en,
         "price_fen": p.price_fen, "category": p.category}
        for p in SOLD
    )  # fmt: skip
    week = NOW - dt.timedelta(days=8)
    ledger.receive("S01", [("milk", 120), ("water", 200), ("bread", 30), ("DRY-003", 24)], week, "owner")
    ledger.receive("S02", [("milk", 60), ("water", 80), ("bread", 12)], week, "owner")
    ledger.set_threshold("S01", "bread", 20, 40, week, "owner")
    ledger.set_threshold("S02", "bread", 4, 12, week, "owner")
    ledger.set_threshold("S02", "water", 60, 100, week, "owner")
    ledger.set_threshold("S01", "milk", 12, 48, week, "owner")
    report_story.week_of_sales(work)
    ledger.transfer("S01", "S02", [("water", 10)], NOW, "owner")
    ledger.adjust("S01", [("milk", -2)], "破损 / broken", NOW, "owner")
    ledger.count("S02", [("bread", 2)], NOW, "owner")
    edits.set_store_price("S02", "milk", "6.80", NOW, "owner")  # a dearer district: its own price
    edits.set_store_price("S02", "bread", "13.50", NOW, "owner")
    images.save_image("milk", _carton(), NOW, "owner")


def _carton() -> bytes:
    """A drawn milk carton, as the owner's product photo."""
    picture = Image.new("RGB", (96, 96), (236, 244, 250))
    pen = ImageDraw.Draw(picture)
    pen.polygon([(30, 30), (48, 12), (66, 30)], fill=(37, 99, 235))
    pen.rectangle((30, 30, 66, 86), fill=(255, 255, 255), outline=(37, 99, 235), width=3)
    pen.rectangle((36, 48, 60, 66), fill=(37, 99, 235))
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()


def capture(out: Path) -> list[Path]:
    """Seed a throwaway hub, serve it, and save the stock pages in Chinese and English into ``out``."""
    with tempfile.TemporaryDirectory(prefix="hub-stock-story-") as work:
        db = open_hub_database(f"sqlite:///{work}/hub.db")
        seed(Path(work))
        app = create_app(TZ, today=lambda: NOW.date(), clock=lambda: NOW)
        pages = (
            ("stock", "/stock?", 1280),
            ("stock_new", "/stock/new?kind=transfer&store=S01&", 1280),
            ("stock_product", "/stock/product/milk?", 1280),
            ("stock_reorder", "/stock/reorder?", 1280),
            ("stock_phone", "/stock?", 390),
            ("stock_reorder_phone", "/stock/reorder?", 390),
            ("catalog_store_prices", "/catalog?q=milk&", 1280),
            ("catalog_store_prices_phone", "/catalog?q=milk&", 390),
        )
        try:
            with serving(app) as port:
                return shots.in_both_languages(port, pages, out)
        finally:
            loyalty.configure(LoyaltyRules(), None)
            db.close()


if __name__ == "__main__":
    for path in capture(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")):
        print(path)
