"""Schedules, late arrivals and corrections at the hub, on real clockings from a terminal outbox
(SQLite and PostgreSQL): a correction needs a reason, lands in the owner's audit chain, and the
hours show the corrected figures, marked; a manager corrects only their own stores' shifts."""

import csv
import datetime as dt
import io
import re

from click.testing import CliRunner

from hub.accounts import audit
from hub.cli import main as hub_main
from hub.devtools.staff_story import K01, TODAY, TZ, at, clock_at_k01, ingest_all
from hub.ingest.batch import ingest_batch
from hub.staff import accounts, attendance
from hub.staff import hours as staff_hours
from hub.web.app import create_app
from kiosk.store import outbox, staff_clock
from kiosk.sync.schema import batch

NOW = dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.UTC)


def wang(day: str) -> staff_hours.Shift:
    (shift,) = [s for s in staff_hours.shifts(TODAY - dt.timedelta(days=1), TODAY, TZ) if s.day == day
                and s.staff_name == "王芳"]  # fmt: skip
    return shift


def csv_rows(web, query: str) -> list[list[str]]:  # type: ignore[no-untyped-def]
    answer = web.get(f"/staff-hours.csv?{query}")
    assert answer.status_code == 200
    return list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))


def test_a_correction_needs_a_reason_is_audited_and_the_hours_show_it_marked(kiosk_db, signed_in) -> None:  # type: ignore[no-untyped-def]
    clock_at_k01()
    ingest_all()
    open_shift = wang("2026-11-24")
    (clock_in,) = open_shift.clockings
    assert (open_shift.open, open_shift.corrected) == (True, False)
    app = create_app(TZ, today=lambda: TODAY)
    web = signed_in(app, "manager", stores="S01")
    form = web.get(f"/staff-hours/correct?c={clock_in.event_id}")
    assert form.status_code == 200
    assert 'name="add_out"' in form.text and f'name="t_{clock_in.event_id}" ' in form.text
    assert 'value="08:55"' in form.text

    # no reason: refused in the page's language, nothing written
    refused = web.post("/staff-hours/correct?lang=en", data={"c": clock_in.event_id, "add_out": "17:30"})
    assert refused.status_code == 400 and "A correction needs a reason." in refused.text
    assert attendance.ClockCorrection.select().count() == 0

    saved = web.post(
        "/staff-hours/correct",
        data={"c": clock_in.event_id, "add_out": "17:30", f"t_{clock_in.event_id}": "09:00",
              "reason": "  忘记下班打卡，店长确认 "},
        follow_redirects=False,
    )  # fmt: skip
    assert saved.status_code == 303
    assert saved.headers["location"] == "/staff-hours?from=2026-11-24&to=2026-11-24&corrected=1"
    fixed = wang("2026-11-24")
    assert (fixed.start.strftime("%H:%M"), fixed.end.strftime("%H:%M")) == ("09:00", "17:30")  # type: ignore[union-attr]
    assert (fixed.minutes, fixed.corrected, fixed.open, fixed.devices) == (510, True, False, ("K01", "hub"))
    trail = [row for row in audit.trail("s-wang") if row["action"] == "staff_clock_correct"]
    details = [(row["by"], row["detail"]) for row in trail]
    seen = [(by, detail["direction"], detail["at"], detail["reason"]) for by, detail in details]
    assert seen == [
        ("manager-S01", "in", "2026-11-24T09:00:00+08:00", "忘记下班打卡，店长确认"),
        ("manager-S01", "out", "2026-11-24T17:30:00+08:00", "忘记下班打卡，店长确认"),
    ]  # fmt: skip
    assert trail[0]["detail"]["clocking"] == clock_in.event_id and trail[1]["detail"]["clocking"] is None
    assert audit.verify()[1] == []  # the chain still links
    # the terminal's own clocking is as it came
    assert staff_hours.StaffClock.get_by_id(clock_in.event_id).at == "2026-11-24T08:55:00+08:00"

    rows = csv_rows(web, "from=2026-11-24&to=2026-11-24&lang=en")
    assert rows[0] == ["Day", "Staff", "In", "Out", "Breaks", "Hours", "Planned", "Overtime", "Late", "Check",
                       "Corrected",
                       "Terminals"]  # fmt: skip
    assert [
        "2026-11-24",
        "王芳",
        "09:00",
        "17:30",
        "0:00",
        "8:30",
        "",
        "0:30",
        "",
        "",
        "corrected",
        "K01 hub",
    ] in rows
    page = web.get("/staff-hours?from=2026-11-24&to=2026-11-24&corrected=1").text
    assert 'id="corrected-ok"' in page and '<span class="fixed">已更正</span>' in page

    # correcting the corrected: the newest correction is in force
    fields = {"c": clock_in.event_id, f"t_{clock_in.event_id}": "08:50", "reason": "看监控为 08:50"}
    again = web.post("/staff-hours/correct", data=fields, follow_redirects=False)
    assert again.status_code == 303 and wang("2026-11-24").start.strftime("%H:%M") == "08:50"  # type: ignore[union-attr]


