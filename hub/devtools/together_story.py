"""Screenshots of the owner's "often bought together" page with the terminals' suggestions counted:
``python -m hub.devtools.together_story docs/screenshots``.

Books 20 receipts of the demo shop through the real ingest into a throwaway hub database, runs the
``bought_together`` job, then books four sales made while the cart suggested (two suggestions taken).
"""

import datetime as dt
import sys
import tempfile
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hub.catalog.models import CatalogProduct
from hub.db.schema import open_hub_database
from hub.devtools import shots
from hub.devtools.serving import serving
from hub.ingest.batch import ingest_batch
from hub.jobs import catalog as jobs
from hub.jobs import runner
from hub.web.app import create_app
from kiosk.store.demo_catalog import demo_products
from kiosk.sync.schema import GENESIS, batch, make_event

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 12, 2, 5, 30, tzinfo=TZ)
WATER, CHIPS, MILK, YOGURT, BEER = "DRK-001", "SNK-001", "DRY-001", "DRY-004", "ALC-001"
BASKETS = (
    [(WATER, CHIPS)] * 4 + [(WATER, CHIPS, YOGURT)] + [(WATER, YOGURT)] * 2 + [(WATER,)] * 3
    + [(MILK, YOGURT)] * 3 + [(MILK,)] * 2 + [(CHIPS,)] + [(WATER, BEER)] * 3 + [(BEER,)]
)  # fmt: skip
# after the job: (skus, the line the shopper took from the suggestion, what the cart suggested)
SUGGESTED = [
    ((WATER, MILK, YOGURT), YOGURT, [YOGURT, CHIPS]),
    ((WATER,), "", [CHIPS]),
    ((WATER, CHIPS), CHIPS, [CHIPS]),
    ((MILK,), "", [YOGURT]),
]
PRODUCTS = {p["sku"]: p for p in demo_products()}


def _sale(
    sale_id: str, skus: tuple[str, ...], taken: str = "", shown: list[str] | None = None
) -> dict[str, Any]:
    lines = [
        {"position": i, "sku": sku, "name_zh": PRODUCTS[sku]["name_zh"], "name_en": PRODUCTS[sku]["name_en"],
         "unit_price_fen": PRODUCTS[sku]["price_fen"], "quantity": 1, "total_fen": PRODUCTS[sku]["price_fen"]}
        | ({"source": "together"} if sku == taken else {})
        for i, sku in enumerate(skus, start=1)
    ]  # fmt: skip
    total = sum(int(line["total_fen"]) for line in lines)
    return {
        "sale_id": sale_id, "receipt_no": f"S01-K01-{sale_id}", "store": "S01", "total_fen": total,
        "currency": "CNY", "lines": lines, "member_id": None,
        "payments": [{"method": "wechat", "amount_fen": total, "reference": "wx"}],
    } | ({"together_shown": shown} if shown else {})  # fmt: skip


def _book(sales: list[dict[str, Any]], first_seq: int, prev: str, ts: str) -> str:
    events = []
    for seq, data in enumerate(sales, start=first_seq):
        event = make_event(event_id=f"ev-{seq}", device="K01", seq=seq, boot="boot", ts=ts,
                           type="sale.completed", prev=prev, data=data)  # fmt: skip
        events.append(event)
        prev = event["hash"]
    ingest_batch("pos/K01/up/events", batch("K01", events), NOW, TZ)
    return prev


def seed() -> None:
    """The receipts, the job's rules, then the sales with suggestions."""
    for sku in (WATER, CHIPS, MILK, YOGURT, BEER):
        row = PRODUCTS[sku]
        CatalogProduct.create(
            sku=sku, name_zh=row["name_zh"], name_en=row["name_en"], price_fen=row["price_fen"]
        )
    receipts = [_sale(f"t{n}", basket) for n, basket in enumerate(BASKETS, start=1)]
    prev = _book(receipts, 1, GENESIS, "2026-11-28T10:00:00.000+08:00")
    done = runner.run_job(jobs.job_named("bought_together"), runner.JobContext(NOW, TZ))
    assert done.status == "ok", done.summary
    later = [_sale(f"g{n}", skus, taken, shown) for n, (skus, taken, shown) in enumerate(SUGGESTED, start=1)]
    _book(later, len(receipts) + 1, prev, "2026-12-01T18:00:00.000+08:00")


def capture(out: Path) -> list[Path]:
    """/reports/together in Chinese and English."""
    with tempfile.TemporaryDirectory(prefix="hub-together-story-") as work:
        db = open_hub_database(f"sqlite:///{work}/hub.db")
        try:
            seed()
            app = create_app(TZ, today=lambda: NOW.date(), data_dir=Path(work) / "hub", clock=lambda: NOW)
            with serving(app) as port:
                return shots.in_both_languages(port, (("together", "/reports/together?", 1280),), out)
        finally:
            db.close()


if __name__ == "__main__":
    for path in capture(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")):
        print(path)
