"""Screenshots of the e-receipt rating (on a phone, as the shopper sees it) and the owner's
ratings page: ``python -m hub.devtools.ratings_story docs/screenshots``.

Books four real sales through the ingest into a throwaway hub database, rates three of them the
way the shopper's tap does (:func:`hub.reports.ratings.rate`), and leaves one to be rated.
"""

import base64
import datetime as dt
import sys
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

from hub.db import transaction
from hub.db.schema import open_hub_database
from hub.devtools import shots as shots_
from hub.devtools.serving import serving
from hub.fleet.receipt_keys import device_receipt_key_text
from hub.ingest.batch import ingest_batch
from hub.ingest.models import Sale
from hub.reports import ratings
from hub.web.app import create_app
from kiosk.domain import receipt_link
from kiosk.sync.schema import GENESIS, batch, make_event

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 24, 20, 0, tzinfo=TZ)
# (receipt, local time, stars, comment); stars 0: not rated yet (the phone shot)
SALES = [
    ("S01-K01-202611230001", "2026-11-23T10:00:00.000+08:00", 3, "排队有点久"),
    ("S01-K01-202611240001", "2026-11-24T09:00:00.000+08:00", 5, "收银很快，店员很热情"),
    ("S01-K01-202611240002", "2026-11-24T18:30:00.000+08:00", 4, ""),
    ("S01-K01-202611240003", "2026-11-24T19:00:00.000+08:00", 0, ""),
]


def _sale(receipt_no: str) -> dict[str, object]:
    lines = [
        {"position": 1, "sku": "rice", "name_zh": "东北大米 5kg", "name_en": "Rice 5 kg",
         "unit_price_fen": 4990, "quantity": 1, "total_fen": 4990},
        {"position": 2, "sku": "milk", "name_zh": "鲜牛奶 1L", "name_en": "Fresh milk 1 L",
         "unit_price_fen": 1250, "quantity": 2, "total_fen": 2500},
    ]  # fmt: skip
    return {
        "sale_id": f"sale-{receipt_no}", "receipt_no": receipt_no, "store": "S01", "total_fen": 7490,
        "currency": "CNY", "lines": lines, "member_id": None,
        "payments": [{"method": "wechat", "amount_fen": 7490, "reference": "wx"}],
    }  # fmt: skip


def seed() -> None:
    """The four sales, three of them rated."""
    events, prev = [], GENESIS
    for seq, (receipt_no, ts, _, _) in enumerate(SALES, start=1):
        event = make_event(event_id=f"ev-{seq}", device="K01", seq=seq, boot="boot", ts=ts,
                           type="sale.completed", prev=prev, data=_sale(receipt_no))  # fmt: skip
        events.append(event)
        prev = event["hash"]
    ingest_batch("pos/K01/up/events", batch("K01", events), NOW, TZ)
    with transaction():
        for receipt_no, _, stars, comment in SALES:
            if stars:
                ratings.rate(Sale.get(Sale.receipt_no == receipt_no), str(stars), comment, NOW)


def capture(out: Path) -> list[Path]:
    """The unrated receipt on a phone (390 px) and /ratings, in Chinese and English."""
    with tempfile.TemporaryDirectory(prefix="hub-ratings-story-") as work:
        db = open_hub_database(f"sqlite:///{work}/hub.db")
        seed()
        data_dir = Path(work) / "hub"
        app = create_app(TZ, today=lambda: NOW.date(), data_dir=data_dir, clock=lambda: NOW)
        key = base64.b64decode(device_receipt_key_text(data_dir, "K01"))
        link = receipt_link.sign(SALES[-1][0], receipt_link.expiry(NOW, 90), key)
        try:
            with serving(app) as port:
                shots = []
                for name, page, width in (
                    ("receipt_rating", f"r/{link}?", 390),
                    ("ratings", "ratings?days=7", 1280),
                ):
                    for lang, suffix in (("zh", ""), ("en", "&lang=en")):
                        target = out / f"hub-{name}-{lang}.png"
                        shots.append(shots_.page(f"http://127.0.0.1:{port}/{page}{suffix}", target, width))
                return shots
        finally:
            db.close()


if __name__ == "__main__":
    for path in capture(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")):
        print(path)
