"""Count card kinds and flash sales for their dashboard pages: used for their screenshots.

``python -m hub.devtools.offers_story docs/screenshots`` seeds a throwaway hub with the rules
story's rules, three count card kinds (one sold only at S01, one valid 90 days), two flash sales
(one running with sales booked through the real ingest, one of them outside its window, one to
come), serves the dashboard and saves ``hub-count_cards-{zh,en}.png`` and
``hub-flash_sales-{zh,en}.png``.
"""

import datetime as dt
import sys
import tempfile
from pathlib import Path

from hub.campaigns import flash
from hub.catalog import releases as catalog
from hub.db import transaction
from hub.db.schema import open_hub_database
from hub.devtools import rules_story, shots
from hub.devtools.serving import serving
from hub.ingest.batch import ingest_batch
from hub.members import ledger as loyalty
from hub.rules import count_card_kinds
from hub.web.app import create_app
from kiosk.domain.loyalty import LoyaltyRules
from kiosk.sync.schema import GENESIS, batch, make_event

TZ = rules_story.TZ
NOW = dt.datetime(2026, 12, 7, 11, 0, tzinfo=TZ)
PRODUCTS = [
    {"sku": "wash", "name_zh": "精洗", "name_en": "Car wash", "price_fen": 3000},
    {"sku": "wax", "name_zh": "打蜡", "name_en": "Waxing", "price_fen": 8000},
    {"sku": "coffee", "name_zh": "美式咖啡", "name_en": "Americano", "price_fen": 1800},
    {"sku": "mooncake", "name_zh": "广式月饼", "name_en": "Mooncake", "price_fen": 3000},
    {"sku": "eggs", "name_zh": "土鸡蛋 10 枚", "name_en": "Free-range eggs ×10", "price_fen": 1590},
]
KINDS = [
    {"sku": "wash10", "name_zh": "洗车10次卡", "name_en": "Car wash ×10", "visits": "10", "price": "199",
     "valid_days": "", "services": "wash", "stores": ""},
    {"sku": "spa5", "name_zh": "精洗打蜡5次卡", "name_en": "Wash & wax ×5", "visits": "5", "price": "299.50",
     "valid_days": "90", "services": "wash, wax", "stores": "S01"},
    {"sku": "coffee20", "name_zh": "咖啡20杯卡", "name_en": "Coffee ×20", "visits": "20", "price": "288",
     "valid_days": "365", "services": "coffee", "stores": "S01, S02"},
]  # fmt: skip


def _sell(device: str, sales: list[tuple[int, str, int]]) -> None:
    """Book ``sales`` of (unit price, local time, units) of mooncakes from ``device`` through the ingest."""
    prev, events = GENESIS, []
    for seq, (price, at, units) in enumerate(sales, start=1):
        line = {"position": 1, "sku": "mooncake", "name_zh": "广式月饼", "name_en": "Mooncake",
                "unit_price_fen": price, "quantity": units, "total_fen": price * units}  # fmt: skip
        data = {"sale_id": f"{device}-{seq}", "receipt_no": f"S01-{device}-{seq}", "store": "S01",
                "total_fen": price * units, "currency": "CNY", "lines": [line],
                "payments": [{"method": "cash", "amount_fen": price * units, "reference": ""}],
                "member_id": None, "ledger": []}  # fmt: skip
        ts = f"2026-12-07T{at}:00.000+08:00"
        event = make_event(event_id=f"{device}-ev-{seq}", device=device, seq=seq, boot="b", ts=ts,
                           type="sale.completed", prev=prev, data=data)  # fmt: skip
        prev = event["hash"]
        events.append(event)
    ingest_batch(f"pos/{device}/up/events", batch(device, events), NOW.astimezone(dt.UTC), TZ)


def seed() -> None:
    """The rules, the catalog, the count card kinds, two flash sales and some flash sales booked."""
    rules_story.seed()
    catalog.load_catalog(PRODUCTS)
    utc = NOW.astimezone(dt.UTC)
    with transaction():
        for kind in KINDS:
            count_card_kinds.put_kind(kind, None, "owner", utc)
        flash.define("double12-mooncake", "mooncake", 990, 50, NOW.replace(hour=10), NOW.replace(hour=14),
                     ["K01", "K02", "K03"], "owner", utc)  # fmt: skip
        flash.define("double12-eggs", "eggs", 990, 30, NOW + dt.timedelta(days=5),
                     NOW + dt.timedelta(days=5, hours=2), ["K01", "K02"], "owner", utc)  # fmt: skip
    catalog.new_release(utc - dt.timedelta(hours=2))
    _sell("K01", [(990, "10:02", 2), (990, "10:15", 5), (990, "10:40", 3), (3000, "10:55", 1)])
    _sell("K02", [(990, "09:58", 1), (990, "10:20", 4)])  # K02's clock ran early: one line outside


def capture(out: Path) -> list[Path]:
    """Seed a throwaway hub, serve it, and save the two pages in Chinese and English into ``out``."""
    with tempfile.TemporaryDirectory(prefix="hub-offers-story-") as work:
        db = open_hub_database(f"sqlite:///{work}/hub.db")
        seed()
        app = create_app(TZ, today=lambda: NOW.date(), clock=lambda: NOW)
        pages = (("count_cards", "/count-cards?", 1280), ("flash_sales", "/flash-sales?", 1280))
        try:
            with serving(app) as port:
                return shots.in_both_languages(port, pages, out)
        finally:
            loyalty.configure(LoyaltyRules(), None)
            db.close()


if __name__ == "__main__":
    for path in capture(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")):
        print(path)
