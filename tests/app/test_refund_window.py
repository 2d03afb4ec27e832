"""The attendant's refund in a real Kivy window: staff menu → Refund → PIN → sale → lines → confirm.

One module fixture runs the visit once: a cash sale of 2 water + 1 milk, a partial
refund of the water chosen from the recent receipts with + taps, a receipt number
nobody sold, then the milk refunded by scanning the receipt number. The tests
assert on the screens' texts, the virtual printer's slips and drawer pulses (real
ESC/POS), and the refund rows and outbox events in the terminal's database.
"""

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.app.test_kiosk_window import MILK, PIN, WATER, WECHAT_OK, after_seed, rows, run_kiosk, zh

TODAY = dt.datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y%m%d")
RECEIPT = f"S01-K01-{TODAY}0001"
NOBODY = f"S01-K01-{TODAY}0099"

REFUND_STEPS: list[dict[str, Any]] = [
    {"scan": WATER}, {"scan": MILK}, {"scan": WATER}, {"tap": "cart:pay"}, {"tap": "pay:cash"}, {"pin": PIN},
    {"tap": "receipt:skip"}, {"tap": "done:new_sale"},
    {"tap": "idle:staff"}, {"pin": PIN}, {"observe": "menu"}, {"shot": "staff-menu"},
    {"tap": "popup:refund"}, {"observe": "pin"}, {"pin": PIN},
    {"observe": "sales"}, {"shot": "refund-sales"},
    {"scan": NOBODY}, {"observe": "unknown"},
    {"tap": "refund_sale:0"}, {"observe": "lines"},
    {"tap": "refund_line:0:plus"}, {"tap": "refund_line:0:plus"}, {"observe": "picked"},
    {"shot": "refund-lines"},
    {"tap": "refund:confirm"}, {"wait": 0.8}, {"observe": "refunded"}, {"shot": "refund-done"},
    {"tap": "refund:back"}, {"observe": "after"},
    {"tap": "idle:staff"}, {"pin": PIN}, {"tap": "popup:refund"}, {"pin": PIN},
    {"scan": RECEIPT}, {"observe": "scanned"}, {"tap": "refund_line:1:plus"}, {"tap": "refund:confirm"},
    {"wait": 0.8}, {"observe": "second"}, {"tap": "refund:back"},
    {"scan": MILK}, {"tap": "cart:pay"}, {"scan": WECHAT_OK}, {"wait_until": "receipt"},
    {"tap": "receipt:skip"}, {"tap": "done:new_sale"},
    {"tap": "idle:staff"}, {"pin": PIN}, {"tap": "popup:refund"}, {"pin": PIN},
    {"tap": "refund_sale:0"}, {"tap": "refund_line:0:plus"}, {"observe": "mobile_plan"},
    {"tap": "refund:confirm"}, {"wait_until": "payment"}, {"wait": 0.8}, {"observe": "mobile"},
]  # fmt: skip


@pytest.fixture(scope="module")
def refund_visit(tmp_path_factory: pytest.TempPathFactory, display: str) -> tuple[dict[str, Any], Path]:
    workdir = tmp_path_factory.mktemp("refund")
    shots = Path(os.environ.get("KIOSK_SCREENSHOTS", workdir / "shots"))
    script = {"steps": REFUND_STEPS, "screenshots": str(shots), "settings": {"idle_timeout_s": 120}}
    return run_kiosk(workdir, display, script), workdir


def test_refund_is_in_the_staff_menu_and_asks_for_the_pin_again(
    refund_visit: tuple[dict[str, Any], Path],
) -> None:
    screens = refund_visit[0]["screens"]
    assert screens["menu"]["popup"]["refund"] == "退货退款"
    assert (screens["pin"]["popup"]["kind"], screens["pin"]["popup"]["body"]) == (
        "PinPopup", zh("退款会把钱退给顾客。请办理退款的店员输入密码。"),
    )  # fmt: skip
    sales = screens["sales"]
    assert (sales["current"], sales["texts"]["heading"]) == (
        "refund",
        "选择要退的小票，或扫描小票上的二维码。",
    )
    assert screens["unknown"]["message"] == zh(f"找不到小票 {NOBODY}。请核对小票号，只能退本终端的交易。")


