"""``/audit``: the owner's audit log, newest first, with the state of its hash chain.

A broken chain is shown at the top, and the rows it breaks at are marked, so an edit made behind
the hub's back (in the database itself) is seen by the owner. Chinese by default, ``?lang=en``.
"""

import json
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from hub.accounts import audit as owner_audit
from hub.members.models import OwnerAudit
from hub.web.pages import TEMPLATES, page_context

SHOWN = 200


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
        }
        return TEMPLATES.TemplateResponse(request, "audit.html", context)

    return routes
