"""The count card kinds page (次卡种类 / Count cards): the kinds the terminals sell, a form to add
or change one (name zh/en, visits, price in yuan, validity in days, the services a visit covers,
the stores that sell it) and a remove button. Owners edit every kind, managers their stores'
(:mod:`hub.rules.count_card_kinds`); a refused form comes back with what was typed and every
problem in zh-CN and English."""

import datetime as dt
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from hub.db import transaction
from hub.rules import count_card_kinds as kinds_store
from hub.rules.store import RulesRefused
from hub.web import auth, i18n
from hub.web.pages import TEMPLATES, form_fields, language, page_context
from kiosk.domain.money import format_fen

FIELDS = ("sku", "name_zh", "name_en", "visits", "price", "valid_days", "services", "stores")


def router(tz: ZoneInfo) -> APIRouter:
    """``GET /count-cards``, ``POST /count-cards`` (add or change), ``POST /count-cards/remove``."""
    routes = APIRouter()

    def render(
        request: Request,
        form: dict[str, str] | None = None,
        problems: list[str] | None = None,
        status: int = 200,
    ) -> HTMLResponse:
        context = page_context(request, tz)
        mine = auth.visible_stores(request)
        version, kinds = kinds_store.kinds()
        banner = ""
        if "saved" in request.query_params:
            banner = i18n.t("rules_saved", context["lang"]).format(version=request.query_params["saved"])
        context |= {
            "version": version,
            "kinds": [
                {"kind": k, "price": format_fen(k.price_fen), "editable": kinds_store.editable(k, mine)}
                for k in kinds
            ],
            "form": form or {},
            "problems": problems or [],
            "banner": banner,
            "mine": ", ".join(sorted(mine)) if mine is not None else "",
        }
        return TEMPLATES.TemplateResponse(request, "count_cards.html", context, status_code=status)

    @routes.get("/count-cards", response_class=HTMLResponse)
    def page(request: Request) -> HTMLResponse:
        return render(request)

    @routes.post("/count-cards", response_class=HTMLResponse, response_model=None)
    async def save(request: Request) -> HTMLResponse | RedirectResponse:
        """Add a kind, or change the one with the same sku."""
        typed = await form_fields(request)
        form = {k: typed.get(k, "").strip() for k in FIELDS}
        try:
            with transaction():
                version = kinds_store.put_kind(form, auth.visible_stores(request), _by(request), _now())
        except RulesRefused as exc:
            return render(request, form, exc.problems, 422)
        return _saved(version, language(request))

    @routes.post("/count-cards/remove", response_class=HTMLResponse, response_model=None)
    async def remove(request: Request) -> HTMLResponse | RedirectResponse:
        """Take a kind off the list; cards already sold keep their visits."""
        sku = (await form_fields(request)).get("sku", "").strip()
        try:
            with transaction():
                version = kinds_store.remove_kind(sku, auth.visible_stores(request), _by(request), _now())
        except RulesRefused as exc:
            return render(request, None, exc.problems, 422)
        return _saved(version, language(request))

    return routes


def _by(request: Request) -> str:
    who = auth.principal(request)
    return who.name if who is not None else "owner"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _saved(version: int, lang: str) -> RedirectResponse:
    query = {"saved": str(version)} | ({"lang": "en"} if lang == "en" else {})
    return RedirectResponse(f"/count-cards?{urlencode(query)}", 303)
