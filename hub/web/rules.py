"""The rules page (规则与等级 / Rules & tiers): the tier ladder, the rules in plain words, the
holidays with this year's dates, and an edit form (validated JSON, every error named in zh/en)."""

import datetime as dt
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from hub.db import transaction
from hub.rules import rewards as rewards_store
from hub.rules import store as rules_store
from hub.rules import words as rules_words
from hub.web import i18n
from hub.web.pages import TEMPLATES, form_fields, language, page_context


def router(tz: ZoneInfo, today: Callable[[], dt.date] | None = None) -> APIRouter:
    """``GET /rules`` (the page) and ``POST /rules`` (save the edited JSON); ``today`` picks the
    year whose holiday dates are shown (tests pin it)."""
    routes = APIRouter()

    def render(
        request: Request,
        text: str | None,
        by: str,
        problems: list[str],
        status: int = 200,
        reward_form: dict[str, str] | None = None,
        reward_problems: list[str] | None = None,
    ) -> HTMLResponse:
        context = page_context(request, tz)
        lang = context["lang"]
        version, rules = rules_store.current()
        saved = rules_store.history()[-1:] if version else []
        year = (today() if today else dt.datetime.now(tz).date()).year
        banner = ""
        if "saved" in request.query_params:
            banner = i18n.t("rules_saved", lang).format(version=request.query_params["saved"])
        context |= {
            "version": version,
            "saved": saved[0] if saved else None,
            "tiers": rules_words.tier_rows(rules.tiers, lang),
            "tier_words": rules_words.tier_words(rules.tiers, lang),
            "sections": rules_words.summary(rules, lang),
            "holidays": rules_words.holiday_rows(rules.holidays, year, lang),
            "year": year,
            "text": text if text is not None else _pretty(rules.model_dump(mode="json")),
            "by": by,
            "problems": problems,
            "banner": banner,
            "rewards": rules.rewards,
            "reward_form": reward_form or {},
            "reward_problems": reward_problems or [],
        }
        return TEMPLATES.TemplateResponse(request, "rules.html", context, status_code=status)

    @routes.get("/rules", response_class=HTMLResponse)
    def page(request: Request) -> HTMLResponse:
        return render(request, None, "owner", [])

    @routes.post("/rules", response_class=HTMLResponse, response_model=None)
    async def save(request: Request) -> HTMLResponse | RedirectResponse:
        form = await form_fields(request)
        text, by = form.get("rules", ""), form.get("by", "").strip()
        lang = language(request)
        try:
            body: Any = json.loads(text)
        except json.JSONDecodeError as exc:
            where = " / ".join(i18n.t("rules_not_json", each) for each in ("zh", "en"))
            return render(request, text, by, [f"rules: {where} (line {exc.lineno}, column {exc.colno})"], 422)
        try:
            with transaction():
                version = rules_store.save_rules(body, by, dt.datetime.now(dt.UTC))
        except rules_store.RulesRefused as exc:
            return render(request, text, by, exc.problems, 422)
        return _saved(version, lang)

    @routes.post("/rules/rewards", response_class=HTMLResponse, response_model=None)
    async def save_reward(request: Request) -> HTMLResponse | RedirectResponse:
        """Add a reward to the list, or change the one with the same id."""
        form = await form_fields(request)
        item: dict[str, Any] = {k: form.get(k, "").strip() for k in ("id", "name_zh", "name_en", "points")}
        try:
            with transaction():
                version = rewards_store.put_reward(item, form.get("by", ""), dt.datetime.now(dt.UTC))
        except rules_store.RulesRefused as exc:
            return render(request, None, form.get("by", ""), [], 422, item, exc.problems)
        return _saved(version, language(request), "rewards")

    @routes.post("/rules/rewards/remove", response_class=HTMLResponse, response_model=None)
    async def remove_reward(request: Request) -> RedirectResponse:
        """Take a reward off the list."""
        form = await form_fields(request)
        with transaction():
            version = rewards_store.remove_reward(
                form.get("id", ""), form.get("by", ""), dt.datetime.now(dt.UTC)
            )
        return _saved(version, language(request), "rewards")

    return routes


def _saved(version: int, lang: str, anchor: str = "") -> RedirectResponse:
    query = {"saved": str(version)} | ({"lang": "en"} if lang == "en" else {})
    return RedirectResponse(f"/rules?{urlencode(query)}" + (f"#{anchor}" if anchor else ""), 303)


def _pretty(body: dict[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False, indent=2, sort_keys=True)
