"""次卡抵扣 on the pay screen, in a real Kivy window (Xvfb): an attendant sells the demo member a
咖啡10次卡 (it covers the demo latte), the member scans a latte and a water, and on the pay screen
one tap on 次卡抵扣 pays the latte with one visit; stored value pays the water. The visit is written
with the sale, in its transaction and its ``sale.completed`` event, exactly."""

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.app.test_kiosk_window import MEMBER_CARD, PIN, WATER, after_seed, rows, run_kiosk, zh

LATTE = "6901015550143"  # 雀巢咖啡丝滑拿铁 268ml, DRK-015, ¥7.00
STEPS: list[dict[str, Any]] = [
    {"card": MEMBER_CARD}, {"tap": "cart:staff"}, {"pin": PIN}, {"observe": "menu"},
    {"tap": "popup:count_card"}, {"observe": "kinds"}, {"tap": "popup:kind_1"}, {"observe": "confirm"},
    {"tap": "popup:confirm"}, {"wait": 0.5}, {"observe": "sold"},
    {"scan": LATTE}, {"scan": WATER}, {"tap": "cart:pay"}, {"observe": "pay"}, {"shot": "pay_count_card"},
    {"tap": "count_card:0"}, {"observe": "visit"}, {"shot": "pay_count_card_paid"},
    {"tap": "pay:stored_value_pay"}, {"wait_until": "receipt"}, {"observe": "paid"},
]  # fmt: skip


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, display: str) -> tuple[dict[str, Any], Path]:
    workdir = tmp_path_factory.mktemp("count_card_pay")
    shots = Path(os.environ.get("KIOSK_SCREENSHOTS", workdir / "shots"))
    script = {
        "steps": STEPS,
        "screenshots": str(shots),
        "settings": {"printer_url": f"file:{workdir / 'printer.bin'}"},
    }
    return run_kiosk(workdir, display, script), workdir


def test_one_tap_pays_the_latte_with_a_visit_and_stored_value_the_rest(
    run: tuple[dict[str, Any], Path],
) -> None:
    report, _ = run
    screens = report["screens"]
    assert screens["confirm"]["popup"]["confirm"] == zh("已收现金 ¥150.00，确认售卡")
    pay = screens["pay"]
    assert (pay["remaining"], pay["count_cards"]) == (
        "¥9.00",
        [[zh("次卡抵扣 ¥7.00\n咖啡10次卡（剩 10 次）"), True]],
    )
    visit = screens["visit"]
    assert (visit["remaining"], visit["count_cards"]) == ("¥2.00", [])  # one latte: no second visit offered
    assert visit["message"] == zh("咖啡10次卡 抵扣 ¥7.00，用一次。")
    assert screens["paid"]["current"] == "receipt"
    for shot in ("pay_count_card", "pay_count_card_paid"):
        for lang in ("zh", "en"):
            assert report["small_buttons"][f"{shot}-{lang}"] == []


def test_the_visit_is_written_with_the_sale_in_one_event(run: tuple[dict[str, Any], Path]) -> None:
    _, workdir = run
    db = workdir / "kiosk.db"
    (sale_id,) = [s for (s,) in rows(db, "select sale_id from sale_line where sku = 'DRK-015'")]
    pays = rows(
        db, f"select method, amount_fen, reference from payment where sale_id = '{sale_id}' order by rowid"
    )
    (card_id,) = [c for (c,) in rows(db, "select id from count_card_row")]
    assert pays == [("count_card", 700, f"{card_id}:DRK-015"), ("stored_value", 200, "member")]
    columns = "kind, amount, action, rule, sale_id"
    visits = rows(db, f"select {columns} from ledger_row where account like 'count:%' order by seq")
    card_sale = rows(db, "select sale_id from sale_line where sku = 'coffee10'")[0][0]
    assert visits == [
        ("top_up", 10, "count_card", "coffee10", card_sale),
        ("spend", -1, "visit", "DRK-015", sale_id),
    ]
    events = after_seed([json.loads(b) for (b,) in rows(db, "select body from outbox order by seq")])
    [sale] = [e for e in events if e["type"] == "sale.completed" and e["data"]["sale_id"] == sale_id]
    ledger = [(e["account"], e["amount"], e["action"]) for e in sale["data"]["ledger"]]
    assert (f"count:{card_id}", -1, "visit") in ledger
    assert [p["method"] for p in sale["data"]["payments"]] == ["count_card", "stored_value"]
