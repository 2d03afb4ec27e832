"""The dashboard home: today and this week beside last week, terminals, alerts, recent sales."""

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from hub.jobs import failed_jobs
from hub.reports import overview
from hub.reports import queries as reports
from hub.web import i18n
from hub.web.pages import TEMPLATES, page_context


def router(tz: ZoneInfo, today: Callable[[], dt.date] | None = None) -> APIRouter:
    """The ``/`` page; ``today`` pins the shop's day in tests."""
    routes = APIRouter()

    @routes.get("/", response_class=HTMLResponse)
    def dashboard(request: Request) -> HTMLResponse:
        context = page_context(request, tz)
        lang = context["lang"]
        now = dt.datetime.now(dt.UTC)
        day = today() if today else now.astimezone(tz).date()
        seen = overview.terminals(now)
        suffix = "?lang=en" if lang == "en" else ""
        periods = overview.periods(day)
        context.update(
            periods=periods,
            summary=reports.day_summary(day.isoformat()),
            terminals=seen,
            alerts=[(a.en if lang == "en" else a.zh, a.link + suffix, a) for a in overview.alerts(now, seen)],
            failed_jobs=failed_jobs(),
            recent=reports.recent_sales(),
            quarantined=reports.quarantine_count(),
            gaps=reports.gap_count(),
            change=overview.change_pct,
            was=lambda v: i18n.t("was", lang, v=v),
            suffix=suffix,
        )
        return TEMPLATES.TemplateResponse(request, "dashboard.html", context)

    return routes
