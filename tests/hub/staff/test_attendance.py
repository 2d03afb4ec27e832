"""Attendance at the hub: the forgotten clock-out rule (closed and flagged, audited when the owner
changes it), overtime, and the hours as CSV; real clockings from a terminal outbox, SQLite and PostgreSQL."""

import csv
import datetime as dt
import io

import pytest

from hub.accounts import audit
from hub.devtools.staff_story import TODAY, TZ, clock_at_k01, ingest_all
from hub.staff import accounts
from hub.staff import hours as staff_hours
from hub.web.app import create_app
from kiosk.domain.staff import StaffError


def test_a_forgotten_clock_out_is_closed_by_the_owners_rule_and_flagged(kiosk_db, hub_db) -> None:  # type: ignore[no-untyped-def]
    clock_at_k01()
    ingest_all()
    first = dt.date(2026, 11, 23)
    later = dt.datetime(2026, 11, 25, 10, 0, tzinfo=TZ)
    rule = accounts.close_after_hours()
    found = staff_hours.shifts(first, TODAY, TZ, close_after_h=rule, now=later)
    wang = next(s for s in found if s.staff_name == "王芳" and s.day == "2026-11-24")
    assert (rule, wang.end and wang.end.strftime("%H:%M"), wang.auto_closed) == (12, "20:55", True)
    assert (wang.minutes, wang.overtime_minutes) == (720, 240)
    early = staff_hours.shifts(
        first, TODAY, TZ, close_after_h=12, now=dt.datetime(2026, 11, 24, 12, tzinfo=TZ)
    )
    assert [s.open for s in early if s.staff_name == "王芳" and s.day == "2026-11-24"] == [True]  # not yet
    assert [s.overtime_minutes for s in found if s.day == "2026-11-23"] == [35]  # 8:35 worked

    with pytest.raises(StaffError, match="between 1 and 24"):
        accounts.set_close_after_hours(25, later, "owner")
    accounts.set_close_after_hours(10, later, "owner")
    assert accounts.close_after_hours() == 10
    assert audit.trail("roles")[-1]["detail"] == {"hours": 10}
    ten = staff_hours.shifts(first, TODAY, TZ, close_after_h=10, now=later)
    assert [s.end.strftime("%H:%M") for s in ten if s.auto_closed] == ["18:55"]  # type: ignore[union-attr]


def test_the_hours_as_csv_with_overtime_and_what_to_check(kiosk_db, signed_in) -> None:  # type: ignore[no-untyped-def]
    clock_at_k01()
    ingest_all()
    web = signed_in(create_app(TZ, today=lambda: TODAY))
    answer = web.get("/staff-hours.csv?from=2026-11-23&to=2026-11-24&lang=en")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "Day", "Staff", "In", "Out", "Breaks", "Hours", "Planned", "Overtime", "Late", "Check", "Corrected",
        "Terminals",
    ]  # fmt: skip
    assert rows[1:] == [  # nobody has a schedule: overtime is beyond 8 hours a shift
        ["2026-11-23", "王芳", "09:02", "17:37", "0:00", "8:35", "", "0:35", "", "", "", "K01"],
        ["2026-11-24", "李四", "", "12:00", "0:00", "", "", "0:00", "", "no clock-in", "", "K02"],
        ["2026-11-24", "王芳", "08:55", "", "0:00", "", "", "0:00", "", "open", "", "K01"],
        ["2026-11-24", "赵磊", "13:00", "21:30", "0:00", "8:30", "", "0:30", "", "", "", "K01"],
    ]
    page = web.get("/staff-hours?from=2026-11-23&to=2026-11-24").text
    assert 'href="/staff-hours.csv?from=2026-11-23&amp;to=2026-11-24"' in page
