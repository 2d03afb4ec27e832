"""The staff pages: 员工 / Staff (accounts, roles and what each may do) and 员工工时 / Staff hours.

``/staff``: every account (name, role, stores, badge, on or off), a form for a new one
(the PIN is hashed at once and never shown again), switching one off, and the permission
matrix the terminals enforce. Each change is audited and sent to the terminals.


``/staff-hours?from=2026-11-18&to=2026-11-24`` (the last 7 days by default; zh,
``&lang=en`` for English). An open shift says so; an out without an in says the
start is missing, so the owner sees a forgotten clock-in.
"""

import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub.reports import queries as reports
from hub.staff import accounts, attendance
from hub.staff import hours as staff_hours
from hub.staff import shifts as staff_shifts
from hub.staff.downlink import RosterPublisher
from hub.web import auth, i18n
from hub.web.attendance import WEEKDAY_KEYS
from hub.web.exports import csv_response
from hub.web.i18n import N_
from hub.web.pages import TEMPLATES, form_fields, language, page_context
from kiosk.domain.staff import ACTIONS, ROLES, StaffError


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


Plans = dict[str, dict[int, tuple[str, str]]]


def late(shift: staff_hours.Shift, plans: Plans) -> int:
    """Minutes the shift began after the person's planned start that weekday (0: on time, no plan)."""
    weekday = dt.date.fromisoformat(shift.day).weekday()
    return attendance.late_minutes(shift.start, plans.get(shift.staff_id, {}).get(weekday))


def planned_text(shift: staff_hours.Shift, plans: Plans) -> str:
    """The planned hours of the shift's weekday (``09:00–17:30``); empty when none are planned
    (overtime is then beyond 8 hours)."""
    planned = plans.get(shift.staff_id, {}).get(dt.date.fromisoformat(shift.day).weekday())
    return f"{planned[0]}–{planned[1]}" if planned else ""


def _weeks(shifts: list[staff_hours.Shift], plans: Plans, tz: ZoneInfo) -> list[dict[str, Any]]:
    """Per person per week (from Monday): hours, breaks, overtime (against the schedule) and late arrivals."""
    weeks: dict[tuple[str, str], dict[str, Any]] = {}
    for shift in shifts:
        day = dt.date.fromisoformat(shift.day)
        monday = (day - dt.timedelta(days=day.weekday())).isoformat()
        row = weeks.setdefault(
            (monday, shift.staff_name),
            {"week": monday, "staff_id": shift.staff_id, "name": shift.staff_name, "minutes": 0, "breaks": 0,
             "overtime": 0, "late": 0, "late_minutes": 0},
        )  # fmt: skip
        row["minutes"] += shift.minutes or 0
        row["breaks"] += shift.break_minutes
        row["overtime"] += staff_hours.overtime(shift, plans.get(shift.staff_id), tz)
        minutes_late = late(shift, plans)
        row["late"] += 1 if minutes_late else 0
        row["late_minutes"] += minutes_late
    return [weeks[key] for key in sorted(weeks)]


def _flag(shift: staff_hours.Shift) -> str:
    """Why a shift needs a look: closed by the forgotten clock-out rule, still open, or no clock-in."""
    if shift.auto_closed:
        return N_("staff_auto_closed")
    if shift.open:
        return N_("shift_open")
    return N_("start_missing") if shift.start is None else ""


def router(tz: ZoneInfo, today: Callable[[], dt.date] | None = None) -> APIRouter:
    """The ``/staff-hours`` route; ``today`` pins the clock in tests."""
    routes = APIRouter()

    def _shifts(first: dt.date, last: dt.date) -> list[staff_hours.Shift]:
        # the forgotten clock-out rule runs on the real clock; a page pinned to a day shows the raw pairs
        now = None if today else dt.datetime.now(tz)
        return staff_hours.shifts(first, last, tz, close_after_h=accounts.close_after_hours(), now=now)

    @routes.get("/staff-hours.csv")
    def staff_hours_csv(request: Request) -> Response:
        """Hours per person per day as CSV: in, out, hours, the planned hours, overtime against them,
        late, and why a shift is flagged."""
        lang, q = language(request), request.query_params
        now = today() if today else dt.datetime.now(tz).date()
        try:
            first, last = reports.parse_range(q.get("from") or None, q.get("to") or None, now)
        except reports.RangeError as bad:
            return Response(bad.en if lang == "en" else bad.zh, status_code=400)
        keys = (
            N_("day"), N_("staff_name"), N_("clock_in"), N_("clock_out"), N_("staff_breaks"),
            N_("hours"), N_("staff_planned_col"), N_("staff_overtime"), N_("staff_late"), N_("staff_flag"),
            N_("staff_corrected_col"),
            N_("terminals"),
        )  # fmt: skip
        header = [i18n.t(key, lang) for key in keys]
        plans = attendance.schedules()
        rows = [
            [s.day, s.staff_name, s.start.strftime("%H:%M") if s.start else "",
             s.end.strftime("%H:%M") if s.end else "", hours_text(s.break_minutes), hours_text(s.minutes),
             planned_text(s, plans), hours_text(staff_hours.overtime(s, plans.get(s.staff_id), tz)),
             hours_text(late(s, plans)) if late(s, plans) else "",
             i18n.t(_flag(s), lang) if _flag(s) else "",
             i18n.t("staff_corrected", lang) if s.corrected else "", " ".join(s.devices)]
            for s in _shifts(first, last)
        ]  # fmt: skip
        return csv_response(f"staff-hours-{first}-{last}", header, rows)

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
        found = _shifts(first, last)
        plans = attendance.schedules()
        people = [p for p in accounts.list_staff() if p.active]
        who = auth.principal(request)
        if who is not None and who.stores is not None:  # a manager plans their own stores' staff
            people = [p for p in people if set(p.stores) & who.stores]
        context.update(
            plans=plans,
            late=lambda shift: late(shift, plans),
            overtime=lambda shift: staff_hours.overtime(shift, plans.get(shift.staff_id), tz),
            weeks=_weeks(found, plans, tz),
            planners=people,
            weekdays=WEEKDAY_KEYS,
            can_correct=who is not None and "attendance:write" in who.permissions,
            corrected=q.get("corrected"),
            planned=q.get("planned"),
            plan_error=q.get("plan_error"),
        )
        context.update(
            closes=staff_shifts.closed_shifts(first, last),
            x_reports=staff_shifts.x_reports(first, last),
            close_after=accounts.close_after_hours(),
        )
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