def test_a_manager_corrects_only_their_stores_and_the_accountant_not_at_all(kiosk_db, signed_in) -> None:  # type: ignore[no-untyped-def]
    clock_at_k01()
    ingest_all()
    (clock_in,) = wang("2026-11-24").clockings
    app = create_app(TZ, today=lambda: TODAY)
    other = signed_in(app, "manager", stores="S02")
    assert other.get(f"/staff-hours/correct?c={clock_in.event_id}").status_code == 404
    posted = other.post(
        "/staff-hours/correct", data={"c": clock_in.event_id, "add_out": "18:00", "reason": "x"}
    )
    assert posted.status_code == 404
    accountant = signed_in(app, "accountant")
    assert accountant.get(f"/staff-hours/correct?c={clock_in.event_id}").status_code == 403
    assert signed_in(app).get("/staff-hours/correct?c=nope").status_code == 404
    assert attendance.ClockCorrection.select().count() == 0


def test_schedules_make_late_arrivals_and_the_week_adds_up(kiosk_db, signed_in) -> None:  # type: ignore[no-untyped-def]
    clock_at_k01()
    ingest_all()
    attendance.set_schedule("s-wang", 0, "09:00", "17:30", NOW, "owner")  # Monday: in at 09:02
    attendance.set_schedule("s-wang", 1, "08:45", "17:00", NOW, "owner")  # Tuesday: in at 08:55
    attendance.set_schedule("s-zhao", 1, "13:00", "21:30", NOW, "owner")  # on time
    app = create_app(TZ, today=lambda: TODAY)
    web = signed_in(app)
    rows = csv_rows(web, "from=2026-11-23&to=2026-11-24&lang=en")
    assert [(r[0], r[1], r[8]) for r in rows[1:]] == [
        ("2026-11-23", "王芳", "0:02"), ("2026-11-24", "李四", ""), ("2026-11-24", "王芳", "0:10"),
        ("2026-11-24", "赵磊", ""),
    ]  # fmt: skip
    page = web.get("/staff-hours?from=2026-11-23&to=2026-11-24&lang=en").text
    weeks = re.findall(r'<tr class="week" data-staff="([^"]+)">(.*?)</tr>', page, re.S)
    assert [(staff, re.findall(r">([^<>]+)</td>", row)) for staff, row in weeks] == [
        ("s-li", ["2026-11-23", "李四", "0:00", "0:00", "0:00", "0"]),
        # against the schedule: 王芳 left at 17:37, planned 17:30; 赵磊 worked exactly his plan
        ("s-wang", ["2026-11-23", "王芳", "8:35", "0:00", "0:07", "2 (0:12)"]),
        ("s-zhao", ["2026-11-23", "赵磊", "8:30", "0:00", "0:00", "0"]),
    ]

    # planning through the page: an account of the manager's store; a bad time is refused, a clear empties
    person = accounts.add_staff("周敏", "attendant", ["S01"], "1357", NOW, by="owner")
    manager = signed_in(app, "manager", stores="S01")
    friday = {"staff": person.id, "weekday": "4", "start": "10:00", "end": "18:00"}
    planned = manager.post("/staff-hours/schedule", data=friday, follow_redirects=False)
    assert (planned.status_code, planned.headers["location"]) == (303, "/staff-hours?planned=1#schedules")
    assert attendance.schedules()[person.id] == {4: ("10:00", "18:00")}
    backwards = {**friday, "start": "18:00", "end": "10:00"}
    bad = manager.post("/staff-hours/schedule?lang=en", data=backwards, follow_redirects=False)
    assert "The%20planned%20end%20must%20be%20after%20the%20start." in bad.headers["location"]
    plans = manager.get("/staff-hours").text
    row = re.search(rf'<tr class="plan" data-staff="{person.id}">(.*?)</tr>', plans, re.S)
    assert row and re.findall(r"<td>([^<]*)</td>", row.group(1)) == [
        "周敏",
        "—",
        "—",
        "—",
        "—",
        "10:00–18:00",
        "—",
        "—",
    ]
    other = signed_in(app, "manager", stores="S02")
    assert other.post("/staff-hours/schedule", data={"staff": person.id, "weekday": "1", "start": "09:00",
                                                      "end": "17:00"}).status_code == 404  # fmt: skip
    cleared = manager.post(
        "/staff-hours/schedule", data={"staff": person.id, "weekday": "4", "start": "", "end": ""}
    )
    assert cleared.status_code == 200 and person.id not in attendance.schedules()
    actions = [(r["action"], r["detail"]) for r in audit.trail(person.id) if r["action"] == "staff_schedule"]
    assert actions == [
        ("staff_schedule", {"weekday": "fri", "start": "10:00", "end": "18:00"}),
        ("staff_schedule", {"weekday": "fri", "start": "", "end": ""}),
    ]


