"""Schedules and corrections: what the owner adds to the terminals' clockings at the hub.

**Schedules** (optional, per person): a planned start and end for each weekday. A shift
that starts after the planned start of its day is late by the minutes between them.

**Corrections**: an owner or a store manager changes the time of a clocking (a clock-in,
a clock-out, a break's start or end), or adds one that is missing (a forgotten clock-out),
always with a reason. The clockings the terminals sent are never changed: a correction is a
row of its own, the hours read the corrected time and mark the shift as corrected, and
each correction goes into the owner's audit chain in the same transaction.
"""

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from peewee import CharField, IntegerField, TextField

from hub.accounts import audit
from hub.db import database
from hub.ingest.models import BaseModel
from kiosk.domain.staff import StaffError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
REASON_MAX = 200
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class StaffSchedule(BaseModel):
    """One person's planned hours on one weekday."""

    id = CharField(primary_key=True)  # "{staff_id}:{weekday}"
    staff_id = CharField(index=True)
    weekday = IntegerField()  # 0 Monday … 6 Sunday
    start = CharField()  # HH:MM, the shop's time
    end = CharField()

    class Meta:
        table_name = "staff_schedule"


class ClockCorrection(BaseModel):
    """A clocking's corrected time (``event_id`` set), or a clocking added at the hub (``event_id`` null)."""

    id = CharField(primary_key=True)
    event_id = CharField(null=True, index=True)  # the terminal's staff.clock event corrected
    staff_id = CharField(index=True)
    staff_name = CharField()
    store = CharField()
    direction = CharField()  # in / out / break_start / break_end
    at = CharField()  # the corrected time, ISO with offset
    reason = TextField()
    by = CharField()  # the signed-in account
    made_at = CharField()

    class Meta:
        table_name = "staff_clock_correction"


MODELS = [StaffSchedule, ClockCorrection]


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def check_time(text: str) -> str:
    """``09:05`` as typed (HH:MM, 24 h); StaffError (zh, en) otherwise."""
    value = text.strip()
    if not _TIME.match(value):
        raise StaffError(
            f"时间 “{value[:20]}” 无效，请写成 09:05。",
            f"Time {value[:20]!r} is not valid: write it as 09:05.",
        )
    return value


def set_schedule(staff_id: str, weekday: int, start: str, end: str, now: dt.datetime, by: str) -> None:
    """Plan ``staff_id``'s hours on ``weekday`` (0 Monday); both empty clears the day. Audited."""
    if not 0 <= weekday <= 6:
        raise StaffError("请选择星期几。", "Choose a day of the week.")
    if not start.strip() and not end.strip():
        with database.atomic():
            StaffSchedule.delete().where(StaffSchedule.id == f"{staff_id}:{weekday}").execute()
            audit.record(by, "staff_schedule", staff_id, now, weekday=WEEKDAYS[weekday], start="", end="")
        return
    start, end = check_time(start), check_time(end)
    if _minutes(end) <= _minutes(start):
        raise StaffError("下班时间要晚于上班时间。", "The planned end must be after the start.")
    with database.atomic():
        StaffSchedule.insert(
            id=f"{staff_id}:{weekday}", staff_id=staff_id, weekday=weekday, start=start, end=end
        ).on_conflict(
            conflict_target=[StaffSchedule.id], update={StaffSchedule.start: start, StaffSchedule.end: end}
        ).execute()
        audit.record(by, "staff_schedule", staff_id, now, weekday=WEEKDAYS[weekday], start=start, end=end)


def schedules() -> dict[str, dict[int, tuple[str, str]]]:
    """Every plan: staff id → weekday → (start, end)."""
    plans: dict[str, dict[int, tuple[str, str]]] = {}
    for row in StaffSchedule.select():
        plans.setdefault(row.staff_id, {})[row.weekday] = (row.start, row.end)
    return plans


def late_minutes(start: dt.datetime | None, planned: tuple[str, str] | None) -> int:
    """Minutes a shift that began at ``start`` began after the planned start (0: on time or no plan)."""
    if start is None or planned is None:
        return 0
    began = start.hour * 60 + start.minute
    return max(0, began - _minutes(planned[0]))


def check_reason(reason: str) -> str:
    """A correction's reason: required, at most :data:`REASON_MAX` characters."""
    text = " ".join(reason.split())
    if not text:
        raise StaffError("更正必须填写原因。", "A correction needs a reason.")
    if len(text) > REASON_MAX:
        raise StaffError(
            f"原因最多 {REASON_MAX} 个字。", f"The reason can be at most {REASON_MAX} characters."
        )
    return text


@dataclass(frozen=True)
class Correction:
    """What to change: the clocking ``event_id``'s time, or (``event_id`` None) a clocking to add."""

    direction: str
    at: dt.datetime
    event_id: str | None = None


def correct(
    staff_id: str,
    staff_name: str,
    store: str,
    changes: list[Correction],
    reason: str,
    now: dt.datetime,
    by: str,
) -> int:
    """Write the corrections of one shift with their reason, each in the audit chain; how many."""
    text = check_reason(reason)
    if not changes:
        raise StaffError("没有要更正的时间。", "No time was changed.")
    with database.atomic():
        for change in changes:
            if change.at.tzinfo is None:
                raise ValueError("a corrected time needs its offset")
            row_id = str(uuid.uuid4())
            ClockCorrection.insert(
                id=row_id, event_id=change.event_id, staff_id=staff_id, staff_name=staff_name, store=store,
                direction=change.direction, at=change.at.isoformat(), reason=text, by=by,
                made_at=now.isoformat(),
            ).execute()  # fmt: skip
            audit.record(
                by, "staff_clock_correct", staff_id, now, correction=row_id, clocking=change.event_id,
                direction=change.direction, at=change.at.isoformat(), reason=text, store=store,
            )  # fmt: skip
    return len(changes)


def corrections_in_force() -> tuple[dict[str, ClockCorrection], list[ClockCorrection]]:
    """(the newest correction of each corrected clocking by event id, the clockings added at the hub)."""
    latest: dict[str, ClockCorrection] = {}
    added: list[ClockCorrection] = []
    for row in ClockCorrection.select().order_by(ClockCorrection.made_at, ClockCorrection.id):
        if row.event_id is None:
            added.append(row)
        else:
            latest[row.event_id] = row
    return latest, added


def local_time(day: str, hhmm: str, tz: ZoneInfo, not_before: dt.datetime | None = None) -> dt.datetime:
    """``day`` at ``hhmm`` in the shop's zone; the next day when that is before ``not_before``
    (a clock-out after midnight)."""
    at = dt.datetime.combine(dt.date.fromisoformat(day), dt.time.fromisoformat(check_time(hhmm)), tz)
    if not_before is not None and at < not_before:
        at += dt.timedelta(days=1)
    return at
