"""The dashboard home: today and this week beside last week, terminals, alerts, recent sales."""

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from hub.reports import overview
from hub.reports import queries as reports
from hub.web import i18n
from hub.web.pages import page_context

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

TEXT: dict[str, dict[str, str]] = {
    "this_week": {"zh": "本周", "en": "This week"},
    "vs_last_week": {"zh": "对比上周同期", "en": "vs the same days last week"},
    "vs_last_week_day": {"zh": "对比上周同日", "en": "vs the same day last week"},
    "transactions": {"zh": "交易笔数", "en": "Transactions"},
    "average_basket": {"zh": "客单价", "en": "Average basket"},
    "members_walkins": {"zh": "会员 / 散客", "en": "Members / walk-ins"},
    "new_members": {"zh": "新会员", "en": "New members"},
    "net_after_refunds": {"zh": "退款后净额", "en": "Net of refunds"},
    "kiosks": {"zh": "终端在线 / 离线", "en": "Terminals online / offline"},
    "alerts": {"zh": "提醒", "en": "Alerts"},
    "no_alerts": {"zh": "一切正常：没有需要处理的提醒。", "en": "All clear: nothing needs attention."},
    "open_link": {"zh": "查看", "en": "Open"},
    "was": {"zh": "上周 {v}", "en": "last week {v}"},
    "failed_jobs": {"zh": "失败的定时任务", "en": "Failed scheduled jobs"},
    "job_rerun": {
        "zh": "修好原因后，在总部服务器上运行 hub jobs run 任务名 重试。",
        "en": "Once the cause is fixed, run hub jobs run NAME on the hub server to retry.",
    },
    "job_name": {"zh": "任务", "en": "Job"},
    "job_period": {"zh": "周期", "en": "Period"},
    "job_error": {"zh": "错误", "en": "Error"},
}
i18n.TEXT.update({k: v for k, v in TEXT.items() if k not in i18n.TEXT})


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
            failed_jobs=overview.failed_jobs(),
            recent=reports.recent_sales(),
            quarantined=reports.quarantine_count(),
            gaps=reports.gap_count(),
            change=overview.change_pct,
            was=lambda v: i18n.t("was", lang).format(v=v),
            suffix=suffix,
        )
        return TEMPLATES.TemplateResponse(request, "dashboard.html", context)

    return routes