def test_breaks_and_an_open_break_at_the_forgotten_clock_out_rule(kiosk_db, hub_db) -> None:  # type: ignore[no-untyped-def]
    steps = ((at(25, 9, 0), "in"), (at(25, 12, 0), "break_start"), (at(25, 12, 40), "break_end"),
             (at(25, 15, 0), "break_start"))  # fmt: skip
    for when, direction in steps:
        staff_clock.record(K01, when, "s-wang", "王芳", direction, "badge")
    result = ingest_batch("pos/K01/up/events", batch("K01", outbox.pending()), NOW, TZ)
    assert result is not None and result.rejected == []
    day = dt.date(2026, 11, 25)
    (running,) = staff_hours.shifts(day, day, TZ)
    assert (running.open, running.break_minutes, len(running.breaks)) == (True, 40, 2)
    (closed,) = staff_hours.shifts(day, day, TZ, close_after_h=8, now=at(26, 9, 0))
    # the rule ends the shift at 17:00; the break still running ends there too
    assert (closed.auto_closed, closed.end, closed.break_minutes, closed.minutes) == (
        True,
        at(25, 17, 0),
        160,
        320,
    )


def test_hub_staff_schedule_plans_shows_and_clears_a_day(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = ["--db", f"sqlite:///{tmp_path / 'hub.db'}"]
    run = CliRunner().invoke
    planned = run(
        hub_main, ["staff", "schedule", "st-1", "--day", "tue", "--start", "08:45", "--end", "17:00", *db]
    )
    assert planned.exit_code == 0, planned.output
    week = ["mon  -", "tue  08:45-17:00", "wed  -", "thu  -", "fri  -", "sat  -", "sun  -"]
    assert planned.output.splitlines() == week
    bad = run(
        hub_main, ["staff", "schedule", "st-1", "--day", "wed", "--start", "9:5", "--end", "17:00", *db]
    )
    assert bad.exit_code == 1 and "请写成 09:05" in bad.output and "write it as 09:05" in bad.output
    cleared = run(hub_main, ["staff", "schedule", "st-1", "--day", "tue", *db])
    assert cleared.exit_code == 0 and "tue  -" in cleared.output.splitlines()
    assert audit.trail("st-1")[-1]["detail"] == {"weekday": "tue", "start": "", "end": ""}
