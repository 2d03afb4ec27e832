"""Shift closes (Z reports) and mid-shift X reports from the terminals, booked per terminal.

The terminal computes the figures from its own events (``kiosk.store.shifts``); the hub
keeps them as sent, with the cash counted and the over/short, so the owner sees every
shift of every terminal. An event whose figures cannot be read is rejected with the reason.
"""

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from peewee import CharField, IntegerField, TextField

from hub.errors import Rejected
from hub.ingest.models import BaseModel


class ShiftReport(BaseModel):
    """One closed shift of one terminal."""

    event_id = CharField(primary_key=True)
    shift_id = CharField(unique=True)
    device = CharField(index=True)
    store = CharField()
    attendant = CharField()
    opened_at = CharField()
    closed_at = CharField()
    day = CharField(index=True)  # the day it closed, in the shop's time zone
    sales_fen = IntegerField()
    refunds_fen = IntegerField()
    expected_cash_fen = IntegerField()
    counted_cash_fen = IntegerField()
    over_short_fen = IntegerField()
    figures = TextField()  # the whole figures object as the terminal sent it

    class Meta:
        table_name = "shift_report"


MODELS = [ShiftReport]


class ShiftXReport(BaseModel):
    """One X report (mid-shift figures) a terminal printed and sent; the shift stayed open."""

    event_id = CharField(primary_key=True)
    report_id = CharField(unique=True)
    device = CharField(index=True)
    store = CharField()
    attendant = CharField()
    opened_at = CharField()
    printed_at = CharField()
    day = CharField(index=True)  # the day it was printed, in the shop's time zone
    sales_fen = IntegerField()
    refunds_fen = IntegerField()
    expected_cash_fen = IntegerField()
    figures = TextField()  # the whole figures object as the terminal sent it

    class Meta:
        table_name = "shift_x_report"


X_MODELS = [ShiftXReport]


def on_shift_closed(event: dict[str, Any], tz: ZoneInfo) -> None:
    """Book a ``shift.closed`` event; figures that do not add up to the over/short are rejected."""
    data = event["data"]
    try:
        figures = dict(data["figures"])
        closed = dt.datetime.fromisoformat(str(data["closed_at"]))
        expected, counted = int(figures["expected_cash_fen"]), int(data["counted_cash_fen"])
        row = {
            "event_id": event["id"], "shift_id": str(data["shift_id"]), "device": event["device"],
            "store": str(data["store"]), "attendant": str(data["attendant"]),
            "opened_at": str(data.get("opened_at", "")), "closed_at": closed.isoformat(),
            "day": closed.astimezone(tz).date().isoformat(), "sales_fen": int(figures["sales_fen"]),
            "refunds_fen": int(figures["refunds_fen"]), "expected_cash_fen": expected,
            "counted_cash_fen": counted, "over_short_fen": int(data["over_short_fen"]),
            "figures": json.dumps(figures, ensure_ascii=False, sort_keys=True),
        }  # fmt: skip
    except (KeyError, TypeError, ValueError) as exc:
        raise Rejected(f"shift.closed data is incomplete: {exc!r}") from exc
    if counted - expected != row["over_short_fen"]:
        raise Rejected(f"shift.closed over/short {row['over_short_fen']} is not {counted} - {expected}")
    ShiftReport.insert(**row).execute()


def on_x_report(event: dict[str, Any], tz: ZoneInfo) -> None:
    """Book a ``shift.x_report`` event; figures that cannot be read are rejected with the reason."""
    data = event["data"]
    try:
        figures = dict(data["figures"])
        printed = dt.datetime.fromisoformat(str(data["printed_at"]))
        row = {
            "event_id": event["id"], "report_id": str(data["report_id"]), "device": event["device"],
            "store": str(data["store"]), "attendant": str(data["attendant"]),
            "opened_at": str(data.get("opened_at", "")), "printed_at": printed.isoformat(),
            "day": printed.astimezone(tz).date().isoformat(), "sales_fen": int(figures["sales_fen"]),
            "refunds_fen": int(figures["refunds_fen"]),
            "expected_cash_fen": int(figures["expected_cash_fen"]),
            "figures": json.dumps(figures, ensure_ascii=False, sort_keys=True),
        }  # fmt: skip
    except (KeyError, TypeError, ValueError) as exc:
        raise Rejected(f"shift.x_report data is incomplete: {exc!r}") from exc
    ShiftXReport.insert(**row).execute()


@dataclass(frozen=True)
class XRow:
    """An X report as the staff page lists it."""

    device: str
    store: str
    attendant: str
    opened_at: str
    printed_at: str
    sales_fen: int
    refunds_fen: int
    expected_cash_fen: int


def x_reports(first: dt.date, last: dt.date) -> list[XRow]:
    """X reports printed from ``first`` to ``last`` (shop days), by terminal, newest first."""
    rows = (
        ShiftXReport.select()
        .where(ShiftXReport.day >= first.isoformat(), ShiftXReport.day <= last.isoformat())
        .order_by(ShiftXReport.device, ShiftXReport.printed_at.desc())
    )
    return [
        XRow(r.device, r.store, r.attendant, r.opened_at, r.printed_at, r.sales_fen, r.refunds_fen,
             r.expected_cash_fen)
        for r in rows
    ]  # fmt: skip


@dataclass(frozen=True)
class ShiftRow:
    """A closed shift as the staff page lists it."""

    device: str
    store: str
    attendant: str
    opened_at: str
    closed_at: str
    sales_fen: int
    refunds_fen: int
    expected_cash_fen: int
    counted_cash_fen: int
    over_short_fen: int


def closed_shifts(first: dt.date, last: dt.date) -> list[ShiftRow]:
    """Shifts closed from ``first`` to ``last`` (shop days), newest first."""
    rows = (
        ShiftReport.select()
        .where(ShiftReport.day >= first.isoformat(), ShiftReport.day <= last.isoformat())
        .order_by(ShiftReport.closed_at.desc())
    )
    return [
        ShiftRow(r.device, r.store, r.attendant, r.opened_at, r.closed_at, r.sales_fen, r.refunds_fen,
                 r.expected_cash_fen, r.counted_cash_fen, r.over_short_fen)
        for r in rows
    ]  # fmt: skip