# the names of roles and actions the page builds from their codes ('role_' ~ role in the template)
ROLE_KEYS = (N_("role_attendant"), N_("role_supervisor"), N_("role_manager"), N_("role_owner"))
ACTION_KEYS = (
    N_("action_clock"), N_("action_age_check"), N_("action_cash"), N_("action_remove"),
    N_("action_price_override"), N_("action_void_sale"), N_("action_reprint"), N_("action_drawer"),
    N_("action_top_up"), N_("action_refund"), N_("action_cap_override"), N_("action_shift_report"),
    N_("action_member"), N_("action_count_card"),
)  # fmt: skip


def accounts_router(tz: ZoneInfo, publish: RosterPublisher | None = None) -> APIRouter:
    """``/staff``: the staff accounts, a new account, switching one off, and the role permission matrix.

    ``publish`` sends the rosters to the terminals after each change (``hub serve`` gives one);
    without it the page says to run ``hub staff publish``.
    """
    routes = APIRouter()

    def page(request: Request, status: int = 200, **extra: Any) -> HTMLResponse:
        context = page_context(request, tz)
        matrix = accounts.permissions()
        context.update(
            people=accounts.list_staff(),
            roles=ROLES,
            actions=ACTIONS,
            matrix=matrix,
            version=accounts.roster_version(),
            published=request.query_params.get("sent"),
            publish_error=request.query_params.get("unsent"),
            can_publish=publish is not None,
        )
        context.update({"form": {}, "error": None, **extra})
        return TEMPLATES.TemplateResponse(request, "staff_accounts.html", context, status_code=status)

    def who(request: Request) -> str:
        """The signed-in account that made the change (the audit trail names it)."""
        signed = auth.principal(request)
        return signed.name if signed else "dashboard"

    def sent(request: Request) -> RedirectResponse:
        """Back to the page, saying whether the terminals have the change."""
        lang = "&lang=en" if language(request) == "en" else ""
        if publish is None:
            return RedirectResponse(f"/staff?saved=1{lang}", status_code=303)
        try:
            count = publish()
        except (ConnectionError, OSError) as exc:
            return RedirectResponse(f"/staff?unsent={quote(str(exc))}{lang}", status_code=303)
        return RedirectResponse(f"/staff?sent={count}{lang}", status_code=303)

    @routes.get("/staff", response_class=HTMLResponse)
    def staff_page(request: Request) -> HTMLResponse:
        return page(request)

    @routes.post("/staff", response_class=HTMLResponse, response_model=None)
    async def add_page(request: Request) -> HTMLResponse | RedirectResponse:
        form = await form_fields(request)
        stores = [s for s in form.get("stores", "").replace("，", ",").split(",")]
        try:
            accounts.add_staff(
                form.get("name", ""), form.get("role", ""), stores, form.get("pin", ""),
                dt.datetime.now(dt.UTC), who(request), badge=form.get("badge") or None,
            )  # fmt: skip
        except StaffError as exc:
            kept = {k: v for k, v in form.items() if k != "pin"}  # never echo a PIN back
            return page(request, 400, error=exc.text(language(request)), form=kept)
        return sent(request)

    @routes.post("/staff/{staff_id}/disable", response_class=HTMLResponse, response_model=None)
    def disable_page(request: Request, staff_id: str) -> HTMLResponse | RedirectResponse:
        try:
            accounts.disable_staff(staff_id, dt.datetime.now(dt.UTC), who(request))
        except StaffError as exc:
            return page(request, 404, error=exc.text(language(request)))
        return sent(request)

    @routes.post("/staff/permissions", response_class=HTMLResponse, response_model=None)
    async def permissions_page(request: Request) -> HTMLResponse | RedirectResponse:
        body = (await request.body()).decode("utf-8", errors="replace")
        ticked = [value for key, value in parse_qsl(body) if key == "allow"]  # "role:action" per box
        matrix: dict[str, list[str]] = {role: [] for role in ROLES}
        for item in ticked:
            role, _, action = item.partition(":")
            matrix.setdefault(role, []).append(action)
        try:
            accounts.set_permissions(matrix, dt.datetime.now(dt.UTC), who(request))
        except StaffError as exc:
            return page(request, 400, error=exc.text(language(request)))
        return sent(request)

    return routes
