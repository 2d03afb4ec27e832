"""Overtime against the schedule, on real clockings from a terminal outbox (SQLite and PostgreSQL):
the time worked outside the planned hours (early, late, a break outside them not counted), a day off
without planned hours and someone with no schedule at all beyond 8 hours, a shift past midnight; per shift in
the CSV with the planned hours beside it, and per week on the page."""

import datetime as dt
import re

from hub.devtools.staff_story import K01, TZ, at
from hub.ingest.batch import ingest_batch
from hub.staff import attendance
from hub.staff import hours as staff_hours
from hub.web.app import create_app
from kiosk.store import outbox, staff_clock
from kiosk.sync.schema import batch
from tests.hub.staff.test_corrections import NOW, csv_rows

WEEK = [  # 23 Nov 2026 is a Monday
    ("s-zhou", "周敏", [(at(23, 9, 30), "in"), (at(23, 16, 0), "out"),  # inside the plan, late in
                      (at(25, 8, 40), "in"), (at(25, 12, 0), "break_start"), (at(25, 12, 30), "break_end"),
                      (at(25, 17, 10), "break_start"), (at(25, 17, 20), "break_end"), (at(25, 18, 5), "out"),
                      (at(26, 8, 0), "in"), (at(26, 18, 0), "out"),  # Thursday: not planned
                      (at(27, 14, 0), "in"), (at(28, 0, 30), "out")]),  # Friday, until after midnight
    ("s-li", "李四", [(at(25, 9, 0), "in"), (at(25, 18, 30), "out")]),  # no schedule at all
]  # fmt: skip


def clock_the_week() -> None:
    for staff_id, name, steps in WEEK:
        for when, direction in steps:
            staff_clock.record(K01, when, staff_id, name, direction, "badge")
    result = ingest_batch("pos/K01/up/events", batch("K01", outbox.pending()), NOW, TZ)
    assert result is not None and result.rejected == []
    for weekday in (0, 1, 2):
        attendance.set_schedule("s-zhou", weekday, "09:00", "17:00", NOW, "owner")
    attendance.set_schedule("s-zhou", 4, "14:00", "22:00", NOW, "owner")


def test_overtime_is_the_time_worked_outside_the_plan_and_the_week_adds_it_up(kiosk_db, signed_in) -> None:  # type: ignore[no-untyped-def]
    clock_the_week()
    plans = attendance.schedules()
    found = staff_hours.shifts(dt.date(2026, 11, 23), dt.date(2026, 11, 29), TZ)
    assert [
        (s.day, s.staff_name, s.minutes, staff_hours.overtime(s, plans.get(s.staff_id), TZ)) for s in found
    ] == [
        ("2026-11-23", "周敏", 390, 0),
        # 08:40–18:05 less 40 min of breaks = 525 worked; 20 early, 17:00–17:10 and 17:20–18:05 late
        ("2026-11-25", "周敏", 525, 75),
        ("2026-11-25", "李四", 570, 90),  # no schedule: beyond 8 hours
        ("2026-11-26", "周敏", 600, 120),  # no planned hours that weekday: beyond 8 hours
        ("2026-11-27", "周敏", 630, 150),  # planned until 22:00, out at 00:30
    ]
    web = signed_in(create_app(TZ, today=lambda: dt.date(2026, 11, 29)))
    rows = csv_rows(web, "from=2026-11-23&to=2026-11-29&lang=en")
    assert rows[0][5:9] == ["Hours", "Planned", "Overtime", "Late"]
    assert [(r[0], r[1], r[5], r[6], r[7], r[8]) for r in rows[1:]] == [
        ("2026-11-23", "周敏", "6:30", "09:00–17:00", "0:00", "0:30"),
        ("2026-11-25", "周敏", "8:45", "09:00–17:00", "1:15", ""),
        ("2026-11-25", "李四", "9:30", "", "1:30", ""),
        ("2026-11-26", "周敏", "10:00", "", "2:00", ""),
        ("2026-11-27", "周敏", "10:30", "14:00–22:00", "2:30", ""),
    ]
    assert [r[6] for r in csv_rows(web, "from=2026-11-25&to=2026-11-25")[1:]] == ["09:00–17:00", ""]
    page = web.get("/staff-hours?from=2026-11-23&to=2026-11-29&lang=en").text
    weeks = re.findall(r'<tr class="week" data-staff="([^"]+)">(.*?)</tr>', page, re.S)
    assert [(staff, re.findall(r">([^<>]+)</td>", row)) for staff, row in weeks] == [
        ("s-zhou", ["2026-11-23", "周敏", "35:45", "0:40", "5:45", "1 (0:30)"]),
        ("s-li", ["2026-11-23", "李四", "9:30", "0:00", "1:30", "0"]),
    ]
    rows_shown = re.findall(r'<tr class="shift" data-staff="([^"]+)"><td>([^<]+)</td>(.*?)</tr>', page, re.S)
    # each shift's figures: breaks, hours, overtime, late
    overtime = [(who, day, re.findall(r'<td class="num">(.*?)</td>', row)[2]) for who, day, row in rows_shown]
    assert overtime == [
        ("s-zhou", "2026-11-23", ""), ("s-zhou", "2026-11-25", "1:15"), ("s-li", "2026-11-25", "1:30"),
        ("s-zhou", "2026-11-26", "2:00"), ("s-zhou", "2026-11-27", "2:30"),
    ]  # fmt: skip
    rule = re.search(r'<p class="hint" id="overtime-rule">([^<]*)</p>', page)
    assert rule and rule.group(1).startswith("Overtime: on a day with planned hours, the time worked outside")
