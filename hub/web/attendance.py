"""Correcting clockings and planning hours, from the Staff hours page (owner, or a store's manager).

``/staff-hours/correct?c=<clocking id>``: the shift that clocking belongs to, each of its
times editable, an empty field for a missing clock-in or clock-out, and a reason that must be
given; saving writes one correction per changed time (``hub.staff.attendance.correct``, in the
owner's audit chain) and goes back to the hours, where the shift is marked corrected.
``POST /staff-hours/schedule``: a person's planned start and end on one weekday (empty: none).
A manager may do both only for their own stores' staff.
"""

import datetime as dt
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from hub.staff import accounts, attendance
from hub.staff import hours as staff_hours
from hub.web import auth
from hub.web.i18n import N_
from hub.web.pages import TEMPLATES, form_fields, language, page_context
from kiosk.domain.staff import StaffError

#: the name of each kind of clocking on the form
DIRECTION_KEYS = {
    "in": N_("clock_in"),
    "out": N_("clock_out"),
    "break_start": N_("staff_break_start"),
    "break_end": N_("staff_break_end"),
}
WEEKDAY_KEYS = (
    N_("weekday_mon"), N_("weekday_tue"), N_("weekday_wed"), N_("weekday_thu"),
    N_("weekday_fri"), N_("weekday_sat"), N_("weekday_sun"),
)  # fmt: skip


def find_shift(clocking_id: str, tz: ZoneInfo) -> staff_hours.Shift | None:
    """The shift (as the hours show it) that holds the clocking ``clocking_id``, or None."""
    for clocking in staff_hours.clockings(tz):
        if clocking.event_id == clocking_id:
            day = clocking.at.date()
            for shift in staff_hours.shifts(day - dt.timedelta(days=1), day + dt.timedelta(days=1), tz):
                if any(c.event_id == clocking_id for c in shift.clockings):
                    return shift
    return None


def _mine(request: Request, store: str) -> None:
    """A manager may correct and plan only their own stores' staff: 404 for another store's."""
    who = auth.principal(request)
    if who is not None and who.stores is not None and store not in who.stores:
        raise HTTPException(404, "no such shift in your stores / 您的门店没有这个班次")


def _person_store(staff_id: str) -> str | None:
    """A staff account's first store (what a manager's right is checked against)."""
    for person in accounts.list_staff():
        if person.id == staff_id:
            return person.stores[0] if person.stores else None
    return None


def router(tz: ZoneInfo) -> APIRouter:
    """``/staff-hours/correct`` (GET the form, POST the corrections) and ``/staff-hours/schedule``."""
    routes = APIRouter()

    def form_page(
        request: Request, shift: staff_hours.Shift, clocking_id: str, status: int = 200, **extra: Any
    ) -> HTMLResponse:
        context = page_context(request, tz)
        context.update(
            shift=shift,
            clocking_id=clocking_id,
            names=DIRECTION_KEYS,
            hm=lambda when: when.strftime("%H:%M") if when else "",
            error=None,
            form={},
        )
        context.update(extra)
        return TEMPLATES.TemplateResponse(request, "staff_correct.html", context, status_code=status)

    def shift_for(request: Request, clocking_id: str) -> staff_hours.Shift:
        shift = find_shift(clocking_id, tz)
        if shift is None:
            raise HTTPException(404, "no such clocking / 没有这条打卡记录")
        _mine(request, shift.store)
        return shift

    @routes.get("/staff-hours/correct", response_class=HTMLResponse)
    def correct_form(request: Request, c: str = "") -> HTMLResponse:
        return form_page(request, shift_for(request, c), c)

    @routes.post("/staff-hours/correct", response_class=HTMLResponse, response_model=None)
    async def correct_post(request: Request) -> HTMLResponse | RedirectResponse:
        form = await form_fields(request)
        clocking_id = form.get("c", "")
        shift = shift_for(request, clocking_id)
        lang = language(request)
        try:
            changes = _changes(shift, form, tz)
            attendance.correct(
                shift.staff_id, shift.staff_name, shift.store, changes, form.get("reason", ""),
                dt.datetime.now(dt.UTC), form.get("by", "dashboard"),
            )  # fmt: skip
        except StaffError as exc:
            return form_page(request, shift, clocking_id, 400, error=exc.text(lang), form=form)
        back = f"/staff-hours?from={shift.day}&to={shift.day}&corrected=1"
        return RedirectResponse(back + ("&lang=en" if lang == "en" else ""), status_code=303)

    @routes.post("/staff-hours/schedule", response_class=HTMLResponse, response_model=None)
    async def schedule_post(request: Request) -> RedirectResponse:
        form = await form_fields(request)
        staff_id = form.get("staff", "")
        store = _person_store(staff_id)
        if store is None:
            raise HTTPException(404, "no such staff member / 没有这位员工")
        _mine(request, store)
        lang = language(request)
        suffix = "&lang=en" if lang == "en" else ""
        try:
            weekday = int(form.get("weekday", "-1"))
            attendance.set_schedule(
                staff_id, weekday, form.get("start", ""), form.get("end", ""),
                dt.datetime.now(dt.UTC), form.get("by", "dashboard"),
            )  # fmt: skip
        except (StaffError, ValueError) as exc:  # a bad time or order; a weekday that is no number
            text = exc.text(lang) if isinstance(exc, StaffError) else "weekday?"
            return RedirectResponse(
                f"/staff-hours?plan_error={quote(text)}{suffix}#schedules", status_code=303
            )
        return RedirectResponse(f"/staff-hours?planned=1{suffix}#schedules", status_code=303)

    return routes


def _changes(shift: staff_hours.Shift, form: dict[str, str], tz: ZoneInfo) -> list[attendance.Correction]:
    """The times the form changed (``t_<clocking id>``) and the missing ones it fills (``add_in``,
    ``add_out``), as corrections; a field left as it was changes nothing."""
    changes = []
    for clocking in shift.clockings:
        typed = form.get(f"t_{clocking.event_id}", "").strip()
        if typed and typed != clocking.at.strftime("%H:%M"):
            at = attendance.local_time(clocking.at.date().isoformat(), typed, tz)
            changes.append(attendance.Correction(clocking.direction, at, clocking.event_id))
    added_in, added_out = form.get("add_in", "").strip(), form.get("add_out", "").strip()
    if added_in and shift.start is None:
        changes.append(attendance.Correction("in", attendance.local_time(shift.day, added_in, tz)))
    if added_out and (shift.end is None or shift.auto_closed):
        changes.append(
            attendance.Correction(
                "out", attendance.local_time(shift.day, added_out, tz, not_before=shift.start)
            )
        )
    return changes
