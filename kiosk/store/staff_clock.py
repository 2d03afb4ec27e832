"""Staff clocking in and out at the terminal: each tap is one ``staff.clock`` outbox event.

The outbox keeps every event (acked ones too), so it is also where the terminal
looks up whether a person is on shift: their last ``staff.clock`` says ``in`` or
``out``. Reading it and writing the next one share one ``IMMEDIATE`` transaction,
so two quick taps can never both clock in.
"""

import datetime as dt
import json
from dataclasses import dataclass
from typing import Literal

from kiosk.store.connection import database
from kiosk.store.models import Outbox
from kiosk.store.outbox import record_event
from kiosk.store.sales import Terminal

Direction = Literal["in", "out"]


@dataclass(frozen=True)
class ClockEntry:
    """One clocking: who, ``in`` or ``out``, when, and how (``pin`` or ``badge``)."""

    staff_id: str
    staff_name: str
    direction: Direction
    at: dt.datetime
    method: str


def last_direction(staff_id: str) -> Direction | None:
    """``in`` or ``out`` from the person's last clocking on this terminal; None if they never clocked."""
    rows = Outbox.select(Outbox.body).where(Outbox.type == "staff.clock").order_by(Outbox.seq.desc())
    for row in rows:
        data = json.loads(row.body)["data"]
        if data["staff_id"] == staff_id:
            direction: Direction = data["direction"]
            return direction
    return None


def clock(terminal: Terminal, now: dt.datetime, staff_id: str, staff_name: str, method: str) -> ClockEntry:
    """Clock ``staff_id`` in if they are out (or never clocked), else out; write its event."""
    ts = now.isoformat(timespec="milliseconds")
    with database.atomic("IMMEDIATE"):
        direction: Direction = "out" if last_direction(staff_id) == "in" else "in"
        data = {
            "store": terminal.store,
            "staff_id": staff_id,
            "staff_name": staff_name,
            "direction": direction,
            "method": method,
            "at": ts,
        }
        record_event(terminal, ts, "staff.clock", data)
    return ClockEntry(staff_id, staff_name, direction, now, method)


def minutes_worked(staff_id: str, now: dt.datetime) -> tuple[int, int]:
    """(today, this week) in whole minutes from the person's clockings on this terminal, in ``now``'s
    time zone; a shift still open counts up to ``now``; the week starts on Monday."""
    rows = Outbox.select(Outbox.body).where(Outbox.type == "staff.clock").order_by(Outbox.seq)
    pairs: list[tuple[dt.datetime, dt.datetime]] = []
    start: dt.datetime | None = None
    for row in rows:
        data = json.loads(row.body)["data"]
        if data["staff_id"] != staff_id:
            continue
        at = dt.datetime.fromisoformat(data["at"]).astimezone(now.tzinfo)
        if data["direction"] == "in":
            start = at
        elif start is not None:
            pairs.append((start, at))
            start = None
    if start is not None:
        pairs.append((start, now))
    day = now.date()
    monday = day - dt.timedelta(days=day.weekday())
    today = sum(int((b - a).total_seconds() // 60) for a, b in pairs if a.date() == day)
    week = sum(int((b - a).total_seconds() // 60) for a, b in pairs if monday <= a.date() <= day)
    return today, week
