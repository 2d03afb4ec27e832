"""Attendant flows in a real Kivy window: the offline-cap override of a member payment, and top-ups.

The demo terminal never reaches a hub, so it is always offline; the override script
lowers the stored-value cap to ¥10 so the demo member's ¥28.90 balance payment needs
店员授权. The top-up script prints to a ``file:`` printer, so the drawer pulses and
slips are the ESC/POS bytes a real printer would get.
"""

import json
import os
from pathlib import Path
from typing import Any

import pytest

from kiosk.hw.escpos_parser import DrawerPulse, EscposParser, Raster
from tests.app.test_kiosk_window import DUMPLINGS, MEMBER_CARD, PIN, WATER, after_seed, rows, run_kiosk, zh

OVERRIDE_STEPS: list[dict[str, Any]] = [
    {"scan": WATER}, {"scan": DUMPLINGS}, {"card": MEMBER_CARD}, {"tap": "cart:pay"},
    {"tap": "pay:stored_value_pay"}, {"observe": "over_cap"}, {"shot": "override_offer"},
    {"tap": "pay:stored_value_pay"}, {"observe": "override_keypad"}, {"shot": "override_pin"},
    {"pin": "1111"}, {"observe": "wrong_pin"}, {"tap": "popup:cancel"}, {"observe": "cancelled"},
    {"tap": "pay:stored_value_pay"}, {"pin": PIN}, {"wait_until": "receipt"}, {"observe": "paid"},
    {"tap": "receipt:skip"}, {"tap": "done:new_sale"},
]  # fmt: skip


@pytest.fixture(scope="module")
def override(tmp_path_factory: pytest.TempPathFactory, display: str) -> tuple[dict[str, Any], Path]:
    """A member pays ¥28.90 of stored value above a ¥10 offline cap: refused, wrong PIN, cancel, approved."""
    workdir = tmp_path_factory.mktemp("override")
    shots = Path(os.environ.get("KIOSK_SCREENSHOTS", workdir / "shots"))
    script = {
        "steps": OVERRIDE_STEPS,
        "screenshots": str(shots),
        "settings": {"offline_stored_value_cap_fen": 1000},
    }
    return run_kiosk(workdir, display, script), workdir


def outbox(db: Path) -> list[dict[str, Any]]:
    return after_seed([json.loads(b) for (b,) in rows(db, "select body from outbox order by seq")])


def test_member_payment_above_the_offline_cap_offers_a_staff_override(
    override: tuple[dict[str, Any], Path],
) -> None:
    screens = override[0]["screens"]
    over = screens["over_cap"]
    assert (over["current"], over["remaining"]) == ("pay", "¥28.90")
    assert over["message"] == zh(
        "本机未连上总部，储值/积分支付超出离线限额。请店员点“店员授权”，或换一种付款方式。"
    )
    keypad = screens["override_keypad"]["popup"]
    assert (keypad["kind"], keypad["title"]) == ("PinPopup", "店员授权：超出离线限额")
    assert keypad["body"] == zh(
        "会员储值 ¥28.90、积分 0 分超出本机离线限额。确认会员身份后输入店员密码授权，授权会记录在案。"
    )
    assert override[0]["small_buttons"]["override_offer-zh"] == []
    assert override[0]["small_buttons"]["override_offer-en"] == []


def test_a_wrong_pin_or_cancel_takes_nothing(override: tuple[dict[str, Any], Path]) -> None:
    screens = override[0]["screens"]
    assert screens["wrong_pin"]["popup"]["error"] == zh("密码错误，还可再试 4 次。")  # 5 in a row lock it
    cancelled = screens["cancelled"]
    assert (cancelled["current"], cancelled["remaining"], "popup" in cancelled) == ("pay", "¥28.90", False)


def test_the_override_sale_and_its_audit_commit_together(override: tuple[dict[str, Any], Path]) -> None:
    report, workdir = override
    db = workdir / "kiosk.db"
    assert report["screens"]["paid"]["current"] == "receipt"
    ((sale_id, total),) = rows(db, "select id, total_fen from sale")
    assert total == 2890
    assert rows(db, "select method, amount_fen, reference from payment") == [("stored_value", 2890, "member")]
    events = outbox(db)
    assert [e["type"] for e in events] == ["audit.action", "sale.completed", "audit.action"]
    failed, sale, approval = events  # the wrong PIN tried first is recorded too
    assert (failed["data"]["action"], failed["data"]["detail"]) == ("staff_pin_failed", {"tries_left": 4})
    assert approval["ts"] == sale["ts"]  # written by the same commit
    assert approval["data"] == {
        "store": "S01",
        "action": "offline_cap_override",
        "attendant": "attendant-1",
        "sale_id": sale_id,
        "detail": {
            "reason": "offline cap exceeded: stored value 2890 fen > 1000 fen",
            "points": 0,
            "stored_value_fen": 2890,
            "cap_points": 2000,
            "cap_stored_value_fen": 1000,
        },
    }
    spent = rows(db, f"select account, amount from ledger_row where sale_id = '{sale_id}' and amount < 0")
    assert spent == [("stored_principal", -2890)]


