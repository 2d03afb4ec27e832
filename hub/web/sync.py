"""Dashboard pages of the sync side: the fleet (presence, health, gaps) and the quarantine.

Chinese by default, English with ``?lang=en``, like the rest of the dashboard.
"""

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from hub.fleet import presence as fleet
from hub.ingest import quarantine
from hub.ingest.quarantine_text import explain
from hub.members import feed as member_feed
from hub.web import i18n
from hub.web.pages import RowId

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

TEXT: dict[str, dict[str, str]] = {
    "fleet": {"zh": "终端状态", "en": "Terminals"},
    "fleet_title": {"zh": "终端状态与同步", "en": "Terminals and sync"},
    "quarantine_title": {"zh": "隔离区", "en": "Quarantine"},
    "back": {"zh": "返回看板", "en": "Dashboard"},
    "state": {"zh": "状态", "en": "State"},
    "online": {"zh": "在线", "en": "online"},
    "offline": {"zh": "离线", "en": "offline"},
    "unknown": {"zh": "未知", "en": "unknown"},
    "last_synced": {"zh": "最近同步", "en": "Last synced"},
    "never": {"zh": "从未", "en": "never"},
    "last_seq": {"zh": "最新序号", "en": "Last seq"},
    "outbox": {"zh": "待上传", "en": "Unsent"},
    "oldest": {"zh": "最久未传", "en": "Oldest unsent"},
    "config_version": {"zh": "配置版本", "en": "Config"},
    "member_version": {"zh": "会员版本", "en": "Members"},
    "hub_member_version": {"zh": "总部会员数据版本：", "en": "Hub member version: "},
    "app_version": {"zh": "软件版本", "en": "App"},
    "disk": {"zh": "剩余空间", "en": "Disk free"},
    "printer": {"zh": "打印机", "en": "Printer"},
    "skew": {"zh": "时钟偏差", "en": "Clock skew"},
    "open_gaps": {"zh": "缺失事件", "en": "Missing events"},
    "stale": {"zh": "同步超时", "en": "not syncing"},
    "skewed": {"zh": "时钟不准", "en": "clock off"},
    "forked": {"zh": "从旧备份恢复，重新编号中", "en": "restored from a backup, re-chaining"},
    "no_devices": {"zh": "还没有终端连接过。", "en": "No terminal has connected yet."},
    "gap_report": {"zh": "序号缺口报告", "en": "Sequence gap report"},
    "expected": {"zh": "应为", "en": "Expected"},
    "got": {"zh": "收到", "en": "Got"},
    "missing": {"zh": "仍缺失", "en": "Still missing"},
    "closed": {"zh": "已补齐", "en": "filled"},
    "found_at": {"zh": "发现时间", "en": "Found"},
    "no_gaps": {"zh": "没有序号缺口。", "en": "No sequence gaps."},
    "open_entries": {"zh": "待处理", "en": "Open"},
    "resolved_entries": {"zh": "已处理", "en": "Resolved"},
    "received": {"zh": "收到时间", "en": "Received"},
    "event": {"zh": "事件", "en": "Event"},
    "reason": {"zh": "原因", "en": "Reason"},
    "replay": {"zh": "重新入账", "en": "Replay"},
    "replay_hint": {
        "zh": "修正原因后点击“重新入账”，或运行 hub quarantine replay 编号。",
        "en": "Fix the cause, then press Replay or run hub quarantine replay ID.",
    },
    "no_quarantine": {"zh": "隔离区是空的。", "en": "Nothing in quarantine."},
    "resolution": {"zh": "处理结果", "en": "Outcome"},
    # the heartbeat's printer conditions (kiosk.sync.health.PRINTER_REPORT)
    "printer_ok": {"zh": "正常", "en": "OK"},
    "printer_paper_low": {"zh": "纸将用完", "en": "paper low"},
    "printer_paper_out": {"zh": "缺纸", "en": "out of paper"},
    "printer_cover_open": {"zh": "纸仓盖未关", "en": "cover open"},
    "printer_offline": {"zh": "离线", "en": "offline"},
    "printer_missing": {"zh": "未连接", "en": "not connected"},
    "printer_unknown": {"zh": "未知", "en": "unknown"},
}
PRINTER_PROBLEMS = frozenset({"paper_out", "cover_open", "offline", "missing"})
i18n.TEXT.update({k: v for k, v in TEXT.items() if k not in i18n.TEXT})


