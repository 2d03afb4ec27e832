"""Roles at the terminal in a real Kivy window, on the staff roster the hub sent (applied before start).

王芳 is an attendant, 赵强 a supervisor. The attendant's void is refused and says who may do it;
the supervisor's badge tapped mid-sale opens the attendant menu on the same cart and the void
goes through; a refund needs a manager; five wrong PINs lock the keypad, and a badge still works.
"""

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest

from kiosk.domain.staff import DEFAULT_PERMISSIONS, hash_pin
from kiosk.store import open_database, staff
from kiosk.store.connection import database
from tests.app.test_kiosk_window import MILK, WATER, after_seed, rows, run_kiosk, zh

WANG_PIN, ZHAO_PIN, ZHAO_BADGE = "1357", "8642", "0012345678"  # a badge reader types decimal

ROLES_STEPS: list[dict[str, Any]] = [
    {"scan": WATER}, {"scan": MILK},
    {"tap": "cart:staff"}, {"pin": WANG_PIN}, {"observe": "attendant_menu"}, {"tap": "popup:void_sale"},
    {"observe": "void_refused"}, {"shot": "staff_forbidden"},
    {"card": ZHAO_BADGE}, {"wait": 0.3}, {"observe": "badge_menu"}, {"tap": "popup:void_sale"},
    {"observe": "voided"},
    {"tap": "idle:staff"}, {"pin": WANG_PIN}, {"tap": "popup:refund"}, {"pin": WANG_PIN},
    {"observe": "refund_refused"}, {"shot": "staff_refund_forbidden"},
    {"card": ZHAO_BADGE}, {"observe": "refund_badge_refused"}, {"tap": "popup:cancel"},
    {"scan": WATER}, {"tap": "cart:pay"}, {"tap": "pay:cash"}, {"pin": WANG_PIN}, {"tap": "receipt:skip"},
    {"tap": "done:new_sale"},
    {"tap": "idle:staff"}, {"pin": WANG_PIN}, {"tap": "popup:shift"}, {"observe": "shift"},
    {"shot": "shift_report"}, {"tap": "popup:close_z"}, {"observe": "count"}, {"amount": "5150"},
    {"observe": "shift_closed"},
    {"tap": "idle:staff"}, {"pin": WANG_PIN}, {"tap": "popup:pause"}, {"observe": "paused"},
    {"shot": "paused"}, {"scan": WATER}, {"observe": "paused_scan"},
    {"tap": "popup:resume"}, {"tap": "popup:cancel"}, {"observe": "still_paused"},
    {"card": ZHAO_BADGE}, {"observe": "resumed"},
    {"tap": "idle:clock"}, {"pin": "0000"}, {"observe": "wrong_once"},
    {"pin": "0000"}, {"pin": "0000"}, {"pin": "0000"}, {"pin": "0000"}, {"observe": "locked"},
    {"shot": "staff_locked"}, {"pin": WANG_PIN}, {"observe": "still_locked"},
    {"card": ZHAO_BADGE}, {"observe": "badge_clock_screen"},
    {"tap": "popup:clock_in"}, {"observe": "badge_clocked"},
]  # fmt: skip


def roster(zhao_badge: str = ZHAO_BADGE, attendant_may_not: tuple[str, ...] = ()) -> bytes:
    """What the hub sends this terminal's store (hub.staff.accounts.roster_for), with known PINs:
    王芳 an attendant, 赵强 a supervisor with a badge; the default matrix, less what the owner took
    from the attendant."""
    people = [
        {"id": "st-wang", "name": "王芳", "role": "attendant", "badge": None, "active": True,
         "pin_hash": hash_pin(WANG_PIN, b"salt-for-wang-01")},
        {"id": "st-zhao", "name": "赵强", "role": "supervisor", "badge": zhao_badge, "active": True,
         "pin_hash": hash_pin(ZHAO_PIN, b"salt-for-zhao-01")},
    ]  # fmt: skip
    permissions = {role: list(actions) for role, actions in DEFAULT_PERMISSIONS.items()}
    permissions["attendant"] = [a for a in permissions["attendant"] if a not in attendant_may_not]
    return json.dumps(
        {"v": 1, "version": 1, "store": "S01", "permissions": permissions, "staff": people}
    ).encode()


def outbox(workdir: Path) -> list[dict[str, Any]]:
    """The run's events after the demo member's seeding."""
    bodies = rows(workdir / "kiosk.db", "select body from outbox order by seq")
    return after_seed([json.loads(body) for (body,) in bodies])


@pytest.fixture(scope="module")
def roles(tmp_path_factory: pytest.TempPathFactory, display: str) -> tuple[dict[str, Any], Path]:
    workdir = tmp_path_factory.mktemp("roles")
    open_database(workdir / "kiosk.db")
    try:
        assert staff.apply_roster(roster(), dt.datetime.now(dt.UTC))
    finally:
        database.close()
    shots = Path(os.environ.get("KIOSK_SCREENSHOTS", workdir / "shots"))
    return run_kiosk(workdir, display, {"steps": ROLES_STEPS, "screenshots": str(shots)}), workdir


