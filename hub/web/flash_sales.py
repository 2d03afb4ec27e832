"""The flash sales page (秒杀 / Flash sales): each sale's product, price, window and state, its cap,
what was sold and what is left, in all and per terminal share; lines the hub found sold outside a
window (``flash_window`` reconciliation items) are counted with a link to the reconciliation page.
A form below defines a new sale (as ``POST /api/v1/flash-sales`` does): what a person typed is
checked here (id, price in yuan, cap, local start and end, terminals), the rest by
:func:`hub.campaigns.flash.define`; every problem comes back in zh-CN and English with the values
typed (docs/loyalty.md)."""

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from hub.campaigns import flash
from hub.catalog.models import CatalogProduct
from hub.catalog.prices import store_of_device
from hub.catalog.releases import known_devices
from hub.db import transaction
from hub.fleet.devices import StoreBook
from hub.members.models import Reconciliation
from hub.web import auth
from hub.web.i18n import N_, t
from hub.web.pages import TEMPLATES, form_fields, language, page_context
from kiosk.domain.money import format_fen, parse_yuan

FIELDS = ("id", "sku", "price", "cap", "starts", "ends", "devices")
CODE = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")

#: A flash sale's state as the page names it (hub catalog keys).
STATES = {
    "upcoming": N_("flash_state_upcoming"),
    "running": N_("flash_state_running"),
    "ended": N_("flash_state_ended"),
}


def router(tz: ZoneInfo, data_dir: Path, clock: Callable[[], dt.datetime] | None = None) -> APIRouter:
    """``GET /flash-sales`` and ``POST /flash-sales`` (define one); ``clock`` (a function giving an
    aware now) pins the time in tests. A manager sees and defines only sales whose terminals all
    sell for their stores (the device registry in ``data_dir`` places them)."""
    routes = APIRouter()
    book = StoreBook(data_dir)

    def store_of(device: str) -> str | None:
        return store_of_device(device, [book])

    def now() -> dt.datetime:
        return clock() if clock else dt.datetime.now(dt.UTC)

    def render(
        request: Request,
        form: dict[str, str] | None = None,
        problems: list[str] | None = None,
        status: int = 200,
    ) -> HTMLResponse:
        context = page_context(request, tz)
        stores = auth.visible_stores(request)
        context["sales"] = [
            _row(sale, now(), context["lang"])
            for sale in flash.summary(now())
            if stores is None or flash.within(sale, stores, store_of)
        ]
        context |= {
            "form": form or {},
            "problems": problems or [],
            "saved": request.query_params.get("saved", ""),
        }
        return TEMPLATES.TemplateResponse(request, "flash_sales.html", context, status_code=status)

    @routes.get("/flash-sales", response_class=HTMLResponse)
    def page(request: Request) -> HTMLResponse:
        return render(request)

    @routes.post("/flash-sales", response_class=HTMLResponse, response_model=None)
    async def define(request: Request) -> HTMLResponse | RedirectResponse:
        """Define a flash sale from the form; its shares reach the terminals with the next config publish."""
        typed = await form_fields(request)
        form = {k: typed.get(k, "").strip() for k in FIELDS}
        problems, values = _parse(form, tz)
        stores = auth.visible_stores(request)
        if not problems and stores is not None:
            try:
                flash.check_reach(values["devices"], stores, store_of)
            except flash.FlashSaleRefused as exc:
                return render(request, form, [str(exc)], 403)
        if not problems:
            who = auth.principal(request)
            values["devices"] = values["devices"] or known_devices()  # none named: every terminal
            try:
                with transaction():
                    flash.define(**values, by=who.name if who else "owner", now=now())
            except flash.FlashSaleRefused as exc:
                problems = [str(exc)]
        if problems:
            return render(request, form, problems, 422)
        query = f"?saved={form['id']}" + ("&lang=en" if language(request) == "en" else "")
        return RedirectResponse(f"/flash-sales{query}", 303)

    return routes


def _both(field: str, key: str) -> str:
    return f"{field}: {t(key, 'zh')} / {t(key, 'en')}"


def _parse(form: dict[str, str], tz: ZoneInfo) -> tuple[list[str], dict[str, Any]]:
    """The form as :func:`flash.define`'s arguments, or the problems (zh/en, field named)."""
    problems, values = [], {}
    if not CODE.match(form["id"]):
        problems.append(_both("id", N_("cc_problem_code")))
    values["sale_id"], values["sku"] = form["id"], form["sku"]
    try:
        values["price_fen"] = int(parse_yuan(form["price"]))
    except ValueError:
        problems.append(_both("price", N_("cc_problem_price")))
    values["cap"] = int(form["cap"]) if form["cap"].isdigit() and len(form["cap"]) <= 7 else 0
    if values["cap"] < 1:
        problems.append(_both("cap", N_("flash_problem_cap")))
    for field, key in (("starts", "starts_at"), ("ends", "ends_at")):
        try:
            values[key] = dt.datetime.fromisoformat(form[field]).replace(tzinfo=tz)
        except ValueError:
            problems.append(_both(field, N_("flash_problem_time")))
    devices = [d for d in re.split(r"[,，\s]+", form["devices"]) if d]
    if any(not CODE.match(d) for d in devices):
        problems.append(_both("devices", N_("cc_problem_code")))
    values["devices"] = devices  # as named; none is every terminal, the owner's choice alone
    return problems, values


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
