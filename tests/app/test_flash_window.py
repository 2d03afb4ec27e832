"""A flash sale (秒杀) at the cart, in a real Kivy window (Xvfb): the terminal's config gives it a
share of 2 bottles of water at ¥0.50; the third scan is refused, the sale books two at the flash
price, and the next sale's scan adds water at its normal price."""

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest

from kiosk.store import open_database
from kiosk.store.connection import database
from kiosk.store.demo_catalog import demo_products
from kiosk.store.models import AppliedConfig
from tests.app.test_kiosk_window import PIN, WATER, rows, run_kiosk, zh

WATER_ROW = next(p for p in demo_products() if p["barcode"] == WATER)
STEPS: list[dict[str, Any]] = [
    # a second scan of the same code within 0.3 s is a bouncing trigger: a shopper scans again later
    {"scan": WATER}, {"observe": "first"}, {"wait": 0.4}, {"scan": WATER}, {"wait": 0.4}, {"scan": WATER},
    {"observe": "third"},
    {"shot": "cart_flash"},
    {"tap": "cart:pay"}, {"tap": "pay:cash"}, {"pin": PIN}, {"wait_until": "receipt"},
    {"tap": "receipt:skip"}, {"tap": "done:new_sale"}, {"scan": WATER}, {"observe": "gone"},
]  # fmt: skip


def flash_config(db: Path) -> None:
    """The config release a hub would send: no catalog change, one flash sale for water."""
    now = dt.datetime.now(dt.UTC)
    hour = dt.timedelta(hours=1)
    body = {
        "v": 1, "version": 7, "issued_at": now.isoformat(timespec="seconds"), "catalog": [], "rules": {},
        "settings": {}, "campaigns": [{
            "kind": "flash_sale", "id": "water-hour", "sku": WATER_ROW["sku"], "price_fen": 50, "cap": 5,
            "starts_at": (now - hour).isoformat(), "ends_at": (now + hour).isoformat(),
            "allocations": {"K01": 2, "K02": 3},
        }],
    }  # fmt: skip
    open_database(db)
    AppliedConfig.create(id=1, version=7, applied_at=body["issued_at"], body=json.dumps(body))
    database.close()


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, display: str) -> tuple[dict[str, Any], Path]:
    workdir = tmp_path_factory.mktemp("flash")
    flash_config(workdir / "kiosk.db")
    shots = Path(os.environ.get("KIOSK_SCREENSHOTS", workdir / "shots"))
    return run_kiosk(workdir, display, {"steps": STEPS, "screenshots": str(shots)}), workdir


def test_the_flash_price_holds_for_this_terminals_share_only(run: tuple[dict[str, Any], Path]) -> None:
    screens = run[0]["screens"]
    name = WATER_ROW["name_zh"]
    normal = int(WATER_ROW["price_fen"])
    assert screens["first"]["message"] == zh(f"秒杀价 ¥0.50：{name}（本机还剩 1 件）")
    third = screens["third"]
    assert third["message"] == zh(f"{name} 秒杀价本机限量已满（购物车外还剩 0 件）")
    assert (third["count"], third["total"]) == ("2 件", "¥1.00")
    assert screens["gone"]["message"] == zh(f"本机秒杀名额已售完，{name} 按原价 ¥{normal / 100:.2f} 加入")
    assert rows(run[1] / "kiosk.db", "select sku, unit_price_fen, quantity from sale_line") == [
        (WATER_ROW["sku"], 50, 2)
    ]
    for lang in ("zh", "en"):
        assert run[0]["small_buttons"][f"cart_flash-{lang}"] == []
