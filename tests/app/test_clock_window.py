"""The clock screen in a real Kivy window: clock in, a break, clock out, by PIN, badge and the staff menu.

The demo terminal has no hub, so every clocking happens offline; the clock screen's hours come
from the terminal's own events. Afterwards the same terminal database is synced through a real
Mosquitto to a hub, which books the clockings and pairs them into one shift with one break.
"""

import datetime as dt
import json
import os
import shutil
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hub.ingest.worker import HubIngestor
from hub.staff import hours as staff_hours
from kiosk.store import open_database
from kiosk.store.connection import database
from tests.app.test_kiosk_window import MEMBER_CARD, PIN, after_seed, rows, run_kiosk, zh
from tests.sync.harness import AgentThread, wait_until

BADGE = "0099887766"
TZ = ZoneInfo("Asia/Shanghai")

CLOCK_STEPS: list[dict[str, Any]] = [
    {"tap": "idle:clock"}, {"observe": "clock_keypad"}, {"shot": "clock_pin"},
    {"pin": PIN}, {"observe": "off"}, {"shot": "clock_off"},
    {"tap": "popup:clock_in"}, {"observe": "clocked_in"},
    {"card": BADGE}, {"observe": "on"}, {"shot": "clock_on"},
    {"tap": "popup:break_start"}, {"observe": "break_started"},
    {"wait": 1.6},  # the reader takes the same card again only after its 1.5 s debounce
    {"card": BADGE}, {"observe": "on_break"}, {"shot": "clock_break"},
    {"tap": "popup:break_end"}, {"observe": "break_ended"},
    {"tap": "idle:staff"}, {"pin": PIN}, {"tap": "popup:clock"}, {"observe": "from_menu"},
    {"tap": "popup:clock_out"}, {"observe": "clocked_out"},
    {"tap": "idle:staff"}, {"pin": PIN}, {"observe": "menu"}, {"wait": 0.5}, {"shot": "staff-menu"},
    {"tap": "popup:member"}, {"observe": "member_join"}, {"tap": "member_phone:back"},
    {"card": MEMBER_CARD}, {"observe": "member_card"},
]  # fmt: skip


@pytest.fixture(scope="module")
def clocking(tmp_path_factory: pytest.TempPathFactory, display: str) -> tuple[dict[str, Any], Path]:
    """王芳 clocks in by PIN, takes a break by badge, clocks out from the staff menu; a member taps."""
    workdir = tmp_path_factory.mktemp("clock")
    shots = Path(os.environ.get("KIOSK_SCREENSHOTS", workdir / "shots"))
    script = {"steps": CLOCK_STEPS, "screenshots": str(shots), "settings": {"attendant_badges": [BADGE]}}
    return run_kiosk(workdir, display, script), workdir


def clock_events(db: Path) -> list[dict[str, Any]]:
    return after_seed([json.loads(b) for (b,) in rows(db, "select body from outbox order by seq")])