def test_a_forbidden_action_says_who_may_and_changes_nothing(roles: tuple[dict[str, Any], Path]) -> None:
    screens = roles[0]["screens"]
    assert screens["attendant_menu"]["popup"]["kind"] == "StaffMenu"
    refused = screens["void_refused"]
    assert refused["message"] == zh("王芳（收银员）不能整单作废。可由值班主管、店长、老板操作。")
    assert (refused["current"], len(refused["rows"])) == ("cart", 2)  # the cart is untouched
    # the refund keypad stays open for someone whose role may: neither the attendant nor a supervisor
    refund = screens["refund_refused"]["popup"]
    assert (refund["kind"], refund["title"]) == ("PinPopup", "退货退款")
    assert refund["error"] == zh("王芳（收银员）不能退货退款。可由店长、老板操作。")
    by_badge = screens["refund_badge_refused"]["popup"]["error"]
    assert by_badge == zh("赵强（值班主管）不能退货退款。可由店长、老板操作。")
    assert screens["refund_badge_refused"]["current"] == "idle"


def test_a_badge_mid_sale_opens_the_menu_on_the_same_cart_and_its_role_may(
    roles: tuple[dict[str, Any], Path],
) -> None:
    report, workdir = roles
    screens = report["screens"]
    menu = screens["badge_menu"]
    assert menu["popup"]["kind"] == "StaffMenu" and menu["rows"] == screens["void_refused"]["rows"]
    assert (screens["voided"]["current"], screens["voided"]["rows"]) == ("idle", [])
    events = after_seed(
        [json.loads(b) for (b,) in rows(workdir / "kiosk.db", "select body from outbox order by seq")]
    )
    voids = [e["data"] for e in events if e["data"].get("action") == "void"]
    assert [(v["attendant"], v["detail"]["scope"], v["detail"]["total_fen"]) for v in voids] == [
        ("st-zhao", "sale", 200 + 350)
    ]


def test_five_wrong_pins_lock_the_keypad_each_recorded_and_a_badge_still_clocks(
    roles: tuple[dict[str, Any], Path],
) -> None:
    report, workdir = roles
    screens = report["screens"]
    assert screens["wrong_once"]["popup"]["error"] == zh("密码错误，还可再试 4 次。")
    locked = zh("密码错误次数过多，请 300 秒后再试，或刷员工卡。")
    assert screens["locked"]["popup"]["error"] == locked
    assert screens["still_locked"]["popup"]["error"].startswith(
        zh("密码错误次数过多，请 ")
    )  # the right PIN too
    assert screens["badge_clock_screen"]["popup"]["title"] == zh("上下班打卡 · 赵强")  # the badge opened it
    assert screens["badge_clocked"]["message"].startswith(zh("赵强 已上班 "))
    events = after_seed(
        [json.loads(b) for (b,) in rows(workdir / "kiosk.db", "select body from outbox order by seq")]
    )
    failed = [
        e["data"]["detail"]["tries_left"] for e in events if e["data"].get("action") == "staff_pin_failed"
    ]
    assert failed == [4, 3, 2, 1, 0]
    clocks = [(e["data"]["staff_id"], e["data"]["method"]) for e in events if e["type"] == "staff.clock"]
    assert clocks == [("st-zhao", "badge")]


def test_the_z_report_closes_the_shift_with_the_cash_counted(roles: tuple[dict[str, Any], Path]) -> None:
    report, workdir = roles
    screens = report["screens"]
    shift = screens["shift"]["popup"]
    assert shift["kind"] == "ShiftPopup"
    # the demo member's ¥50.00 balance was seeded as a top-up on this terminal: it counts as cash
    lines = [
        "销售 1 笔，合计 ¥2.00", "退款 0 笔，¥0.00", "作废 1 次，改价/授权 0 次",
        "储值充值收现 ¥50.00", "应有现金 ¥52.00",
    ]  # fmt: skip
    assert shift["figures"] == zh("\n".join(lines))
    assert screens["count"]["popup"]["title"] == zh("班结：清点钱箱现金并输入金额（应有 ¥52.00）")
    assert screens["shift_closed"]["message"] == zh(
        "已班结：应有现金 ¥52.00，实点 ¥51.50，长短款 -¥0.50。班结报表正在打印。"
    )
    [closed] = [e["data"] for e in outbox(workdir) if e["type"] == "shift.closed"]
    assert (closed["attendant"], closed["counted_cash_fen"]) == ("st-wang", 5150)
    assert closed["over_short_fen"] == -50
    assert closed["figures"]["by_method"] == {"cash": 200} and closed["figures"]["voids_fen"] == 550


def test_a_paused_till_says_use_another_until_staff_open_it(roles: tuple[dict[str, Any], Path]) -> None:
    report, workdir = roles
    screens = report["screens"]
    paused = screens["paused"]["popup"]
    assert (paused["kind"], paused["title"]) == ("PausePopup", "请到其他收银台")
    assert (screens["paused_scan"]["current"], screens["paused_scan"]["rows"]) == ("idle", [])  # no sale
    assert screens["still_paused"]["popup"]["kind"] == "PausePopup"  # cancelling the PIN keeps it paused
    assert "popup" not in screens["resumed"] and screens["resumed"]["message"] == "收银台已恢复使用。"
    actions = [(e["data"]["action"], e["data"]["attendant"]) for e in outbox(workdir)
               if e["data"].get("action") in ("pause", "resume")]  # fmt: skip
    assert actions == [("pause", "st-wang"), ("resume", "st-zhao")]
