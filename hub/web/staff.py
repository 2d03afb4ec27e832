"""The 员工工时 / Staff hours page: per person per day, clock-in, clock-out and hours worked.

``/staff-hours?from=2026-11-18&to=2026-11-24`` (the last 7 days by default; zh,
``&lang=en`` for English). An open shift says so; an out without an in says the
start is missing, so the owner sees a forgotten clock-in.
"""

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from hub.reports import queries as reports
from hub.staff import hours as staff_hours
from hub.web.pages import TEMPLATES, page_context


def hours_text(minutes: int | None) -> str:
    """``7:35`` for 455 minutes; empty when not known."""
    return "" if minutes is None else f"{minutes // 60}:{minutes % 60:02d}"


def _people(shifts: list[staff_hours.Shift]) -> list[dict[str, Any]]:
    totals: dict[str, dict[str, Any]] = {}
    for shift in shifts:
        person = totals.setdefault(shift.staff_id, {"name": shift.staff_name, "minutes": 0, "shifts": 0})
        person["minutes"] += shift.minutes or 0
        person["shifts"] += 1
    return [{"staff_id": k, **v, "hours": hours_text(v["minutes"])} for k, v in sorted(totals.items())]


def router(tz: ZoneInfo, today: Callable[[], dt.date] | None = None) -> APIRouter:
    """The ``/staff-hours`` route; ``today`` pins the clock in tests."""
    routes = APIRouter()

    @routes.get("/staff-hours", response_class=HTMLResponse)
    def staff_hours_page(request: Request) -> HTMLResponse:
        context = page_context(request, tz)
        lang = context["lang"]
        q = request.query_params
        now = today() if today else dt.datetime.now(tz).date()
        error = None
        try:
            first, last = reports.parse_range(q.get("from") or None, q.get("to") or None, now)
        except reports.RangeError as bad:
            error = bad.en if lang == "en" else bad.zh
            first, last = reports.parse_range(None, None, now)
        found = staff_hours.shifts(first, last, tz)
        context.update(
            first=first.isoformat(),
            last=last.isoformat(),
            error=error,
            shifts=found,
            people=_people(found),
            hours=hours_text,
            clock=lambda when: when.strftime("%H:%M") if when else "",
        )
        return TEMPLATES.TemplateResponse(
            request, "staff_hours.html", context, status_code=400 if error else 200
        )

    return routes
