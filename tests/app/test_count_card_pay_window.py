"""Count cards paid and used on the pay screen, in a real Kivy window (Xvfb): an attendant puts a
咖啡10次卡 (it covers the demo latte) into the demo member's cart (其他方式付款), the member pays it
with points and cash; in the next sale one tap on 次卡抵扣 pays a latte with one visit and stored
value pays the water. The card is issued with its sale, the visit written with its sale, each in
the sale's transaction and events, exactly."""

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
    {"shot": "staff_count_card_to_cart"}, {"tap": "popup:to_cart"}, {"observe": "in_cart"},
    {"tap": "row:0:plus"}, {"observe": "no_more"},
    {"tap": "cart:pay"}, {"observe": "card_pay"}, {"tap": "pay:points_pay"}, {"observe": "card_points"},
    {"tap": "pay:cash"}, {"pin": PIN}, {"wait_until": "receipt"}, {"observe": "card_sold"},
    {"tap": "receipt:skip"}, {"tap": "done:new_sale"}, {"wait": 1.0}, {"card": MEMBER_CARD},
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


def test_the_card_sold_through_the_cart_is_paid_with_points_and_cash(
    run: tuple[dict[str, Any], Path],
) -> None:
    report, workdir = run
    screens = report["screens"]
    assert screens["confirm"]["popup"]["to_cart"] == zh("其他方式付款：加入购物车")
    in_cart = screens["in_cart"]
    assert in_cart["message"] == zh("咖啡10次卡 已加入购物车：付款后次卡即归会员所有。")
    assert (in_cart["rows"], in_cart["total"]) == ([[zh("咖啡10次卡"), "1 × ¥150.00", "¥150.00"]], "¥145.00")
    no_more = screens["no_more"]
    assert (no_more["rows"], no_more["message"]) == (
        in_cart["rows"], zh("每张次卡都须由店员售出：如需再买一张 咖啡10次卡，请店员再次添加。")
    )  # fmt: skip
    assert screens["card_pay"]["count_cards"] == []  # the card is not the member's before it is paid
    assert screens["card_points"]["remaining"] == "¥132.20"
    assert report["small_buttons"]["staff_count_card_to_cart-zh"] == []
    assert report["small_buttons"]["staff_count_card_to_cart-en"] == []
    db = workdir / "kiosk.db"
    (sale_id,) = [s for (s,) in rows(db, "select sale_id from sale_line where sku = 'coffee10'")]
    pays = rows(db, f"select method, amount_fen from payment where sale_id = '{sale_id}' order by rowid")
    assert pays == [("points", 1280), ("cash", 13220)]
    (card_id,) = [c for (c,) in rows(db, "select id from count_card_row where product_sku = 'coffee10'")]
    entries = rows(
        db, f"select account, kind, amount, action from ledger_row where sale_id = '{sale_id}' order by seq"
    )
    assert entries == [
        ("points", "redeem", -1280, "sale"),
        ("points", "earn", 132, "sale"),  # a card paid in cash earns points like any line
        (f"count:{card_id}", "top_up", 10, "count_card"),
    ]
    events = after_seed([json.loads(b) for (b,) in rows(db, "select body from outbox order by seq")])
    types = [e["type"] for e in events]
    start = next(i for i, e in enumerate(events) if e["data"].get("sale_id") == sale_id)
    assert types[start : start + 3] == ["sale.completed", "audit.action", "ledger.adjusted"]
    assert events[start + 2]["data"]["reason"] == "count_card:coffee10"
    [approval] = [e["data"] for e in events if e["type"] == "audit.action"]
    assert (approval["action"], approval["detail"]["sku"], approval["detail"]["visits"]) == (
        "count_card",
        "coffee10",
        10,
    )


def test_one_tap_pays_the_latte_with_a_visit_and_stored_value_the_rest(
    run: tuple[dict[str, Any], Path],
) -> None:
    report, _ = run
    screens = report["screens"]
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
    (card_id,) = [c for (c,) in rows(db, "select id from count_card_row")]  # the one card sold
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
