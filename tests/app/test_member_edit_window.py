"""Staff correct a member's details for them in a real Kivy window, on a roster from the hub.

In this shop only a supervisor and up may touch members (the owner took ``member`` from the
attendant): 王芳's 修改会员资料 is refused and says who may; 赵强's badge opens the menu on the same
cart, and he changes the member's name on the sign-up's name screen, types a birthday (a wrong one
first) and records the marketing answer. Each change is one ``member.updated`` with its
``member_edit`` audit, and the stored name and birthday open with the terminal's key.
"""

import base64
import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest

from kiosk.config import DEMO_ENCRYPTION_KEY
from kiosk.store import members, open_database, staff
from kiosk.store.connection import database
from kiosk.store.member_models import Member
from kiosk.store.pii import PiiKey
from tests.app.test_kiosk_window import MEMBER_CARD, WATER, after_seed, rows, run_kiosk, zh
from tests.app.test_staff_roles_window import WANG_PIN, roster

ZHAO_BADGE = "0055667788"  # not the demo member card, which the roles test gives 赵强
BADGE_AGAIN = {"wait": 1.6}  # the reader takes the same card again only after its 1.5 s debounce

EDIT_STEPS: list[dict[str, Any]] = [
    {"scan": WATER}, {"card": MEMBER_CARD}, {"observe": "member_on_cart"},
    {"tap": "cart:staff"}, {"pin": WANG_PIN}, {"observe": "attendant_menu"}, {"tap": "popup:member"},
    {"observe": "attendant_refused"},
    {"card": ZHAO_BADGE}, {"wait": 0.3}, {"observe": "zhao_menu"}, {"tap": "popup:member"},
    {"observe": "edit"}, {"shot": "member_edit"},
    {"tap": "popup:name"}, {"observe": "name_screen"}, {"shot": "member_edit_name"},
    {"tap": "surname:王"}, {"tap": "member_name:ms"}, {"observe": "name_saved"},
    BADGE_AGAIN, {"card": ZHAO_BADGE}, {"wait": 0.3}, {"tap": "popup:member"}, {"observe": "edit_again"},
    {"tap": "popup:birthday"}, {"pin": "19900230"}, {"observe": "birthday_bad"}, {"shot": "member_birthday"},
    {"pin": "19900517"}, {"observe": "birthday_saved"},
    BADGE_AGAIN, {"card": ZHAO_BADGE}, {"wait": 0.3}, {"tap": "popup:member"},
    {"tap": "popup:marketing_no"}, {"observe": "marketing_saved"},
]  # fmt: skip


@pytest.fixture(scope="module")
def edited(tmp_path_factory: pytest.TempPathFactory, display: str) -> tuple[dict[str, Any], Path]:
    workdir = tmp_path_factory.mktemp("member-edit")
    open_database(workdir / "kiosk.db")
    try:
        assert staff.apply_roster(roster(ZHAO_BADGE, attendant_may_not=("member",)), dt.datetime.now(dt.UTC))
    finally:
        database.close()
    shots = Path(os.environ.get("KIOSK_SCREENSHOTS", workdir / "shots"))
    return run_kiosk(workdir, display, {"steps": EDIT_STEPS, "screenshots": str(shots)}), workdir


def events(workdir: Path) -> list[dict[str, Any]]:
    return after_seed(
        [json.loads(b) for (b,) in rows(workdir / "kiosk.db", "select body from outbox order by seq")]
    )


def test_an_attendant_without_the_member_right_is_told_who_may_and_nothing_changes(
    edited: tuple[dict[str, Any], Path],
) -> None:
    screens = edited[0]["screens"]
    menu = screens["attendant_menu"]["popup"]
    assert (menu["kind"], menu["member"]) == ("StaffMenu", "修改会员资料")
    refused = screens["attendant_refused"]
    assert refused["message"] == zh(
        "王芳（收银员）不能为顾客办会员或改会员资料。可由值班主管、店长、老板操作。"
    )
    assert "popup" not in refused and refused["rows"] == screens["member_on_cart"]["rows"]


def test_a_supervisor_changes_name_birthday_and_marketing_each_sent_and_audited(
    edited: tuple[dict[str, Any], Path],
) -> None:
    report, workdir = edited
    screens = report["screens"]
    edit = screens["edit"]["popup"]
    assert (edit["kind"], edit["title"]) == ("MemberEditPopup", zh("修改会员资料 · 138****8000"))
    assert edit["now"] == zh("称呼：张*　生日：未填写")
    assert edit["enabled"] == ["birthday", "close", "marketing_no", "marketing_yes", "name"]
    name_screen = screens["name_screen"]
    assert name_screen["current"] == "member_name"
    assert (name_screen["texts"]["skip"], name_screen["texts"]["other"]) == ("不留称呼", "其他")
    assert screens["name_saved"]["message"] == zh("已更新会员称呼：王**。")
    assert screens["name_saved"]["current"] == "cart" and "王**" in screens["name_saved"]["member"]
    assert screens["edit_again"]["popup"]["now"] == zh("称呼：王**　生日：未填写")
    bad = screens["birthday_bad"]["popup"]
    assert (bad["kind"], bad["title"]) == ("PinPopup", "修改会员生日")
    assert bad["error"] == zh("生日无效，请重新输入，如 19900517")
    assert bad["entry"] == "YYYY-MM-DD"  # emptied for the next try
    assert screens["birthday_saved"]["message"] == zh("已更新会员 王** 的生日。")
    assert screens["marketing_saved"]["message"] == zh("会员 王** 不再接收营销信息。")
    assert screens["marketing_saved"]["rows"] == screens["member_on_cart"]["rows"]  # the sale goes on

    sent = events(workdir)
    updates = [e["data"] for e in sent if e["type"] == "member.updated"]
    assert [sorted(set(u) - {"member_id", "changed_by", "where"}) for u in updates] == [
        ["name_enc"],
        ["birthday_enc"],
        ["marketing_consent"],
    ]
    assert {(u["changed_by"], u["where"]) for u in updates} == {("st-zhao", "S01/K01")}
    assert updates[2]["marketing_consent"]["granted"] is False
    audits = [e["data"] for e in sent if e["type"] == "audit.action" and e["data"]["action"] == "member_edit"]
    assert [(a["attendant"], a["detail"]["fields"]) for a in audits] == [
        ("st-zhao", ["name"]),
        ("st-zhao", ["birthday"]),
        ("st-zhao", ["marketing"]),
    ]
    key = PiiKey(base64.b64decode(DEMO_ENCRYPTION_KEY))
    open_database(workdir / "kiosk.db")
    try:
        member = Member.get_by_id(updates[0]["member_id"])
        assert members.profile(key, member) == {
            "phone": "+8613800138000",
            "name": "王女士",
            "birthday": "1990-05-17",
        }
    finally:
        database.close()
    for shot in ("member_edit", "member_edit_name", "member_birthday"):
        assert report["small_buttons"][f"{shot}-zh"] == [] and report["small_buttons"][f"{shot}-en"] == []
