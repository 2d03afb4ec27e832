"""Attendant approvals in a real Kivy window: the offline-cap override of a member payment.

The demo terminal never reaches a hub, so it is always offline; the script lowers
the stored-value cap to ¥10 so the demo member's ¥28.90 balance payment needs 店员授权.
"""

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.app.test_kiosk_window import DUMPLINGS, MEMBER_CARD, PIN, WATER, after_seed, rows, run_kiosk, zh

OVERRIDE_STEPS: list[dict[str, Any]] = [
    {"scan": WATER}, {"scan": DUMPLINGS}, {"card": MEMBER_CARD}, {"tap": "cart:pay"},
    {"tap": "pay:member_pay"}, {"observe": "over_cap"}, {"shot": "override_offer"},
    {"tap": "pay:member_pay"}, {"observe": "override_keypad"}, {"shot": "override_pin"},
    {"pin": "1111"}, {"observe": "wrong_pin"}, {"tap": "popup:cancel"}, {"observe": "cancelled"},
    {"tap": "pay:member_pay"}, {"pin": PIN}, {"wait_until": "receipt"}, {"observe": "paid"},
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
    assert screens["wrong_pin"]["popup"]["error"] == "密码错误，请重新输入。"
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
    assert [e["type"] for e in events] == ["sale.completed", "audit.action"]
    sale, approval = events
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
