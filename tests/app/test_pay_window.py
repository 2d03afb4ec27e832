"""The pay screen's member choices in a real Kivy window: 储值支付, 积分抵扣 and the member's coupons.

The demo member holds 1280 points, ¥50 stored value and a 满30减5 coupon; the
demo rules let points pay at most half a sale (100 points = ¥1). Every tap is a
Kivy touch event; the tests assert the buttons' texts, the payments, the
ledger rows and the ``sale.completed`` event that the taps produced.
"""

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.app.test_kiosk_window import (
    DUMPLINGS,
    MEMBER_CARD,
    MILK,
    PIN,
    WATER,
    after_seed,
    rows,
    run_kiosk,
    zh,
)

CHOICE_STEPS: list[dict[str, Any]] = [
    {"scan": WATER}, {"scan": MILK}, {"scan": DUMPLINGS}, {"card": MEMBER_CARD},
    {"tap": "cart:pay"}, {"observe": "offered"}, {"shot": "pay_member"},
    {"tap": "coupon:0"}, {"observe": "kept"},
    {"tap": "coupon:0"}, {"observe": "used_again"},
    {"tap": "coupon:0"}, {"observe": "kept_again"},
    {"tap": "pay:points_pay"}, {"observe": "points_paid"}, {"shot": "pay_points_paid"},
    {"tap": "pay:stored_value_pay"}, {"wait_until": "receipt"}, {"observe": "paid"},
    {"tap": "receipt:skip"}, {"tap": "done:new_sale"},
]  # fmt: skip


@pytest.fixture(scope="module")
def choice(tmp_path_factory: pytest.TempPathFactory, display: str) -> tuple[dict[str, Any], Path]:
    """¥32.40 of shopping: the coupon unticked, ticked, unticked; points first, then stored value."""
    workdir = tmp_path_factory.mktemp("pay_choice")
    shots = Path(os.environ.get("KIOSK_SCREENSHOTS", workdir / "shots"))
    return run_kiosk(workdir, display, {"steps": CHOICE_STEPS, "screenshots": str(shots)}), workdir


def events(db: Path) -> list[dict[str, Any]]:
    return after_seed([json.loads(b) for (b,) in rows(db, "select body from outbox order by seq")])


def test_the_member_sees_stored_value_points_and_the_coupon_as_separate_choices(
    choice: tuple[dict[str, Any], Path],
) -> None:
    offered = choice[0]["screens"]["offered"]
    assert (offered["current"], offered["total"], offered["remaining"]) == ("pay", "¥27.40", "¥27.40")
    texts = offered["texts"]
    assert texts["stored_value_pay"] == zh("储值支付\n余额 ¥50.00")
    # half of ¥27.40 is ¥13.70: all 1280 points (¥12.80) fit
    assert texts["points_pay"] == zh("积分抵扣 1280 分\n用 1280 分抵 ¥12.80")
    assert {"stored_value_pay", "points_pay", "cash", "back"} <= set(offered["enabled"])
    assert offered["coupons"] == [[zh("满30减5\n已用 −¥5.00，点此留待下次"), True]]
    assert choice[0]["small_buttons"]["pay_member-zh"] == []
    assert choice[0]["small_buttons"]["pay_member-en"] == []


def test_unticking_the_coupon_keeps_it_and_the_totals_follow_exactly(
    choice: tuple[dict[str, Any], Path],
) -> None:
    screens = choice[0]["screens"]
    kept = screens["kept"]
    assert (kept["total"], kept["remaining"], kept["discount"]) == ("¥32.40", "¥32.40", "¥0.00")
    assert kept["message"] == zh("满30减5 留待下次使用，本单应付 ¥32.40。")
    assert kept["coupons"] == [["满30减5\n留待下次，点此使用", True]]
    assert kept["points"] == zh("本单可得 32 积分")
    assert kept["texts"]["points_pay"] == zh("积分抵扣 1280 分\n用 1280 分抵 ¥12.80")
    again = screens["used_again"]
    assert (again["total"], again["message"]) == ("¥27.40", zh("已使用 满30减5，本单应付 ¥27.40。"))
    assert again["points"] == zh("本单可得 27 积分")
    assert screens["kept_again"]["total"] == "¥32.40"


