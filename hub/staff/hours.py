"""Staff hours: ``staff.clock`` events booked as clockings, paired into shifts per person per day.

A shift starts at an ``in`` and ends at the person's next ``out`` (on any
terminal of the store); it belongs to the day it started, in the shop's time
zone. The ``break_start`` / ``break_end`` clockings in between are its breaks,
which are not worked time (an ``out`` during a break ends the break too). An
``in`` with no ``out`` yet is an open shift; an ``out`` with no ``in`` before it
is shown as a shift whose start is missing, so a forgotten clock-in is visible
rather than silently dropped.
"""

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo

from peewee import CharField

from hub.errors import Rejected
from hub.ingest.models import BaseModel
from hub.staff import attendance

NORMAL_DAY_MINUTES = 8 * 60  # beyond this a shift counts overtime, on a day with no planned hours
DIRECTIONS = ("in", "out", "break_start", "break_end")


class StaffClock(BaseModel):
    """One clocking from a terminal (the ``staff.clock`` event)."""

    event_id = CharField(primary_key=True)
    device = CharField()
    store = CharField()
    staff_id = CharField(index=True)
    staff_name = CharField()
    direction = CharField()  # in / out / break_start / break_end
    method = CharField()  # pin / badge
    at = CharField()  # the terminal's ISO timestamp, with offset
    day = CharField(index=True)  # YYYY-MM-DD in the shop's time zone


MODELS = [StaffClock]


def on_staff_clock(event: dict[str, Any], tz: ZoneInfo) -> None:
    """Book a ``staff.clock`` event; data that cannot be read is rejected with the reason."""
    data = event["data"]
    try:
        at = dt.datetime.fromisoformat(str(data.get("at") or event["ts"]))
        direction = str(data["direction"])
        row = {
            "event_id": event["id"], "device": event["device"], "store": str(data["store"]),
            "staff_id": str(data["staff_id"]), "staff_name": str(data.get("staff_name") or data["staff_id"]),
            "direction": direction, "method": str(data.get("method", "")), "at": at.isoformat(),
            "day": at.astimezone(tz).date().isoformat(),
        }  # fmt: skip
    except (KeyError, TypeError, ValueError) as exc:
        raise _rejected(f"staff.clock data is incomplete: {exc!r}") from exc
    if direction not in DIRECTIONS or at.tzinfo is None:
        raise _rejected(
            f"staff.clock needs direction in/out/break_start/break_end and a time with its offset: {data!r}"
        )
    StaffClock.insert(**row).execute()


def _rejected(reason: str) -> Exception:

    return Rejected(reason)


@dataclass(frozen=True)
class Clocking:
    """A clocking as the hours read it: the terminal's, with a correction's time if it has one,
    or one added at the hub (``device`` ``hub``)."""

    event_id: str
    device: str
    store: str
    staff_id: str
    staff_name: str
    direction: str
    at: dt.datetime  # in the shop's zone
    corrected: bool = False


