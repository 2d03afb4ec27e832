"""``/audit``: the owner's audit log, newest first, with the state of its hash chain.

A broken chain is shown at the top, and the rows it breaks at are marked, so an edit made behind
the hub's back (in the database itself) is seen by the owner. Chinese by default, ``?lang=en``.
"""

import json
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from hub.accounts import audit as owner_audit
from hub.members.models import OwnerAudit
from hub.web import i18n
from hub.web.pages import page_context

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
SHOWN = 200

TEXT: dict[str, dict[str, str]] = {
    "nav_audit": {"zh": "审计日志", "en": "Audit log"},
    "audit_title": {"zh": "审计日志", "en": "Audit log"},
    "audit_ok": {
        "zh": "哈希链完整：共 {count} 条记录，未被改动。",
        "en": "Hash chain intact: {count} rows, none changed.",
    },
    "audit_broken": {
        "zh": "哈希链已断开：{n} 处记录在写入后被改动、删除或插入（见下方标红的行）。"
        "请检查数据库的访问记录。",
        "en": "Hash chain broken in {n} place(s): rows were changed, removed or inserted after they were "
        "written (marked in red below). Check who had access to the database.",
    },
    "audit_at": {"zh": "时间", "en": "Time"},
    "audit_by": {"zh": "操作人", "en": "By"},
    "audit_action": {"zh": "操作", "en": "Action"},
    "audit_subject": {"zh": "对象", "en": "Subject"},
    "audit_detail": {"zh": "内容", "en": "Detail"},
    "audit_shown": {"zh": "显示最近 {n} 条。", "en": "Showing the latest {n}."},
}
i18n.TEXT.update({k: v for k, v in TEXT.items() if k not in i18n.TEXT})


def router(tz: ZoneInfo) -> APIRouter:
    """``GET /audit``."""
    routes = APIRouter()

    @routes.get("/audit", response_class=HTMLResponse)
    def audit_page(request: Request) -> HTMLResponse:
        context = page_context(request, tz)
        count, breaks = owner_audit.verify()
        broken = {b.row: b.reason for b in breaks}
        rows = OwnerAudit.select().order_by(OwnerAudit.id.desc()).limit(SHOWN)
        context |= {
            "count": count,
            "breaks": breaks,
            "broken": broken,
            "shown": SHOWN,
            "rows": [
                {
                    "id": r.id,
                    "at": r.at,
                    "by": r.by,
                    "action": r.action,
                    "subject": r.subject,
                    "detail": json.dumps(json.loads(r.detail or "{}"), ensure_ascii=False)[:200],
                }
                for r in rows
            ],
            "fmt": lambda key, **values: i18n.t(key, context["lang"]).format(**values),
        }
        return TEMPLATES.TemplateResponse(request, "audit.html", context)

    return routes
