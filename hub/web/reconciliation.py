"""The reconciliation page: what the hub found, open or resolved, and resolving an item with a note.

Chinese by default, English with ``?lang=en``, like the rest of the dashboard.
"""

import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from hub.db import transaction
from hub.ingest.models import Sale
from hub.members import reconciliation
from hub.members.reconciliation_text import kind_text
from hub.web import i18n
from hub.web.pages import RowId, form_fields, language, page_context
from kiosk.domain.money import format_fen

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

TEXT: dict[str, dict[str, str]] = {
    "recon_title": {"zh": "对账差异", "en": "Reconciliation"},
    "recon_hint": {
        "zh": "总部复核每笔会员销售；不一致之处记录在此，销售照常入账。处理后填写说明。",
        "en": "The hub re-checks every member sale; differences are listed here and the sale stays booked. "
        "Resolve each with a note.",
    },
    "tab_open": {"zh": "待处理", "en": "Open"},
    "tab_resolved": {"zh": "已处理", "en": "Resolved"},
    "kind": {"zh": "类型", "en": "Kind"},
    "sale": {"zh": "销售单", "en": "Sale"},
    "member": {"zh": "会员", "en": "Member"},
    "expected_value": {"zh": "应为", "en": "Expected"},
    "applied_value": {"zh": "实际", "en": "Applied"},
    "note": {"zh": "处理说明", "en": "Note"},
    "resolved_by": {"zh": "处理人", "en": "By"},
    "resolved_at": {"zh": "处理时间", "en": "Resolved"},
    "resolve": {"zh": "处理", "en": "Resolve"},
    "save": {"zh": "标记为已处理", "en": "Mark resolved"},
    "note_placeholder": {"zh": "例如：已联系会员，补收¥20", "en": "e.g. called the member, collected ¥20"},
    "no_open_items": {"zh": "没有待处理的差异。", "en": "No open differences."},
    "no_resolved_items": {"zh": "还没有已处理的差异。", "en": "Nothing resolved yet."},
    "points_unit": {"zh": "积分", "en": "pts"},
    "resolved_ok": {"zh": "已标记为已处理。", "en": "Marked resolved."},
}
i18n.TEXT.update({k: v for k, v in TEXT.items() if k not in i18n.TEXT})


def _value(amount: int | None, unit: str, lang: str) -> str:
    if amount is None or not unit:
        return "–"
    if unit == "fen":
        return format_fen(amount)
    return f"{amount} {i18n.t('points_unit', lang)}"


def _unit(item: dict[str, Any]) -> str:
    unit = kind_text(item["kind"]).unit
    if item["kind"] == "negative_balance" and not item["detail"].startswith("points "):
        return "fen"  # stored value accounts are in fen
    return unit


def _rows(items: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    sale_ids = [i["sale_id"] for i in items if i["sale_id"]]
    receipts = (
        dict(Sale.select(Sale.id, Sale.receipt_no).where(Sale.id.in_(sale_ids)).tuples()) if sale_ids else {}
    )
    rows = []
    for item in items:
        name, check = kind_text(item["kind"]).text(lang)
        unit = _unit(item)
        rows.append(
            {
                **item,
                "name": name,
                "check": check,
                "receipt_no": receipts.get(item["sale_id"], ""),
                "expected_text": _value(item["expected"], unit, lang),
                "got_text": _value(item["got"], unit, lang),
            }
        )
    return rows


def router(tz: ZoneInfo) -> APIRouter:
    """``GET /reconciliation`` and ``POST /reconciliation/{id}/resolve``."""
    routes = APIRouter()

    @routes.get("/reconciliation", response_class=HTMLResponse)
    def page(request: Request, status: str = "open", kind: str | None = None) -> HTMLResponse:
        context = page_context(request, tz)
        status = "resolved" if status == "resolved" else "open"
        context |= {
            "status": status,
            "kind": kind or "",
            "counts": reconciliation.counts(),
            "rows": _rows(reconciliation.items(status, kind), context["lang"]),
            "error": request.query_params.get("error", ""),
            "done": request.query_params.get("done", ""),
        }
        return TEMPLATES.TemplateResponse(request, "reconciliation.html", context)

    @routes.post("/reconciliation/{item_id}/resolve")
    async def resolve(item_id: RowId, request: Request) -> RedirectResponse:
        form = await form_fields(request)
        note, by = form.get("note", ""), form.get("by", "").strip() or "owner"
        query = {"lang": "en"} if language(request) == "en" else {}
        try:
            with transaction():
                reconciliation.resolve_item(item_id, note, by, dt.datetime.now(dt.UTC))
        except reconciliation.ItemError as exc:
            query |= {"error": str(exc)}
            return RedirectResponse(f"/reconciliation?{urlencode(query)}#item-{item_id}", 303)
        query |= {"done": str(item_id)}
        return RedirectResponse(f"/reconciliation?{urlencode(query)}", 303)

    return routes
