"""The jobs page (定时任务): every scheduled job with its last run, result and next run; a failed
one stands out. The owner may run a job now, try it as a dry run, and set the retention period.
"""

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from hub.jobs import catalog, runner
from hub.jobs import settings as job_settings
from hub.web.i18n import N_
from hub.web.pages import TEMPLATES, form_fields, language, page_context

# a run's status is shown as job_status_<status> (the template builds the key)
STATUS_KEYS = (N_("job_status_ok"), N_("job_status_failed"), N_("job_status_running"))


def router(tz: ZoneInfo, data_dir: Path, clock: Callable[[], dt.datetime] | None = None) -> APIRouter:
    """``GET /jobs``, ``POST /jobs/{name}/run`` (``dry_run=1`` to only tell), ``POST /jobs/settings``."""
    routes = APIRouter()

    def now() -> dt.datetime:
        return clock() if clock else dt.datetime.now(tz)

    def lang_query(request: Request, **extra: str) -> str:
        query = extra | ({"lang": "en"} if language(request) == "en" else {})
        return f"?{urlencode(query)}" if query else ""

    @routes.get("/jobs", response_class=HTMLResponse)
    def page(request: Request) -> HTMLResponse:
        context: dict[str, Any] = page_context(request, tz)
        at = now()
        rows = runner.status(catalog.all_jobs(), at, tz)
        context |= {
            "now": at,
            "rows": rows,
            "failed": [r for r in rows if r.last is not None and r.last.status == "failed"],
            "retention_months": job_settings.get("retention_months"),
            "done": request.query_params.get("done", ""),
            "outcome": request.query_params.get("outcome", ""),
            "lines": request.query_params.getlist("line"),
        }
        return TEMPLATES.TemplateResponse(request, "jobs.html", context)

    @routes.post("/jobs/{name}/run", response_model=None)
    async def run(request: Request, name: str) -> RedirectResponse | HTMLResponse:
        form = await form_fields(request)
        try:
            job = catalog.job_named(name)
        except KeyError as exc:
            return HTMLResponse(str(exc.args[0]), status_code=404)
        dry = form.get("dry_run") == "1"
        ctx = runner.JobContext(now(), tz, dry, data_dir)
        outcome = runner.run_job(job, ctx, job.period(ctx.now, tz) or ctx.today.isoformat())
        lines = list(outcome.result.lines[:50]) if dry and outcome.result else []
        query: dict[str, Any] = {"done": outcome.status, "outcome": outcome.summary, "line": lines}
        if language(request) == "en":
            query["lang"] = "en"
        return RedirectResponse(f"/jobs?{urlencode(query, doseq=True)}#job-{name}", 303)

    @routes.post("/jobs/settings", response_model=None)
    async def settings(request: Request) -> RedirectResponse | HTMLResponse:
        form = await form_fields(request)
        try:
            job_settings.put("retention_months", form.get("retention_months", "").strip())
        except ValueError as exc:
            return HTMLResponse(str(exc), status_code=422)
        return RedirectResponse(f"/jobs{lang_query(request, done='saved')}", 303)

    return routes