def test_points_pay_first_and_lock_the_coupon_then_stored_value_pays_the_rest(
    choice: tuple[dict[str, Any], Path],
) -> None:
    paid = choice[0]["screens"]["points_paid"]
    assert (paid["current"], paid["remaining"]) == ("pay", "¥19.60")
    assert paid["message"] == zh("积分抵扣 ¥12.80（用 1280 积分）。")
    assert paid["texts"]["points_pay"] == zh("积分抵扣 0 分\n没有积分")
    assert "points_pay" not in paid["enabled"]
    assert paid["texts"]["stored_value_pay"] == zh("储值支付\n余额 ¥50.00")
    assert paid["coupons"] == [["满30减5\n留待下次", False]]  # the total is fixed once paying began
    assert choice[0]["screens"]["paid"]["current"] == "receipt"


def test_the_sale_carries_exactly_the_chosen_coupons_payments_and_ledger(
    choice: tuple[dict[str, Any], Path],
) -> None:
    db = choice[1] / "kiosk.db"
    ((sale_id, total),) = rows(db, "select id, total_fen from sale")
    assert total == 3240
    assert rows(db, "select method, amount_fen, reference from payment order by id") == [
        ("points", 1280, "points:1280"),
        ("stored_value", 1960, "member"),
    ]
    (sale,) = [e["data"] for e in events(db) if e["type"] == "sale.completed"]
    assert (sale["coupons"], sale["discounts"], sale["earned_points"]) == ([], [], 19)
    assert [(e["account"], e["kind"], e["amount"]) for e in sale["ledger"]] == [
        ("points", "redeem", -1280),
        ("stored_principal", "spend", -1960),
        ("points", "earn", 19),  # ¥19.60 of stored value principal earns; the points' ¥12.80 does not
    ]
    spent = rows(db, f"select account, amount from ledger_row where sale_id = '{sale_id}' order by seq")
    assert spent == [("points", -1280), ("stored_principal", -1960), ("points", 19)]
    assert rows(db, "select id, used_sale_id from coupon_row") == [("demo-coupon-0001", None)]


OVERRIDE_STEPS: list[dict[str, Any]] = [
    {"scan": DUMPLINGS}, {"tap": "row:0:plus"}, {"tap": "row:0:plus"}, {"tap": "cart:pay"},
    {"observe": "no_member"}, {"tap": "pay:back"}, {"card": MEMBER_CARD}, {"tap": "cart:pay"},
    {"observe": "member"},
    {"tap": "pay:stored_value_pay"}, {"observe": "stored_paid"},
    {"tap": "pay:points_pay"}, {"observe": "over_cap"}, {"shot": "override_points"},
    {"tap": "pay:points_pay"}, {"observe": "keypad"}, {"pin": PIN}, {"observe": "points_paid"},
    {"tap": "pay:cash"}, {"pin": PIN}, {"wait_until": "receipt"}, {"observe": "paid"},
    {"tap": "receipt:skip"}, {"tap": "done:new_sale"},
]  # fmt: skip


@pytest.fixture(scope="module")
def override(tmp_path_factory: pytest.TempPathFactory, display: str) -> tuple[dict[str, Any], Path]:
    """¥75.70 due: stored value pays ¥50, points above a 500-point cap need 店员授权, cash the rest."""
    workdir = tmp_path_factory.mktemp("pay_override")
    shots = Path(os.environ.get("KIOSK_SCREENSHOTS", workdir / "shots"))
    script = {"steps": OVERRIDE_STEPS, "screenshots": str(shots), "settings": {"offline_points_cap": 500}}
    return run_kiosk(workdir, display, script), workdir