@dataclass(frozen=True)
class Shift:
    """One person's shift: start and end in the shop's time (None: missing / still open)."""

    staff_id: str
    staff_name: str
    day: str
    start: dt.datetime | None
    end: dt.datetime | None
    devices: tuple[str, ...]
    auto_closed: bool = False  # a forgotten clock-out, closed by the owner's rule: flagged, never silent
    breaks: tuple[tuple[dt.datetime, dt.datetime | None], ...] = ()  # (start, end or None: on a break)
    clockings: tuple[Clocking, ...] = ()  # what it is made of, in time order
    store: str = ""

    @property
    def corrected(self) -> bool:
        """A time in it was corrected, or a clocking added, at the hub."""
        return any(c.corrected for c in self.clockings)

    @property
    def break_minutes(self) -> int:
        """Whole minutes of the finished breaks (a break still running counts once it ends)."""
        seconds = sum((end - start).total_seconds() for start, end in self.breaks if end is not None)
        return int(seconds // 60)

    @property
    def open(self) -> bool:
        """Clocked in, not out yet."""
        return self.start is not None and self.end is None

    @property
    def overtime_minutes(self) -> int:
        """Minutes beyond a normal day (:data:`NORMAL_DAY_MINUTES`): the overtime on a day with no
        planned hours (:func:`overtime` against the schedule)."""
        return max(0, (self.minutes or 0) - NORMAL_DAY_MINUTES)

    @property
    def minutes(self) -> int | None:
        """Whole minutes worked (breaks left out), or None while open or when the start is missing."""
        if self.start is None or self.end is None:
            return None
        return int((self.end - self.start).total_seconds() // 60) - self.break_minutes


Spans = tuple[tuple[dt.datetime, dt.datetime | None], ...]
Plan = dict[int, tuple[str, str]]  # one person's schedule: weekday (0 Monday) → (start, end) HH:MM


def overtime(shift: Shift, plan: Plan | None, tz: ZoneInfo) -> int:
    """Whole minutes of ``shift`` beyond the person's schedule.

    On a weekday the person has planned hours for: the minutes worked outside them (before the
    planned start or after the planned end; breaks are not worked). On any other day, or for
    someone with no schedule: beyond a normal day (:data:`NORMAL_DAY_MINUTES`), because a
    schedule is optional and may cover only some days. An open shift, or one without its start,
    has none yet.
    """
    planned = (plan or {}).get(dt.date.fromisoformat(shift.day).weekday())
    if planned is None:
        return shift.overtime_minutes
    if shift.start is None or shift.end is None:
        return 0
    opens = attendance.local_time(shift.day, planned[0], tz)
    window = (opens, attendance.local_time(shift.day, planned[1], tz, not_before=opens))
    worked = _worked(shift.start, shift.end, shift.breaks)
    outside = sum((b - a).total_seconds() - _overlap((a, b), window) for a, b in worked)
    return int(outside // 60)


def _worked(start: dt.datetime, end: dt.datetime, breaks: Spans) -> list[tuple[dt.datetime, dt.datetime]]:
    """The shift's worked spans: from start to end with its breaks cut out."""
    spans, at = [], start
    for pause, back in sorted(breaks):
        if back is None or pause >= end:
            continue
        if pause > at:
            spans.append((at, pause))
        at = max(at, back)
    if end > at:
        spans.append((at, end))
    return spans


def _overlap(span: tuple[dt.datetime, dt.datetime], window: tuple[dt.datetime, dt.datetime]) -> float:
    """Seconds two spans share."""
    return max(0.0, (min(span[1], window[1]) - max(span[0], window[0])).total_seconds())


def clockings(tz: ZoneInfo, store: str | None = None) -> list[Clocking]:
    """Every clocking with the corrections in force, by person and time."""
    latest, added = attendance.corrections_in_force()
    query = StaffClock.select()
    if store:
        query = query.where(StaffClock.store == store)
    found = []
    for row in query:
        fix = latest.get(row.event_id)
        at = dt.datetime.fromisoformat(fix.at if fix else row.at).astimezone(tz)
        found.append(
            Clocking(row.event_id, row.device, row.store, row.staff_id, row.staff_name, row.direction, at,
                     fix is not None)
        )  # fmt: skip
    for row in added:
        if store and row.store != store:
            continue
        fix = latest.get(row.id)  # an added clocking corrected again
        at = dt.datetime.fromisoformat(fix.at if fix else row.at).astimezone(tz)
        added_here = Clocking(row.id, "hub", row.store, row.staff_id, row.staff_name, row.direction, at, True)
        found.append(added_here)
    return sorted(found, key=lambda c: (c.staff_id, c.at))


def shifts(
    first: dt.date,
    last: dt.date,
    tz: ZoneInfo,
    store: str | None = None,
    close_after_h: int | None = None,
    now: dt.datetime | None = None,
) -> list[Shift]:
    """Shifts that started (or, without a start, ended) between ``first`` and ``last``, by day and name.

    ``close_after_h`` is the owner's rule for a forgotten clock-out: a shift still open that
    many hours after it started (at ``now``) ends then, flagged ``auto_closed``.
    """
    found: list[Shift] = []
    opened: dict[str, list[Clocking]] = {}  # person → the open shift's clockings so far
    for clocking in clockings(tz, store):
        who = clocking.staff_id
        if clocking.direction in ("break_start", "break_end"):
            if who in opened:  # a break outside a shift has no shift to belong to: its in/out shows that
                opened[who].append(clocking)
            continue
        parts = opened.pop(who, None)
        if clocking.direction == "in":
            if parts is not None:  # clocked in twice: the first stays open, unpaired
                found.append(_shift(parts, tz))
            opened[who] = [clocking]
        else:
            found.append(_shift([*(parts or []), clocking], tz))
    found += [_shift(parts, tz) for parts in opened.values()]
    if close_after_h and now is not None:
        found = [_closed_by_rule(s, close_after_h, now) for s in found]
    wanted = [s for s in found if first.isoformat() <= s.day <= last.isoformat()]
    return sorted(
        wanted, key=lambda s: (s.day, s.staff_name, (s.start or s.end or dt.datetime.min).isoformat())
    )


def _breaks(parts: list[Clocking], end: dt.datetime | None) -> Spans:
    taken: list[tuple[dt.datetime, dt.datetime | None]] = []
    for clocking in parts:
        if clocking.direction == "break_start":
            if not taken or taken[-1][1] is not None:  # a second start while on a break is the same break
                taken.append((clocking.at, None))
        elif clocking.direction == "break_end" and taken and taken[-1][1] is None:
            taken[-1] = (taken[-1][0], clocking.at)
    return tuple((a, b or end) for a, b in taken)


def _closed_by_rule(shift: Shift, hours: int, now: dt.datetime) -> Shift:
    if shift.start is None or shift.end is not None:
        return shift
    deadline = shift.start + dt.timedelta(hours=hours)
    if now < deadline:
        return shift
    taken = tuple((a, b or deadline) for a, b in shift.breaks if a < deadline)
    return replace(shift, end=deadline, auto_closed=True, breaks=taken)


def _shift(parts: list[Clocking], tz: ZoneInfo) -> Shift:
    """A shift from its clockings: an ``in`` first (or none: start missing), an ``out`` last (or none)."""
    start = parts[0] if parts[0].direction == "in" else None
    end = parts[-1] if parts[-1].direction == "out" else None
    who = start or end or parts[0]
    begin, finish = (start.at if start else None), (end.at if end else None)
    day = (begin or finish or who.at).astimezone(tz).date().isoformat()
    devices = tuple(dict.fromkeys(c.device for c in (start, end) if c is not None))
    return Shift(who.staff_id, who.staff_name, day, begin, finish, devices,
                 breaks=_breaks(parts, finish), clockings=tuple(parts), store=who.store)  # fmt: skip
