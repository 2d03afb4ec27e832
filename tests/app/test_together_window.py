"""Often bought together at the cart, in a real Kivy window (Xvfb): the table the hub made from the
receipts (``tests/sync/test_together_downlink.py`` carries it through the broker) is in the
terminal's SQLite before the app starts, and the app runs with no network at all.

Water and milk in the cart: the cart suggests yogurt (lift 2.0 with milk, above chips' 1.28 with
water) at the shop's ¥6.00; one tap adds it as a scan would and the next best, chips, takes its
place; × hides suggestions for the rest of the sale; the paid sale marks the taken line and lists
what was shown. Restarted, still offline, the next shopper's water gets chips suggested again.
"""

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from hub.db.schema import open_hub_database
from hub.reports.together import BoughtTogether, rules_from
from hub.reports.together_downlink import current_release, table_message
from kiosk.store import open_database, together
from tests.app.test_kiosk_window import MILK, PIN, WATER, rows, run_kiosk, zh
from tests.sync.test_together_downlink import BASKETS, DEFAULT_TABLE

NOW = dt.datetime(2026, 12, 2, 5, 30, tzinfo=dt.UTC)
FIRST = [
    {"scan": WATER}, {"observe": "water"}, {"scan": MILK}, {"observe": "suggested"}, {"shot": "together"},
    {"tap": "cart:together_add"}, {"observe": "taken"},
    {"tap": "cart:together_dismiss"}, {"observe": "dismissed"},
    {"tap": "cart:pay"}, {"tap": "pay:cash"}, {"pin": PIN}, {"wait_until": "receipt"},
    {"tap": "receipt:skip"},
]  # fmt: skip
AGAIN = [{"scan": WATER}, {"observe": "restarted"}, {"tap": "cart:lang"}, {"observe": "english"}]


def pushed_table(work: Path) -> bytes:
    """The table as the hub sends it: the job's rules from the receipts, the owner's thresholds."""
    hub = open_hub_database(f"sqlite:///{work / 'hub.db'}")
    try:
        BoughtTogether.insert_many(
            [{**r.__dict__, "computed_at": NOW} for r in rules_from(map(frozenset, BASKETS))]
        ).execute()
        version, found = current_release(NOW)
    finally:
        hub.close()
    assert (version, found) == (1, DEFAULT_TABLE)
    return table_message(version, found, NOW)


@pytest.fixture(scope="module")
def runs(
    tmp_path_factory: pytest.TempPathFactory, display: str
) -> tuple[dict[str, Any], dict[str, Any], Path]:
    work = tmp_path_factory.mktemp("together")
    payload = pushed_table(work)
    db = open_database(work / "kiosk.db")  # what kiosk sync stored when the table arrived
    try:
        assert together.apply_table(payload, NOW) is True
    finally:
        db.close()
    shots = Path(os.environ.get("KIOSK_SCREENSHOTS", work / "shots"))
    first = run_kiosk(work, display, {"steps": FIRST, "screenshots": str(shots)})
    again = run_kiosk(work, display, {"steps": AGAIN})  # a restart, still without any network
    return first, again, work


def test_the_cart_suggests_the_best_lift_item_and_one_tap_adds_it_at_its_price(
    runs: tuple[dict[str, Any], dict[str, Any], Path],
) -> None:
    screens = runs[0]["screens"]
    assert screens["water"]["texts"]["together_text"] == zh("常一起买：乐事原味薯片 70g ¥7.50")
    suggested = screens["suggested"]  # milk came: its yogurt (lift 2.0) beats water's chips (1.28)
    assert suggested["texts"]["together_text"] == zh("常一起买：安慕希希腊酸奶 205g ¥6.00")
    assert {"together_add", "together_dismiss"} <= set(suggested["enabled"])
    taken = screens["taken"]
    assert taken["rows"][-1] == ["安慕希希腊酸奶 205g", "1 × ¥6.00", "¥6.00"]
    assert (taken["count"], taken["total"]) == ("3 件", "¥11.50")  # water 2.00 + milk 3.50 + yogurt 6.00
    assert taken["texts"]["together_text"] == zh("常一起买：乐事原味薯片 70g ¥7.50")
    dismissed = screens["dismissed"]
    assert "together_text" not in dismissed["texts"]
    assert not {"together_add", "together_dismiss"} & set(dismissed["enabled"])
    for lang in ("zh", "en"):  # looked at: docs/screenshots/kiosk-together-{zh,en}.png
        assert runs[0]["small_buttons"][f"together-{lang}"] == []
        with Image.open(
            Path(os.environ.get("KIOSK_SCREENSHOTS", runs[2] / "shots")) / f"kiosk-together-{lang}.png"
        ) as image:
            assert image.size == (800, 480)


def test_the_sale_marks_the_taken_line_and_what_was_shown(
    runs: tuple[dict[str, Any], dict[str, Any], Path],
) -> None:
    db = runs[2] / "kiosk.db"
    assert rows(db, "select sku, unit_price_fen, quantity, source from sale_line order by position") == [
        ("DRK-001", 200, 1, ""), ("DRY-001", 350, 1, ""), ("DRY-004", 600, 1, "together"),
    ]  # fmt: skip
    [(body,)] = rows(db, "select body from outbox where type = 'sale.completed'")
    data = json.loads(body)["data"]
    assert [line.get("source") for line in data["lines"]] == [None, None, "together"]
    assert data["together_shown"] == ["SNK-001", "DRY-004"]  # chips with the water alone, then yogurt


def test_after_a_restart_offline_the_stored_table_still_suggests(
    runs: tuple[dict[str, Any], dict[str, Any], Path],
) -> None:
    screens = runs[1]["screens"]
    assert screens["restarted"]["texts"]["together_text"] == zh("常一起买：乐事原味薯片 70g ¥7.50")
    assert (
        screens["english"]["texts"]["together_text"] == "Often bought together: Lay's classic chips 70g ¥7.50"
    )