def test_the_clock_screen_offers_only_what_fits_and_each_tap_is_one_event(
    clocking: tuple[dict[str, Any], Path],
) -> None:
    report, workdir = clocking
    screens = report["screens"]
    keypad = screens["clock_keypad"]["popup"]
    assert (keypad["kind"], keypad["title"]) == ("PinPopup", "上下班打卡")
    events = [e for e in clock_events(workdir / "kiosk.db") if e["type"] == "staff.clock"]
    assert len(events) == 4
    clocked = [e["data"] for e in events]
    assert [(c["staff_id"], c["staff_name"], c["direction"], c["method"]) for c in clocked] == [
        ("attendant-1", "王芳", "in", "pin"),
        ("attendant-1", "王芳", "break_start", "badge"),
        ("attendant-1", "王芳", "break_end", "badge"),
        ("attendant-1", "王芳", "out", "pin"),
    ]
    assert all(c["at"] == e["ts"] and c["store"] == "S01" for c, e in zip(clocked, events, strict=True))
    times = [e["ts"][11:16] for e in events]

    off = screens["off"]["popup"]
    assert (off["kind"], off["title"], off["state"]) == ("ClockPopup", zh("上下班打卡 · 王芳"), "未上班")
    assert off["hours"] == zh("今天已工作 0:00（休息 0:00） · 本周 0:00")
    assert off["enabled"] == ["clock_in", "close"]
    on = screens["on"]["popup"]
    assert on["state"] == zh(f"上班中，自 {times[0]} 起")
    assert on["enabled"] == ["break_start", "clock_out", "close"]
    on_break = screens["on_break"]["popup"]
    assert on_break["state"] == zh(f"休息中，自 {times[1]} 起")
    assert on_break["enabled"] == ["break_end", "clock_out", "close"]
    assert screens["from_menu"]["popup"]["enabled"] == ["break_start", "clock_out", "close"]

    # seconds apart: 0:00 today and this week
    assert screens["clocked_in"]["message"] == zh(f"王芳 已上班 {times[0]}。本周已工作 0:00")
    assert screens["break_started"]["message"] == zh(f"王芳 开始休息 {times[1]}。今天已工作 0:00")
    assert screens["break_ended"]["message"] == zh(f"王芳 休息结束 {times[2]}。今天休息 0:00")
    assert screens["clocked_out"]["message"] == zh(f"王芳 已下班 {times[3]}。今天 0:00，本周 0:00")
    assert all(screens[name]["current"] == "idle" for name in ("clocked_in", "break_ended", "clocked_out"))
    for shot in ("clock_off", "clock_on", "clock_break"):
        assert report["small_buttons"][f"{shot}-zh"] == [] and report["small_buttons"][f"{shot}-en"] == []


def test_staff_register_a_customer_as_a_member_from_the_staff_menu(
    clocking: tuple[dict[str, Any], Path],
) -> None:
    report, workdir = clocking
    screens = report["screens"]
    assert screens["menu"]["popup"]["member"] == "为顾客办会员"
    assert "member" in screens["menu"]["popup"]["enabled"]
    assert screens["member_join"]["current"] == "member_phone"  # the customer's sign-up, phone first
    assisted = [e["data"] for e in clock_events(workdir / "kiosk.db") if e["type"] == "audit.action"]
    assert assisted == [
        {"store": "S01", "action": "member_assist", "attendant": "attendant-1", "sale_id": None, "detail": {}}
    ]
    assert report["small_buttons"]["staff-menu-zh"] == [] and report["small_buttons"]["staff-menu-en"] == []


def test_a_member_card_is_still_a_member_when_badges_are_configured(
    clocking: tuple[dict[str, Any], Path],
) -> None:
    member = clocking[0]["screens"]["member_card"]
    assert member["current"] == "cart" and "138****8000" in member["member"]


def test_the_offline_clockings_reach_the_hub_as_one_shift_with_its_break(
    clocking: tuple[dict[str, Any], Path],
    tmp_path: Path,
    hub_db,
    broker,  # type: ignore[no-untyped-def]
) -> None:
    _report, workdir = clocking
    for name in ("kiosk.db", "kiosk.db-wal"):  # a copy per hub database: each run sends everything
        if (workdir / name).exists():
            shutil.copy(workdir / name, tmp_path / name)
    sent = [e for e in clock_events(tmp_path / "kiosk.db") if e["type"] == "staff.clock"]
    open_database(tmp_path / "kiosk.db")
    hub = HubIngestor("127.0.0.1", broker.port, TZ, worker="clock")
    hub.start()
    agent = AgentThread(broker.port, device="K01")
    try:
        wait_until(lambda: staff_hours.StaffClock.select().count() == 4, what="four clockings booked")
    finally:
        agent.close()
        hub.stop()
        database.close()
    at = [dt.datetime.fromisoformat(e["data"]["at"]).astimezone(TZ) for e in sent]
    booked = staff_hours.StaffClock.select().order_by(staff_hours.StaffClock.at)
    assert [(c.event_id, c.direction, c.device) for c in booked] == [
        (e["id"], e["data"]["direction"], "K01") for e in sent
    ]
    day = at[0].date()
    (shift,) = staff_hours.shifts(day, day, TZ)
    assert (shift.staff_name, shift.start, shift.end) == ("王芳", at[0], at[3])
    assert shift.breaks == ((at[1], at[2]),)
    assert (shift.minutes, shift.break_minutes, shift.open) == (0, 0, False)  # seconds apart
