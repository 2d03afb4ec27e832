"""A staff PIN against a roster of 200 people, in a real Kivy window: the check (one scrypt per person)
runs off the UI thread, so the screen keeps ticking while it runs, and the answer is the same."""

import datetime as dt
import json
from typing import Any

import pytest

from kiosk.domain.staff import DEFAULT_PERMISSIONS, hash_pin
from kiosk.store import open_database, staff
from kiosk.store.connection import database
from tests.app.test_kiosk_window import run_kiosk, zh

ROSTER_SIZE = 200
WANG_PIN = "1357"

STEPS: list[dict[str, Any]] = [
    {"tap": "idle:clock"}, {"pin": WANG_PIN}, {"observe": "right"}, {"tap": "popup:close"},
    {"tap": "idle:clock"}, {"pin": "2580"}, {"observe": "wrong"},
]  # fmt: skip


def big_roster() -> bytes:
    """199 people, then 王芳 last in the order the terminal checks (by id): every PIN check tries
    all 200 hashes before it answers (the others share one hash: the same work per person)."""
    others = hash_pin("9999", b"salt-for-others1")
    people = [
        {"id": f"st-{n:03d}", "name": f"员工{n:03d}", "role": "attendant", "badge": None, "active": True,
         "pin_hash": others}
        for n in range(ROSTER_SIZE - 1)
    ]  # fmt: skip
    people.append({"id": "st-zzz-wang", "name": "王芳", "role": "attendant", "badge": None, "active": True,
                   "pin_hash": hash_pin(WANG_PIN, b"salt-for-wang-01")})  # fmt: skip
    permissions = {role: list(actions) for role, actions in DEFAULT_PERMISSIONS.items()}
    return json.dumps(
        {"v": 1, "version": 1, "store": "S01", "permissions": permissions, "staff": people}
    ).encode()


@pytest.fixture(scope="module")
def checks(tmp_path_factory: pytest.TempPathFactory, display: str) -> dict[str, Any]:
    workdir = tmp_path_factory.mktemp("pin200")
    open_database(workdir / "kiosk.db")
    try:
        assert staff.apply_roster(big_roster(), dt.datetime.now(dt.UTC))
        assert len(staff.pin_candidates()) == ROSTER_SIZE
    finally:
        database.close()
    return run_kiosk(workdir, display, {"steps": STEPS})


def test_the_pin_is_checked_against_all_200_and_answers_the_same(checks: dict[str, Any]) -> None:
    screens = checks["screens"]
    right = screens["right"]["popup"]
    assert (right["kind"], right["title"]) == ("ClockPopup", zh("上下班打卡 · 王芳"))
    wrong = screens["wrong"]["popup"]
    assert (wrong["kind"], wrong["error"]) == ("PinPopup", zh("密码错误，还可再试 4 次。"))


def test_the_screen_keeps_ticking_while_the_pin_is_checked(checks: dict[str, Any]) -> None:
    found = checks["pin_checks"]
    assert len(found) == 2  # both checks were still running after the OK tap had returned
    for check in found:
        # on the UI thread the screen would stand still for the whole check: no tick, one long gap
        assert check["ticks"] >= 5, check
        assert check["max_gap"] < check["seconds"] / 2, check
