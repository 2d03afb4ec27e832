import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from kiosk.store import outbox, staff_clock
from kiosk.store.sales import Terminal
from kiosk.sync.schema import check_event

NOW = dt.datetime(2026, 11, 24, 9, 2, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
TERMINAL = Terminal(store="S01", device="K01", boot="boot-1")


def test_each_person_toggles_in_and_out_on_their_own(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    taps = [
        ("s-1", "张三", "pin"),
        ("s-2", "李四", "badge"),
        ("s-1", "张三", "badge"),
        ("s-1", "张三", "pin"),
    ]
    entries = [
        staff_clock.clock(TERMINAL, NOW + dt.timedelta(hours=i), staff, name, method)
        for i, (staff, name, method) in enumerate(taps)
    ]
    assert [(e.staff_id, e.direction, e.method) for e in entries] == [
        ("s-1", "in", "pin"), ("s-2", "in", "badge"), ("s-1", "out", "badge"), ("s-1", "in", "pin"),
    ]  # fmt: skip
    assert (staff_clock.last_direction("s-1"), staff_clock.last_direction("s-2")) == ("in", "in")
    assert staff_clock.last_direction("s-3") is None
    events = outbox.pending()
    assert [e["type"] for e in events] == ["staff.clock"] * 4
    assert events[2]["data"] == {
        "store": "S01", "staff_id": "s-1", "staff_name": "张三", "direction": "out", "method": "badge",
        "at": "2026-11-24T11:02:00.000+08:00",
    }  # fmt: skip
    assert all(check_event(e, "K01") is None for e in events)


def test_hours_today_and_this_week_count_pairs_and_the_open_shift(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    tz = ZoneInfo("Asia/Shanghai")
    monday = dt.datetime(2026, 11, 23, 9, 0, tzinfo=tz)
    for at in (monday, monday.replace(hour=17, minute=30)):  # Monday 8:30
        staff_clock.clock(TERMINAL, at, "st-1", "王芳", "pin")
    staff_clock.clock(TERMINAL, monday - dt.timedelta(days=1), "st-2", "赵强", "pin")  # someone else
    wednesday = monday + dt.timedelta(days=2)
    staff_clock.clock(TERMINAL, wednesday, "st-1", "王芳", "badge")  # in at 09:00, still on shift
    assert staff_clock.minutes_worked("st-1", wednesday.replace(hour=11, minute=15)) == (135, 510 + 135)
    next_monday = monday + dt.timedelta(days=7, hours=1)
    assert staff_clock.minutes_worked("st-1", next_monday) == (0, 0)


def test_breaks_are_not_worked_time_and_a_clocking_out_of_turn_writes_nothing(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    tz = ZoneInfo("Asia/Shanghai")
    day = dt.datetime(2026, 11, 25, 9, 0, tzinfo=tz)  # a Wednesday
    with pytest.raises(staff_clock.ClockRefused):
        staff_clock.record(TERMINAL, day, "st-1", "王芳", "break_start", "pin")  # not on shift
    assert outbox.pending() == []
    assert staff_clock.status("st-1", day) == staff_clock.ClockStatus("off", None, 0, 0, 0)
    steps = [(9, 0, "in"), (12, 0, "break_start"), (12, 45, "break_end"), (15, 0, "break_start")]
    for hour, minute, direction in steps:
        staff_clock.record(
            TERMINAL, day.replace(hour=hour, minute=minute), "st-1", "王芳", direction, "badge"
        )
    on_break = staff_clock.status("st-1", day.replace(hour=15, minute=10))
    # worked 09:00-12:00 and 12:45-15:00; breaks 12:00-12:45 and 15:00 until now
    assert on_break == staff_clock.ClockStatus("break", day.replace(hour=15), 315, 315, 55)
    assert on_break.allowed == ("break_end", "out")
    with pytest.raises(staff_clock.ClockRefused):
        staff_clock.record(TERMINAL, day.replace(hour=15, minute=5), "st-1", "王芳", "in", "pin")
    staff_clock.record(
        TERMINAL, day.replace(hour=15, minute=20), "st-1", "王芳", "out", "pin"
    )  # ends the break
    off = staff_clock.status("st-1", day.replace(hour=18))
    assert off == staff_clock.ClockStatus("off", day.replace(hour=15, minute=20), 315, 315, 65)
    assert staff_clock.minutes_worked("st-1", day.replace(hour=18)) == (315, 315)
    directions = [e["data"]["direction"] for e in outbox.pending()]
    assert directions == ["in", "break_start", "break_end", "break_start", "out"]
    assert all(check_event(e, "K01") is None for e in outbox.pending())