def _ago(seconds: float | None, lang: str) -> str:
    if seconds is None:
        return i18n.t("never", lang)
    seconds = max(0, int(seconds))
    for size, zh, en in ((86400, "天", "d"), (3600, "小时", "h"), (60, "分钟", "min")):
        if seconds >= size:
            return f"{seconds // size} {zh}前" if lang == "zh" else f"{seconds // size} {en} ago"
    return f"{seconds} 秒前" if lang == "zh" else f"{seconds} s ago"


def _skew(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    sign = "+" if seconds >= 0 else "−"
    value = abs(seconds)
    return f"{sign}{value / 3600:.1f} h" if value >= 3600 else f"{sign}{value:.0f} s"


def _bytes(value: int) -> str:
    return f"{value / 1e9:.1f} GB" if value >= 1e9 else f"{value / 1e6:.0f} MB"


def router(tz: ZoneInfo, now: "dt.datetime | None" = None) -> APIRouter:
    """Routes for ``/fleet``, ``/quarantine`` and their JSON; ``now`` pins the clock in tests."""
    routes = APIRouter()

    def clock() -> dt.datetime:
        return now or dt.datetime.now(dt.UTC)

    def language(request: Request) -> str:
        return "en" if request.query_params.get("lang") == "en" else "zh"

    def base_context(request: Request) -> dict[str, object]:
        lang = language(request)

        def local(value: dt.datetime | str | None) -> str:
            when = fleet.as_utc(value)
            return when.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if when else ""

        return {"lang": lang, "t": lambda key: i18n.t(key, lang), "local": local}

    @routes.get("/fleet", response_class=HTMLResponse)
    def fleet_page(request: Request) -> HTMLResponse:
        context = base_context(request)
        lang = str(context["lang"])
        at = clock()
        rows = fleet.fleet(at)
        context |= {
            "rows": rows,
            "hub_member_version": member_feed.current_version(),
            "gaps": fleet.open_gaps(),
            "ago": lambda when: _ago((at - when).total_seconds() if when else None, lang),
            "seconds": lambda s: _ago(s, lang).replace("前", "").replace(" ago", "") if s else "–",
            "skew": _skew,
            "size": _bytes,
            "printer": lambda value: i18n.t(
                f"printer_{value}" if f"printer_{value}" in TEXT else "unknown", lang
            ),
            "printer_problem": lambda value: value in PRINTER_PROBLEMS,
        }
        return TEMPLATES.TemplateResponse(request, "fleet.html", context)

    @routes.get("/api/fleet")
    def fleet_api() -> list[dict[str, object]]:
        return [
            {**row.__dict__, "last_synced": row.last_synced.isoformat() if row.last_synced else None}
            for row in fleet.fleet(clock())
        ]

    @routes.get("/quarantine", response_class=HTMLResponse)
    def quarantine_page(request: Request) -> HTMLResponse:
        context = base_context(request)
        entries = quarantine.entries(include_resolved=True)
        context |= {
            "open": [e for e in entries if e.resolved_at is None],
            "resolved": [e for e in entries if e.resolved_at is not None][:20],
            "message": request.query_params.get("message", ""),
            "explain": lambda reason: explain(reason).text(context["lang"]),  # type: ignore[arg-type]
        }
        return TEMPLATES.TemplateResponse(request, "quarantine.html", context)

    @routes.post("/quarantine/{entry_id}/replay")
    def replay(entry_id: RowId, request: Request) -> RedirectResponse:
        try:
            outcome = quarantine.replay(entry_id, clock(), tz)
        except quarantine.ReplayError as exc:
            raise HTTPException(status_code=409, detail=str(exc)) from exc
        lang = "&lang=en" if language(request) == "en" else ""
        return RedirectResponse(f"/quarantine?entry={entry_id}&resolved={int(outcome.resolved)}{lang}", 303)

    return routes