def test_lines_show_what_can_come_back_and_the_amount_follows_the_taps(
    refund_visit: tuple[dict[str, Any], Path],
) -> None:
    screens = refund_visit[0]["screens"]
    lines = screens["lines"]["texts"]
    assert lines["heading"] == zh(f"小票 {RECEIPT}  实付 ¥7.50  已退 ¥0.00")
    assert lines["amount"] == zh("退款 ¥0.00")
    assert screens["lines"]["message"] == zh("用 + 选择要退的商品和数量。")
    picked = screens["picked"]["texts"]
    assert (picked["amount"], picked["parts"]) == (zh("退款 ¥4.00"), zh("退回现金 ¥4.00"))
    report = refund_visit[0]
    for shot in ("staff-menu", "refund-sales", "refund-lines", "refund-done"):
        assert report["small_buttons"][f"{shot}-zh"] == [] and report["small_buttons"][f"{shot}-en"] == []


def test_confirmed_refunds_are_stored_printed_and_open_the_drawer(
    refund_visit: tuple[dict[str, Any], Path],
) -> None:
    report, workdir = refund_visit
    screens = report["screens"]
    assert screens["refunded"]["message"] == zh(
        "已退款 ¥4.00。请从钱箱取出现金 ¥4.00 交给顾客。退款单正在打印。"
    )
    assert screens["after"]["current"] == "idle"
    assert screens["scanned"]["texts"]["heading"] == zh(f"小票 {RECEIPT}  实付 ¥7.50  已退 ¥4.00")
    assert screens["second"]["message"] == zh(
        "已退款 ¥3.50。请从钱箱取出现金 ¥3.50 交给顾客。退款单正在打印。"
    )
    assert report["printed"][:2] == [f"{RECEIPT}-R1", f"{RECEIPT}-R2"]
    db = workdir / "kiosk.db"
    first_two = "select amount_fen, attendant from refund order by created_at, amount_fen desc limit 2"
    assert rows(db, first_two) == [
        (400, "attendant-1"), (350, "attendant-1"),
    ]  # fmt: skip
    events = after_seed([json.loads(b) for (b,) in rows(db, "select body from outbox order by seq")])
    refunded = [e["data"] for e in events if e["type"] == "sale.refunded"][:2]
    assert [(d["amount_fen"], d["lines"], d["payments"]) for d in refunded] == [
        (400, [{"position": 1, "sku": "DRK-001", "quantity": 2, "total_fen": 400}],
         [{"method": "cash", "amount_fen": 400, "reference": ""}]),
        (350, [{"position": 2, "sku": "DRY-001", "quantity": 1, "total_fen": 350}],
         [{"method": "cash", "amount_fen": 350, "reference": ""}]),
    ]  # fmt: skip
    audits = [e["data"]["detail"]["amount_fen"] for e in events if e["data"].get("action") == "refund"]
    assert audits[:2] == [400, 350]


def test_a_mobile_payment_goes_back_through_the_gateway_and_keeps_the_drawer_shut(
    refund_visit: tuple[dict[str, Any], Path],
) -> None:
    report, workdir = refund_visit
    screens = report["screens"]
    assert screens["mobile_plan"]["texts"]["parts"] == zh("退回微信支付 ¥3.50")
    assert screens["mobile"]["message"] == zh("已退款 ¥3.50。退款单正在打印。")
    second_sale = f"S01-K01-{TODAY}0002"
    assert report["printed"] == [f"{RECEIPT}-R1", f"{RECEIPT}-R2", f"{second_sale}-R1"]
    assert report["drawer_pulses"] == 3  # the cash sale and its two cash refunds; none for WeChat
    db = workdir / "kiosk.db"
    [(body,)] = rows(db, "select body from outbox where type = 'sale.refunded' order by seq desc limit 1")
    [payment] = json.loads(body)["data"]["payments"]
    assert (payment["method"], payment["amount_fen"], payment["reference"][:2]) == ("wechat", 350, "RF")
    sale_ref = rows(
        db, f"select reference from payment join sale on sale.id = sale_id where receipt_no = '{second_sale}'"
    )
    assert sale_ref[0][0].startswith("SIM")
