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
from fastapi.templating import Jinja2Templates

from hub.jobs import catalog, runner
from hub.jobs import settings as job_settings
from hub.web import i18n
from hub.web.pages import form_fields, language, page_context

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

TEXT: dict[str, dict[str, str]] = {
    "nav_jobs": {"zh": "定时任务", "en": "Jobs"},
    "jobs_title": {"zh": "定时任务", "en": "Scheduled jobs"},
    "jobs_hint": {
        "zh": "总部每分钟检查一次，每个任务每天只运行一次（多台总部也只运行一次）。",
        "en": "The hub checks every minute; each job runs once a day, even with several hub processes.",
    },
    "job": {"zh": "任务", "en": "Job"},
    "at_hour": {"zh": "时间", "en": "Time"},
    "last_run": {"zh": "上次运行", "en": "Last run"},
    "result": {"zh": "结果", "en": "Result"},
    "next_run": {"zh": "下次运行", "en": "Next run"},
    "never": {"zh": "从未运行", "en": "never run"},
    "due_now": {"zh": "待运行（一分钟内）", "en": "due (within a minute)"},
    "status_ok": {"zh": "成功", "en": "OK"},
    "status_failed": {"zh": "失败", "en": "Failed"},
    "status_running": {"zh": "运行中", "en": "Running"},
    "run_now": {"zh": "立即运行", "en": "Run now"},
    "dry_run": {"zh": "试运行", "en": "Dry run"},
    "dry_run_done": {"zh": "试运行（未做任何修改）：", "en": "Dry run (nothing changed): "},
    "run_done": {"zh": "已运行：", "en": "Ran: "},
    "run_taken": {"zh": "今天已运行过，不再重复。", "en": "Already run today: not run again."},
    "failed_alert": {"zh": "有定时任务失败，请查看。", "en": "A scheduled job failed: see below."},
    "retention_months": {"zh": "不活跃会员匿名化期限（月，0 = 不处理）",
                         "en": "Anonymise inactive members after (months, 0 = never)"},
    "save": {"zh": "保存", "en": "Save"},
    "saved": {"zh": "已保存。", "en": "Saved."},
}  # fmt: skip
i18n.TEXT.update({k: v for k, v in TEXT.items() if k not in i18n.TEXT})


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
