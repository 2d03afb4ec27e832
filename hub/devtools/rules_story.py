"""A shop's loyalty rules for the rules page: tests and screenshots.

``python -m hub.devtools.rules_story docs/screenshots`` saves the rules below in a
throwaway hub database, serves the dashboard, and saves PNGs of the rules page
in Chinese and English.
"""

import datetime as dt
import sys
import tempfile
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hub.db import transaction
from hub.db.schema import open_hub_database
from hub.devtools.serving import serving
from hub.members import ledger as loyalty
from hub.rules import store as rules_store
from hub.web.app import create_app
from kiosk.devtools import browser
from kiosk.domain.loyalty import LoyaltyRules

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 24, 15, 30, tzinfo=TZ)

SHOP_RULES: dict[str, Any] = {
    "earn": {"points_per_yuan": 1, "birthday_multiplier": 200, "excluded_categories": ["tobacco"],
             "category_multipliers": {"fresh": 200}},
    "holidays": [
        {"name_zh": "春节", "calendar": "lunar", "month": 1, "day": 1, "days": 3, "multiplier": 200},
        {"name_zh": "中秋节", "calendar": "lunar", "month": 8, "day": 15, "multiplier": 200},
        {"name_zh": "会员日", "calendar": "solar", "month": 11, "day": 11, "multiplier": 300},
    ],
    "redeem": {"points_per_yuan": 100, "max_share_percent": 50, "min_points": 100},
    "expiry": {"months": 24, "remind_days": 30},
    "tiers": {
        "basis": "spend", "window_months": 12, "grace_days": 30,
        "tiers": [
            {"code": "normal", "name_zh": "普通会员", "name_en": "Member", "threshold": 0},
            {"code": "silver", "name_zh": "银卡", "name_en": "Silver", "threshold": 100000,
             "discount_percent": 2, "birthday_gift_points": 100},
            {"code": "gold", "name_zh": "金卡", "name_en": "Gold", "threshold": 300000,
             "discount_percent": 5, "points_multiplier": 150, "birthday_gift_points": 300},
            {"code": "diamond", "name_zh": "钻石", "name_en": "Diamond", "threshold": 800000,
             "discount_percent": 10, "points_multiplier": 200, "birthday_gift_points": 800},
        ],
    },
    "stored_value": {"bonus_tiers": [{"min_fen": 10000, "bonus_fen": 1000},
                                     {"min_fen": 50000, "bonus_fen": 8000}],
                     "spend_order": "principal_first"},
    "risk": {"offline_points": 2000, "offline_stored_value_fen": 20000},
    "rewards": [
        {"id": "bag", "name_zh": "环保购物袋", "name_en": "Shopping bag", "points": 200},
        {"id": "mug", "name_zh": "保温杯", "name_en": "Travel mug", "points": 1000},
    ],
}  # fmt: skip


def seed() -> int:
    """Save :data:`SHOP_RULES` as the owner; return the version."""
    with transaction():
        return rules_store.save_rules(SHOP_RULES, "owner", NOW.astimezone(dt.UTC))


def capture(out: Path) -> list[Path]:
    """Seed a throwaway database, serve the dashboard, save ``hub-rules-{zh,en}.png`` into ``out``."""

    with tempfile.TemporaryDirectory(prefix="hub-rules-story-") as work:
        db = open_hub_database(f"sqlite:///{work}/hub.db")
        seed()
        app = create_app(TZ, today=lambda: NOW.date())
        try:
            with serving(app) as port:
                return [
                    browser.screenshot(
                        f"http://127.0.0.1:{port}/rules{suffix}", out / f"hub-rules-{lang}.png", 1280, 2100
                    )
                    for lang, suffix in (("zh", ""), ("en", "?lang=en"))
                ]
        finally:
            loyalty.configure(LoyaltyRules(), None)
            db.close()


if __name__ == "__main__":
    for path in capture(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")):
        print(path)
