"""The flash sales page (秒杀 / Flash sales): each sale's product, price, window and state, its cap,
what was sold and what is left, in all and per terminal share; lines the hub found sold outside a
window (``flash_window`` reconciliation items) are counted with a link to the reconciliation page.
Sales are defined through ``POST /api/v1/flash-sales`` (docs/loyalty.md)."""

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from hub.campaigns import flash
from hub.catalog.models import CatalogProduct
from hub.members.models import Reconciliation
from hub.web.i18n import N_
from hub.web.pages import TEMPLATES, page_context
from kiosk.domain.money import format_fen

#: A flash sale's state as the page names it (hub catalog keys).
STATES = {
    "upcoming": N_("flash_state_upcoming"),
    "running": N_("flash_state_running"),
    "ended": N_("flash_state_ended"),
}


def router(tz: ZoneInfo, clock: Callable[[], dt.datetime] | None = None) -> APIRouter:
    """``GET /flash-sales``; ``clock`` (a function giving an aware now) pins the time in tests."""
    routes = APIRouter()

    @routes.get("/flash-sales", response_class=HTMLResponse)
    def page(request: Request) -> HTMLResponse:
        context = page_context(request, tz)
        now = clock() if clock else dt.datetime.now(dt.UTC)
        context["sales"] = [_row(sale, now, context["lang"]) for sale in flash.summary(now)]
        return TEMPLATES.TemplateResponse(request, "flash_sales.html", context)

    return routes


def _row(sale: dict[str, Any], now: dt.datetime, lang: str) -> dict[str, Any]:
    """One flash sale as the page shows it."""
    product = CatalogProduct.get_or_none(CatalogProduct.sku == sale["sku"])
    name = sale["sku"]
    if product is not None:
        name = (product.name_en if lang == "en" and product.name_en else product.name_zh) or name
    at = now.astimezone(dt.UTC).isoformat(timespec="seconds")
    state = "upcoming" if at < sale["starts_at"] else "running" if at < sale["ends_at"] else "ended"
    shares = [
        {"device": device, "share": share, "sold": sale["sold"].get(device, 0),
         "left": max(share - sale["sold"].get(device, 0), 0)}
        for device, share in sorted(sale["allocations"].items())
    ]  # fmt: skip
    outside = (
        Reconciliation.select()
        .where(
            Reconciliation.kind == "flash_window",
            Reconciliation.detail.startswith(f"flash sale {sale['id']} "),
        )
        .count()
    )
    return sale | {
        "name": name, "price": format_fen(sale["price_fen"]),
        "normal": format_fen(product.price_fen) if product is not None else "",
        "state": STATES[state], "running": state == "running", "shares": shares,
        "left": max(sale["cap"] - sale["sold_total"], 0), "outside": outside,
    }  # fmt: skip
