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


def _report_row(event: dict[str, Any], at_field: str, tz: ZoneInfo) -> dict[str, Any]:
    """What an X and a Z report share, as a row: who, where, when (``at_field``: printed or closed),
    the figures; KeyError, TypeError or ValueError when the terminal's data cannot be read."""
    data = event["data"]
    figures = dict(data["figures"])
    at = dt.datetime.fromisoformat(str(data[at_field]))
    return {
        "event_id": event["id"], "device": event["device"], "store": str(data["store"]),
        "attendant": str(data["attendant"]), "opened_at": str(data.get("opened_at", "")),
        at_field: at.isoformat(), "day": at.astimezone(tz).date().isoformat(),
        "sales_fen": int(figures["sales_fen"]), "refunds_fen": int(figures["refunds_fen"]),
        "expected_cash_fen": int(figures["expected_cash_fen"]),
        "figures": json.dumps(figures, ensure_ascii=False, sort_keys=True),
    }  # fmt: skip


def on_shift_closed(event: dict[str, Any], tz: ZoneInfo) -> None:
    """Book a ``shift.closed`` event; figures that do not add up to the over/short are rejected."""
    data = event["data"]
    try:
        row = _report_row(event, "closed_at", tz)
        row |= {
            "shift_id": str(data["shift_id"]),
            "counted_cash_fen": int(data["counted_cash_fen"]),
            "over_short_fen": int(data["over_short_fen"]),
        }
    except (KeyError, TypeError, ValueError) as exc:
        raise Rejected(f"shift.closed data is incomplete: {exc!r}") from exc
    counted, expected = row["counted_cash_fen"], row["expected_cash_fen"]
    if counted - expected != row["over_short_fen"]:
        raise Rejected(f"shift.closed over/short {row['over_short_fen']} is not {counted} - {expected}")
    ShiftReport.insert(**row).execute()


def on_x_report(event: dict[str, Any], tz: ZoneInfo) -> None:
    """Book a ``shift.x_report`` event; figures that cannot be read are rejected with the reason."""
    try:
        row = _report_row(event, "printed_at", tz) | {"report_id": str(event["data"]["report_id"])}
    except (KeyError, TypeError, ValueError) as exc:
        raise Rejected(f"shift.x_report data is incomplete: {exc!r}") from exc
    ShiftXReport.insert(**row).execute()


@dataclass(frozen=True)
class ReportRow:
    """An X or a Z report as the staff page lists it. ``at`` is when the X report was printed or
    the shift closed; an X report has no cash counted (``counted_cash_fen`` and ``over_short_fen``
    are None: the shift is still open)."""

    device: str
    store: str
    attendant: str
    opened_at: str
    at: str
    sales_fen: int
    refunds_fen: int
    expected_cash_fen: int
    counted_cash_fen: int | None = None
    over_short_fen: int | None = None


def _listed(row: ShiftReport | ShiftXReport, at: str, **counted: int) -> ReportRow:
    return ReportRow(
        row.device, row.store, row.attendant, row.opened_at, at, row.sales_fen, row.refunds_fen,
        row.expected_cash_fen, **counted,
    )  # fmt: skip


def x_reports(first: dt.date, last: dt.date) -> list[ReportRow]:
    """X reports printed from ``first`` to ``last`` (shop days), by terminal, newest first."""
    rows = (
        ShiftXReport.select()
        .where(ShiftXReport.day >= first.isoformat(), ShiftXReport.day <= last.isoformat())
        .order_by(ShiftXReport.device, ShiftXReport.printed_at.desc())
    )
    return [_listed(r, r.printed_at) for r in rows]


def closed_shifts(first: dt.date, last: dt.date) -> list[ReportRow]:
    """Shifts closed from ``first`` to ``last`` (shop days), newest first, with the cash counted."""
    rows = (
        ShiftReport.select()
        .where(ShiftReport.day >= first.isoformat(), ShiftReport.day <= last.isoformat())
        .order_by(ShiftReport.closed_at.desc())
    )
    return [
        _listed(r, r.closed_at, counted_cash_fen=r.counted_cash_fen, over_short_fen=r.over_short_fen)
        for r in rows
    ]