TOP_UP_STEPS: list[dict[str, Any]] = [
    {"scan": WATER}, {"card": MEMBER_CARD},
    {"tap": "cart:staff"}, {"pin": PIN}, {"observe": "menu"}, {"tap": "popup:top_up"},
    {"observe": "amounts"}, {"shot": "top_up"},
    {"tap": "popup:amount_1"}, {"tap": "popup:other"}, {"observe": "changed_mind"},
    {"tap": "popup:amount_0"}, {"observe": "confirm"}, {"shot": "top_up_confirm"},
    {"tap": "popup:confirm"}, {"wait": 0.5}, {"observe": "topped_up"},
    {"tap": "cart:staff"}, {"pin": PIN}, {"tap": "popup:top_up"}, {"tap": "popup:other"},
    {"amount": "3000"}, {"observe": "custom"}, {"tap": "popup:confirm"}, {"wait": 0.5},
    {"observe": "custom_done"},
    {"tap": "cart:staff"}, {"pin": PIN}, {"tap": "popup:top_up"}, {"tap": "popup:amount_1"},
    {"tap": "popup:close"}, {"observe": "cancelled"}, {"wait": 1.0},
]  # fmt: skip


@pytest.fixture(scope="module")
def top_ups(tmp_path_factory: pytest.TempPathFactory, display: str) -> tuple[dict[str, Any], Path]:
    """The demo member (¥50) is topped up ¥100 (+¥20 bonus), then ¥30 typed; a third is cancelled."""
    workdir = tmp_path_factory.mktemp("top_up")
    shots = Path(os.environ.get("KIOSK_SCREENSHOTS", workdir / "shots"))
    script = {
        "steps": TOP_UP_STEPS,
        "screenshots": str(shots),
        "settings": {"printer_url": f"file:{workdir / 'printer.bin'}"},
    }
    return run_kiosk(workdir, display, script), workdir


def test_top_up_offers_the_bonus_tiers_and_a_custom_amount(top_ups: tuple[dict[str, Any], Path]) -> None:
    screens = top_ups[0]["screens"]
    assert screens["menu"]["popup"]["top_up"] == "会员充值"
    amounts = screens["amounts"]["popup"]
    assert (amounts["kind"], amounts["title"]) == ("TopUpPopup", "会员充值：选择金额")
    tiers = (amounts["amount_0"], amounts["amount_1"], amounts["other"])
    assert tiers == (zh("充¥100 送¥20"), zh("充¥200 送¥50"), "其他金额")
    assert amounts["member"] == zh("会员 张*（138****8000），储值余额 ¥50.00")
    assert screens["changed_mind"]["popup"]["confirm_text"] == ""  # 换个金额 went back to the amounts
    confirm = screens["confirm"]["popup"]
    assert confirm["title"] == "会员充值：确认收款"
    assert confirm["confirm_text"] == zh(
        "收取现金 ¥100.00，赠送 ¥20.00，会员储值增加 ¥120.00。\n收到现金后点确认，钱箱会打开。"
    )
    assert confirm["confirm"] == zh("已收现金 ¥100.00，确认充值")
    assert screens["custom"]["popup"]["confirm_text"].startswith(zh("收取现金 ¥30.00，赠送 ¥0.00，"))
    for shot in ("top_up-zh", "top_up-en", "top_up_confirm-zh", "top_up_confirm-en"):
        assert top_ups[0]["small_buttons"][shot] == []


def test_a_top_up_books_principal_and_bonus_and_the_panel_shows_the_new_balance(
    top_ups: tuple[dict[str, Any], Path],
) -> None:
    report, workdir = top_ups
    screens = report["screens"]
    assert screens["topped_up"]["message"] == zh("充值成功：¥100.00，赠送 ¥20.00。储值余额 ¥170.00。")
    assert zh("储值 ¥170.00") in screens["topped_up"]["member"]
    assert screens["custom_done"]["message"] == zh("充值成功：¥30.00，赠送 ¥0.00。储值余额 ¥200.00。")
    assert zh("储值 ¥200.00") in screens["custom_done"]["member"]
    assert "popup" not in screens["cancelled"] and zh("储值 ¥200.00") in screens["cancelled"]["member"]
    db = workdir / "kiosk.db"
    booked = rows(db, "select account, amount, action from ledger_row where kind = 'top_up' order by seq")
    assert booked == [
        ("stored_principal", 5000, "top_up:demo"),  # the demo member's seed
        ("stored_principal", 10000, "top_up:attendant-1"),
        ("stored_bonus", 2000, "top_up:attendant-1"),
        ("stored_principal", 3000, "top_up:attendant-1"),
    ]
    events = outbox(db)
    assert [(e["type"], e["data"]["reason"], len(e["data"]["entries"])) for e in events] == [
        ("ledger.adjusted", "top_up", 2),
        ("ledger.adjusted", "top_up", 1),
    ]


def test_each_top_up_opens_the_drawer_and_prints_a_slip(top_ups: tuple[dict[str, Any], Path]) -> None:
    report, workdir = top_ups
    ops = EscposParser().feed((workdir / "printer.bin").read_bytes())
    assert sum(isinstance(op, DrawerPulse) for op in ops) == 2
    assert sum(isinstance(op, Raster) for op in ops) >= 2
    slips = report["printed"]
    assert len(slips) == 2 and all("-CZ" in no and no.startswith("S01-K01-") for no in slips)
