"""The reconciliation page: what the hub found, open or resolved, and resolving an item with a note.

Chinese by default, English with ``?lang=en``, like the rest of the dashboard.
"""

import datetime as dt
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from hub.db import transaction
from hub.ingest.models import Sale
from hub.members import reconciliation
from hub.members.reconciliation_text import kind_text
from hub.web import i18n
from hub.web.pages import TEMPLATES, RowId, form_fields, language, page_context
from kiosk.domain.money import format_fen


def _value(amount: int | None, unit: str, lang: str) -> str:
    if amount is None or not unit:
        return "–"
    if unit == "fen":
        return format_fen(amount)
    points = i18n.t("points_unit", lang)
    return f"{amount} {points}"


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
