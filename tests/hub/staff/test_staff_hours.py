"""Staff hours at the hub: staff.clock events from a real terminal outbox, booked and paired into shifts.

Runs on SQLite and PostgreSQL (the ``hub_db`` fixture), like the other hub tests.
"""

import datetime as dt
import re
from pathlib import Path

from PIL import Image

from hub.devtools.staff_story import TODAY, TZ, capture, clock_at_k01, ingest_all
from hub.staff import hours as staff_hours
from hub.web.app import create_app


def test_clockings_pair_into_shifts_per_person_per_day(kiosk_db, hub_db) -> None:  # type: ignore[no-untyped-def]
    clock_at_k01()
    ingest_all()
    assert staff_hours.StaffClock.select().count() == 6
    found = staff_hours.shifts(dt.date(2026, 11, 23), TODAY, TZ)
    assert [
        (s.day, s.staff_name, s.start and s.start.strftime("%H:%M"), s.end and s.end.strftime("%H:%M"),
         s.minutes, s.open, s.devices)
        for s in found
    ] == [
        ("2026-11-23", "王芳", "09:02", "17:37", 515, False, ("K01",)),
        ("2026-11-24", "李四", None, "12:00", None, False, ("K02",)),
        ("2026-11-24", "王芳", "08:55", None, None, True, ("K01",)),
        ("2026-11-24", "赵磊", "13:00", "21:30", 510, False, ("K01",)),
    ]  # fmt: skip
    assert [s.staff_name for s in staff_hours.shifts(TODAY, TODAY, TZ)] == ["李四", "王芳", "赵磊"]


def test_a_duplicate_delivery_books_each_clocking_once(kiosk_db, hub_db) -> None:  # type: ignore[no-untyped-def]
    clock_at_k01()
    ingest_all()
    ingest_all()
    assert staff_hours.StaffClock.select().count() == 6


def shift_rows(html: str) -> list[str]:
    found = re.findall(r'<tr class="shift"[^>]*>(.*?)</tr>', html, re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in found]


def test_the_staff_hours_page_shows_in_out_hours_and_open_shifts(  # type: ignore[no-untyped-def]
    kiosk_db, hub_db, tmp_path: Path, signed_in
) -> None:
    clock_at_k01()
    ingest_all()
    client = signed_in(create_app(TZ, today=lambda: TODAY))
    zh = client.get("/staff-hours")
    assert zh.status_code == 200 and "员工工时 · 2026-11-18 – 2026-11-24" in zh.text
    assert shift_rows(zh.text) == [
        "2026-11-23 王芳 09:02 17:37 8:35 0:35 K01 更正",
        "2026-11-24 李四 缺上班打卡 12:00 K02 更正",
        "2026-11-24 王芳 08:55 仍在班 K01 更正",
        "2026-11-24 赵磊 13:00 21:30 8:30 0:30 K01 更正",
    ]  # the owner may correct each; no schedules: overtime beyond 8 hours
    people = re.findall(r'<tr data-staff="([^"]+)"><td>([^<]*)</td><td class="num">([^<]*)</td>', zh.text)
    assert people == [("s-li", "李四", "0:00"), ("s-wang", "王芳", "8:35"), ("s-zhao", "赵磊", "8:30")]
    assert '<a href="/staff-hours">员工工时</a>' in zh.text
    en = client.get("/staff-hours?from=2026-11-24&to=2026-11-24&lang=en").text
    assert shift_rows(en) == [
        "2026-11-24 李四 no clock-in 12:00 K02 Correct",
        "2026-11-24 王芳 08:55 open K01 Correct",
        "2026-11-24 赵磊 13:00 21:30 8:30 0:30 K01 Correct",
    ]
    assert '<a href="/staff-hours?lang=en">Staff hours</a>' in en
    bad = client.get("/staff-hours?from=2026-11-25&to=2026-11-24")
    assert bad.status_code == 400 and "开始日期晚于结束日期" in bad.text
    empty = client.get("/staff-hours?from=2026-11-01&to=2026-11-02&lang=en").text
    assert "No clockings in this period." in empty


def test_the_page_in_headless_chromium(tmp_path: Path) -> None:
    shots = capture(tmp_path)
    names = ["hub-staff-zh.png", "hub-staff-en.png", "hub-staff_correct-zh.png", "hub-staff_correct-en.png"]
    assert [p.name for p in shots] == names
    for shot in shots:
        with Image.open(shot) as image:
            assert image.size == (1280, 900)
            assert image.getpixel((10, 10))[:3] == (255, 255, 255)  # header
            assert image.getpixel((1270, 890))[:3] == (245, 247, 250)  # page background