def test_without_a_member_both_buttons_say_to_tap_the_card(override: tuple[dict[str, Any], Path]) -> None:
    screens = override[0]["screens"]
    alone = screens["no_member"]
    assert alone["texts"]["stored_value_pay"] == zh("储值支付\n请先刷会员卡")
    assert alone["texts"]["points_pay"] == zh("积分抵扣 0 分\n请先刷会员卡")
    assert not {"stored_value_pay", "points_pay"} & set(alone["enabled"])
    member = screens["member"]
    assert (member["total"], member["remaining"]) == ("¥75.70", "¥75.70")
    # half of ¥75.70 is ¥37.85: all 1280 points (¥12.80) fit
    assert member["texts"]["points_pay"] == zh("积分抵扣 1280 分\n用 1280 分抵 ¥12.80")


def test_stored_value_spent_disables_its_button_with_the_reason(
    override: tuple[dict[str, Any], Path],
) -> None:
    paid = override[0]["screens"]["stored_paid"]
    assert (paid["remaining"], paid["message"]) == ("¥25.70", zh("储值支付 ¥50.00。"))
    assert paid["texts"]["stored_value_pay"] == zh("储值支付\n没有可用余额")
    assert "stored_value_pay" not in paid["enabled"]
    assert "points_pay" in paid["enabled"]


def test_points_above_the_offline_cap_turn_only_the_points_button_into_the_override(
    override: tuple[dict[str, Any], Path],
) -> None:
    screens = override[0]["screens"]
    over = screens["over_cap"]
    assert over["remaining"] == "¥25.70"
    assert over["texts"]["points_pay"] == zh("店员授权\n积分抵扣超出离线限额")
    assert over["texts"]["stored_value_pay"] == zh("储值支付\n没有可用余额")
    assert over["coupons"] == [[zh("满30减5\n已用 −¥5.00"), False]]
    keypad = screens["keypad"]["popup"]
    assert keypad["body"] == zh(
        "会员储值 ¥0.00、积分 1280 分超出本机离线限额。确认会员身份后输入店员密码授权，授权会记录在案。"
    )
    done = screens["points_paid"]
    assert (done["remaining"], done["message"]) == ("¥12.90", zh("积分抵扣 ¥12.80（用 1280 积分）。"))
    assert override[0]["small_buttons"]["override_points-zh"] == []
    assert override[0]["small_buttons"]["override_points-en"] == []


def test_the_override_sale_books_stored_value_points_cash_and_the_audit(
    override: tuple[dict[str, Any], Path],
) -> None:
    db = override[1] / "kiosk.db"
    assert override[0]["screens"]["paid"]["current"] == "receipt"
    ((sale_id, total),) = rows(db, "select id, total_fen from sale")
    assert total == 7570
    assert rows(db, "select method, amount_fen, reference from payment order by id") == [
        ("stored_value", 5000, "member"),
        ("points", 1280, "points:1280"),
        ("cash", 1290, "staff:attendant-1"),
    ]
    sale, approval = [e for e in events(db) if e["type"] in ("sale.completed", "audit.action")]
    assert sale["data"]["coupons"] == ["demo-coupon-0001"]
    assert approval["data"]["action"] == "offline_cap_override"
    assert approval["data"]["sale_id"] == sale_id
    assert approval["data"]["detail"] == {
        "reason": "offline cap exceeded: points 1280 > 500",
        "points": 1280,
        "stored_value_fen": 0,
        "cap_points": 500,
        "cap_stored_value_fen": 20000,
    }
    assert [(e["account"], e["kind"], e["amount"]) for e in sale["data"]["ledger"]] == [
        ("points", "redeem", -1280),
        ("stored_principal", "spend", -5000),
        ("points", "earn", 62),  # ¥50 stored value principal and ¥12.90 cash earn
    ]
