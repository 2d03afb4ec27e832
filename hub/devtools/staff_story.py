"""A week of clockings for the staff hours page: seeded through a real terminal outbox, then screenshotted.

``python -m hub.devtools.staff_story docs/screenshots`` writes ``hub-staff-zh.png`` and ``hub-staff-en.png``
(王芳 planned for 08:45 on the 24th, so late; her forgotten clock-out on the 23rd corrected with a reason)
and the correction form, ``hub-staff_correct-zh.png`` and ``hub-staff_correct-en.png``.
"""

import datetime as dt
import sys
import tempfile
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hub.db.schema import open_hub_database
from hub.devtools.serving import serving
from hub.ingest.batch import ingest_batch
from hub.staff import attendance, hours
from hub.web.app import create_app
from kiosk.devtools import browser
from kiosk.store import outbox, staff_clock
from kiosk.store.db import database as kiosk_database
from kiosk.store.db import open_database
from kiosk.store.sales import Terminal
from kiosk.sync.schema import GENESIS, batch, make_event

TZ = ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2026, 11, 24)
K01 = Terminal(store="S01", device="K01", boot="boot-1")
HUB_NOW = dt.datetime(2026, 11, 24, 14, 0, tzinfo=dt.UTC)


def at(day: int, hour: int, minute: int) -> dt.datetime:
    """A time in November 2026, in the shop's zone."""
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=TZ)


CLOCKINGS = [
    (at(23, 9, 2), "s-wang", "王芳"), (at(23, 17, 37), "s-wang", "王芳"),
    (at(24, 8, 55), "s-wang", "王芳"), (at(24, 13, 0), "s-zhao", "赵磊"), (at(24, 21, 30), "s-zhao", "赵磊"),
]  # fmt: skip
"""王芳 works 09:02–17:37 on the 23rd and is in since 08:55 on the 24th; 赵磊 13:00–21:30 on the 24th."""


def clock_at_k01() -> None:
    """Clock ``CLOCKINGS`` on terminal K01 (the kiosk database must be open)."""

    for when, staff, name in CLOCKINGS:
        staff_clock.clock(K01, when, staff, name, "pin")


def k02_out_without_in() -> dict[str, Any]:
    """李四 clocks out at K02 at 12:00 on the 24th; the in never reached the hub."""
    data = {"store": "S01", "staff_id": "s-li", "staff_name": "李四", "direction": "out", "method": "badge",
            "at": "2026-11-24T12:00:00.000+08:00"}  # fmt: skip
    ts = str(data["at"])
    return make_event(event_id="K02-clock-1", device="K02", seq=1, boot="b", ts=ts, type="staff.clock",
                      prev=GENESIS, data=data)  # fmt: skip


def ingest_all() -> None:
    """Send K01's outbox and K02's lone clock-out to the hub (both databases open); raise on a rejection."""

    for device, events in (("K01", outbox.pending()), ("K02", [k02_out_without_in()])):
        result = ingest_batch(f"pos/{device}/up/events", batch(device, events), HUB_NOW, TZ)
        if result is None or result.rejected or len(result.acked) != len(events):
            raise RuntimeError(f"the hub did not take {device}'s clockings: {result}")


def capture(out: Path) -> list[Path]:
    """Seed a throwaway terminal and hub, serve the hub, save the staff hours page in zh and en."""

    with tempfile.TemporaryDirectory(prefix="hub-staff-story-") as work:
        open_database(Path(work) / "kiosk.db")
        db = open_hub_database(f"sqlite:///{work}/hub.db")
        clock_at_k01()
        ingest_all()
        attendance.set_schedule("s-wang", 1, "08:45", "17:00", HUB_NOW, "owner")
        first = hours.shifts(TODAY - dt.timedelta(days=1), TODAY, TZ)[0]  # 王芳 on the 23rd
        out_at = first.clockings[-1].at.replace(hour=17, minute=30)
        fix = attendance.Correction("out", out_at, first.clockings[-1].event_id)
        attendance.correct("s-wang", "王芳", "S01", [fix], "下班后补打，店长确认", HUB_NOW, "owner")
        open_in = hours.shifts(TODAY, TODAY, TZ)[1].clockings[0].event_id  # 王芳 on the 24th, still open
        app = create_app(TZ, today=lambda: TODAY)
        try:
            with serving(app) as port:
                pages = [
                    (f"/staff-hours{q}", f"hub-staff-{lang}.png")
                    for lang, q in (("zh", ""), ("en", "?lang=en"))
                ]
                pages += [
                    (f"/staff-hours/correct?c={open_in}{q}", f"hub-staff_correct-{lang}.png")
                    for lang, q in (("zh", ""), ("en", "&lang=en"))
                ]
                return [
                    browser.screenshot(f"http://127.0.0.1:{port}{url}", out / name, 1280, 900)
                    for url, name in pages
                ]
        finally:
            db.close()
            kiosk_database.close()


if __name__ == "__main__":
    for path in capture(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")):
        print(path)
