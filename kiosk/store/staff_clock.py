"""Staff clocking at the terminal: in, out, start and end of a break; each one ``staff.clock`` event.

The outbox keeps every event (acked ones too), so it is also where the terminal
looks up where a person stands: their last ``staff.clock`` says whether they are
off, on shift or on a break (:func:`status`). Reading it and writing the next one
share one ``IMMEDIATE`` transaction, so two quick taps can never both clock in,
and a clocking the person's state does not allow (a break while off shift) is
refused and writes nothing (:class:`ClockRefused`).

Hours are counted offline from this terminal's own clockings: a break is not
worked time; a shift or break still open counts up to now.
"""

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from kiosk.store.connection import database
from kiosk.store.models import Outbox
from kiosk.store.outbox import record_event
from kiosk.store.sales import Terminal

Direction = Literal["in", "out", "break_start", "break_end"]
State = Literal["off", "on", "break"]

DIRECTIONS: tuple[Direction, ...] = ("in", "out", "break_start", "break_end")
#: where each clocking leaves the person
AFTER: dict[str, State] = {"in": "on", "out": "off", "break_start": "break", "break_end": "on"}
#: what a person may clock in each state (clocking out during a break ends the break too)
ALLOWED: dict[State, tuple[Direction, ...]] = {
    "off": ("in",),
    "on": ("break_start", "out"),
    "break": ("break_end", "out"),
}


class ClockRefused(ValueError):
    """A clocking the person's state does not allow (``direction`` while ``state``); nothing written."""

    def __init__(self, direction: str, state: State) -> None:
        super().__init__(f"{direction} is not possible while {state}")
        self.direction, self.state = direction, state


@dataclass(frozen=True)
class ClockEntry:
    """One clocking: who, which (``in``, ``out``, ``break_start``, ``break_end``), when, and how
    (``pin`` or ``badge``)."""

    staff_id: str
    staff_name: str
    direction: Direction
    at: dt.datetime
    method: str


@dataclass(frozen=True)
class ClockStatus:
    """Where a person stands on this terminal and their hours, in whole minutes."""

    state: State
    since: dt.datetime | None  # the clocking that started the state (None: never clocked)
    today: int  # worked today (breaks not counted)
    week: int  # worked since Monday
    break_today: int  # on a break today

    @property
    def allowed(self) -> tuple[Direction, ...]:
        """The clockings the person may make now."""
        return ALLOWED[self.state]


def _clockings(staff_id: str) -> list[tuple[str, dt.datetime]]:
    """(direction, at) of the person's clockings on this terminal, oldest first."""
    rows = Outbox.select(Outbox.body).where(Outbox.type == "staff.clock").order_by(Outbox.seq)
    found = []
    for row in rows:
        data = json.loads(row.body)["data"]
        if data["staff_id"] == staff_id:
            found.append((str(data["direction"]), dt.datetime.fromisoformat(data["at"])))
    return found


def _state(clockings: Iterable[tuple[str, dt.datetime]]) -> tuple[State, dt.datetime | None]:
    state: State = "off"
    since = None
    for direction, at in clockings:
        state, since = AFTER.get(direction, state), at
    return state, since


def last_direction(staff_id: str) -> Direction | None:
    """The person's last clocking on this terminal; None if they never clocked."""
    clockings = _clockings(staff_id)
    if not clockings:
        return None
    direction: Direction = clockings[-1][0]  # type: ignore[assignment]
    return direction


def record(
    terminal: Terminal, now: dt.datetime, staff_id: str, staff_name: str, direction: str, method: str
) -> ClockEntry:
    """Write one clocking if the person's state allows it (else :class:`ClockRefused`, nothing written)."""
    if direction not in DIRECTIONS:
        raise ValueError(f"unknown clocking {direction!r}")
    ts = now.isoformat(timespec="milliseconds")
    with database.atomic("IMMEDIATE"):
        state, _since = _state(_clockings(staff_id))
        if direction not in ALLOWED[state]:
            raise ClockRefused(direction, state)
        data = {
            "store": terminal.store,
            "staff_id": staff_id,
            "staff_name": staff_name,
            "direction": direction,
            "method": method,
            "at": ts,
        }
        record_event(terminal, ts, "staff.clock", data)
    return ClockEntry(staff_id, staff_name, direction, now, method)  # type: ignore[arg-type]


def clock(terminal: Terminal, now: dt.datetime, staff_id: str, staff_name: str, method: str) -> ClockEntry:
    """Clock ``staff_id`` in if they are off shift (or never clocked), else out (a break ends with it)."""
    with database.atomic("IMMEDIATE"):
        state, _since = _state(_clockings(staff_id))
        return record(terminal, now, staff_id, staff_name, "in" if state == "off" else "out", method)


def _intervals(
    clockings: list[tuple[str, dt.datetime]], now: dt.datetime
) -> tuple[list[tuple[dt.datetime, dt.datetime]], list[tuple[dt.datetime, dt.datetime]]]:
    """(worked, breaks): the person's intervals in ``now``'s time zone, an open one ending at ``now``."""
    worked: list[tuple[dt.datetime, dt.datetime]] = []
    breaks: list[tuple[dt.datetime, dt.datetime]] = []
    work_from: dt.datetime | None = None
    break_from: dt.datetime | None = None
    for direction, raw in clockings:
        at = raw.astimezone(now.tzinfo)
        if direction == "in":
            work_from, break_from = at, None
        elif direction == "break_start":
            if work_from is not None:
                worked.append((work_from, at))
            work_from, break_from = None, at
        elif direction == "break_end":
            if break_from is not None:
                breaks.append((break_from, at))
            work_from, break_from = at, None
        else:  # out
            if work_from is not None:
                worked.append((work_from, at))
            if break_from is not None:
                breaks.append((break_from, at))
            work_from = break_from = None
    if work_from is not None:
        worked.append((work_from, now))
    if break_from is not None:
        breaks.append((break_from, now))
    return worked, breaks


def _minutes(spans: list[tuple[dt.datetime, dt.datetime]], first: dt.date, last: dt.date) -> int:
    """Whole minutes of the spans that started between ``first`` and ``last``."""
    seconds = sum((b - a).total_seconds() for a, b in spans if first <= a.date() <= last)
    return int(seconds // 60)


def status(staff_id: str, now: dt.datetime) -> ClockStatus:
    """Where the person stands and their hours today and this week (from Monday), in ``now``'s zone."""
    clockings = _clockings(staff_id)
    state, since = _state(clockings)
    worked, breaks = _intervals(clockings, now)
    day = now.date()
    monday = day - dt.timedelta(days=day.weekday())
    return ClockStatus(
        state=state,
        since=since.astimezone(now.tzinfo) if since else None,
        today=_minutes(worked, day, day),
        week=_minutes(worked, monday, day),
        break_today=_minutes(breaks, day, day),
    )


def minutes_worked(staff_id: str, now: dt.datetime) -> tuple[int, int]:
    """(today, this week) in whole minutes worked (breaks left out), as :func:`status` counts them."""
    found = status(staff_id, now)
    return found.today, found.week
