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

NORMAL_DAY_MINUTES = 8 * 60  # beyond this a shift counts overtime
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
        """Minutes beyond a normal day (:data:`NORMAL_DAY_MINUTES`)."""
        return max(0, (self.minutes or 0) - NORMAL_DAY_MINUTES)

    @property
    def minutes(self) -> int | None:
        """Whole minutes worked (breaks left out), or None while open or when the start is missing."""
        if self.start is None or self.end is None:
            return None
        return int((self.end - self.start).total_seconds() // 60) - self.break_minutes


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
    query = StaffClock.select()
    if store:
        query = query.where(StaffClock.store == store)
    clockings = sorted(query, key=lambda c: (c.staff_id, dt.datetime.fromisoformat(c.at)))
    found: list[Shift] = []
    opened: dict[str, StaffClock] = {}
    breaks: dict[str, list[tuple[dt.datetime, dt.datetime | None]]] = {}
    for clocking in clockings:
        who = clocking.staff_id
        if clocking.direction in ("break_start", "break_end"):
            if who in opened:  # a break outside a shift has no shift to belong to: its in/out shows that
                _break(breaks.setdefault(who, []), clocking, tz)
            continue
        start = opened.pop(who, None)
        taken = tuple(breaks.pop(who, []))
        if clocking.direction == "in":
            if start is not None:  # clocked in twice: the first stays open, unpaired
                found.append(_shift(start, None, tz, taken))
            opened[who] = clocking
        else:
            end = dt.datetime.fromisoformat(clocking.at).astimezone(tz)
            found.append(_shift(start, clocking, tz, tuple((a, b or end) for a, b in taken)))
    found += [_shift(start, None, tz, tuple(breaks.get(who, []))) for who, start in opened.items()]
    if close_after_h and now is not None:
        found = [_closed_by_rule(s, close_after_h, now) for s in found]
    wanted = [s for s in found if first.isoformat() <= s.day <= last.isoformat()]
    return sorted(
        wanted, key=lambda s: (s.day, s.staff_name, (s.start or s.end or dt.datetime.min).isoformat())
    )


def _break(taken: list[tuple[dt.datetime, dt.datetime | None]], clocking: StaffClock, tz: ZoneInfo) -> None:
    at = dt.datetime.fromisoformat(clocking.at).astimezone(tz)
    if clocking.direction == "break_start":
        if not taken or taken[-1][1] is not None:  # a second start while on a break is the same break
            taken.append((at, None))
    elif taken and taken[-1][1] is None:
        taken[-1] = (taken[-1][0], at)


def _closed_by_rule(shift: Shift, hours: int, now: dt.datetime) -> Shift:
    if shift.start is None or shift.end is not None:
        return shift
    deadline = shift.start + dt.timedelta(hours=hours)
    if now < deadline:
        return shift
    taken = tuple((a, b or deadline) for a, b in shift.breaks if a < deadline)
    return replace(shift, end=deadline, auto_closed=True, breaks=taken)


def _shift(
    start: StaffClock | None,
    end: StaffClock | None,
    tz: ZoneInfo,
    breaks: tuple[tuple[dt.datetime, dt.datetime | None], ...] = (),
) -> Shift:
    begin = dt.datetime.fromisoformat(start.at).astimezone(tz) if start else None
    finish = dt.datetime.fromisoformat(end.at).astimezone(tz) if end else None
    who = start or end
    if who is None:
        raise ValueError("a shift needs a start or an end")
    devices = tuple(dict.fromkeys(c.device for c in (start, end) if c is not None))
    return Shift(who.staff_id, who.staff_name, who.day, begin, finish, devices, breaks=breaks)
