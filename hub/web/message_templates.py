"""The message templates page (``/messages/templates``): the owner edits the texts members receive,
per campaign kind and channel, in Chinese and English, sees them filled in for a sample member
before saving, and every save is a new, audited version (:mod:`hub.messaging.templates`).

``?store=S01`` edits a store's own texts, which its members receive instead of the texts for every
store (campaigns reach chosen stores, ``campaign.stores``). The owner edits both; a manager only
their stores' texts: the texts for every store or another store's answer 403.
"""

import datetime as dt
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from hub.db import transaction
from hub.jobs import settings as job_settings
from hub.members.models import HubMember
from hub.messaging import templates
from hub.web import i18n
from hub.web.auth import visible_stores
from hub.web.i18n import N_
from hub.web.pages import TEMPLATES, form_fields, language, page_context

FIELDS = ("subject_zh", "subject_en", "body_zh", "body_en")
# the keys the template builds from a field's and a language's name
FIELD_NAMES = (N_("tpl_field_subject_zh"), N_("tpl_field_subject_en"), N_("tpl_field_body_zh"),
               N_("tpl_field_body_en"))  # fmt: skip
LANG_NAMES = (N_("tpl_lang_zh"), N_("tpl_lang_en"))


def _store(request: Request) -> str:
    """The store whose texts are asked for ("" every store); 403 for one beyond a manager's stores."""
    store = request.query_params.get("store", "").strip()
    mine = visible_stores(request)
    if mine is not None and not store:
        store = min(mine)  # a manager edits their own store's texts
    if mine is not None and store not in mine:
        mine_text = ",".join(sorted(mine))
        raise HTTPException(
            403, f"choose one of your stores: ?store={mine_text} / 店长只能编辑自己门店的消息（{mine_text}）"
        )
    return store


def _stores(request: Request) -> list[str]:
    """The stores the caller may choose from: the members' stores (the owner), or a manager's own."""
    mine = visible_stores(request)
    if mine is not None:
        return sorted(mine)
    found = HubMember.select(HubMember.home_store).where(HubMember.home_store != "").distinct()
    return sorted(s for (s,) in found.tuples())


def _known(kind: str, channel: str) -> None:
    if kind not in templates.KINDS or channel not in templates.CHANNELS:
        raise HTTPException(404, f"no message template {kind}/{channel} / 没有该消息模板")


def preview(kind: str, channel: str, texts: templates.Texts, shop: str) -> dict[str, dict[str, str]]:
    """Each language's message for the sample member, as the member receives it (an SMS with the
    shop's signature and its length in segments)."""
    done = templates.compose(kind, channel, templates.sample_facts(), shop, texts)
    out = {}
    for lang in templates.LANGS:
        body = done.body_en if lang == "en" else done.body_zh
        if channel == "sms":
            sent = templates.sms_as_sent(body, shop)
            out[lang] = {"subject": "", "body": sent, "length": str(len(sent)),
                         "segments": str(templates.sms_segments(sent))}  # fmt: skip
        else:
            out[lang] = {"subject": done.subject_en if lang == "en" else done.subject_zh, "body": body}
    return out


def _overview(shop: str, lang: str, store: str) -> list[dict[str, Any]]:
    rows = []
    for kind in templates.KINDS:
        for channel in templates.CHANNELS:
            texts = templates.current(kind, channel, store)
            rows.append({
                "kind": kind, "channel": channel, "texts": texts,
                "kind_name": i18n.t(templates.KIND_NAMES[kind], lang),
                "channel_name": i18n.t(templates.CHANNEL_NAMES[channel], lang),
                "sample": preview(kind, channel, texts, shop)[lang]["body"],
            })  # fmt: skip
    return rows


def router(tz: ZoneInfo) -> APIRouter:
    """``GET /messages/templates``, ``GET|POST /messages/templates/{kind}/{channel}``."""
    routes = APIRouter()

    @routes.get("/messages/templates", response_class=HTMLResponse)
    def overview(request: Request) -> HTMLResponse:
        context = page_context(request, tz)
        shop = job_settings.get("shop_name")
        store = _store(request)
        context |= {"title_key": "tpl_title", "rows": _overview(shop, context["lang"], store), "store": store,
                    "stores": _stores(request), "owner": visible_stores(request) is None,
                    "saved": request.query_params.get("saved", "")}  # fmt: skip
        return TEMPLATES.TemplateResponse(request, "message_templates.html", context)

    def editor(
        request: Request, kind: str, channel: str, texts: templates.Texts, found: list[templates.Problem],
        status: int = 200,
    ) -> HTMLResponse:  # fmt: skip
        context = page_context(request, tz)
        lang = context["lang"]
        shop = job_settings.get("shop_name")
        store = _store(request)
        context |= {
            "title_key": "tpl_title",
            "store": store,
            "kind": kind,
            "channel": channel,
            "kind_name": i18n.t(templates.KIND_NAMES[kind], lang),
            "channel_name": i18n.t(templates.CHANNEL_NAMES[channel], lang),
            "texts": texts,
            "problems": [(p.field, p.text(lang)) for p in found],
            "preview": preview(kind, channel, texts, shop) if not found else {},
            "versions": templates.versions(kind, channel, store),
            "placeholders": templates.PLACEHOLDERS,
            "budget": templates.SMS_SEGMENTS,
            "shop": shop,
        }
        return TEMPLATES.TemplateResponse(request, "message_template.html", context, status_code=status)

    @routes.get("/messages/templates/{kind}/{channel}", response_class=HTMLResponse)
    def edit(request: Request, kind: str, channel: str) -> HTMLResponse:
        _known(kind, channel)
        return editor(request, kind, channel, templates.current(kind, channel, _store(request)), [])

    @routes.post("/messages/templates/{kind}/{channel}", response_class=HTMLResponse, response_model=None)
    async def save(request: Request, kind: str, channel: str) -> HTMLResponse | RedirectResponse:
        _known(kind, channel)
        store = _store(request)
        form = await form_fields(request)
        typed = templates.Texts(*(form.get(f, "").replace("\r\n", "\n") for f in FIELDS))
        shop = job_settings.get("shop_name")
        found = templates.problems(channel, typed, shop)
        if found or form.get("action") != "save":
            return editor(request, kind, channel, typed, found, 422 if found else 200)
        with transaction():
            now = dt.datetime.now(dt.UTC)
            version = templates.save(kind, channel, typed, shop, form.get("by") or "owner", now, store)
        query = {"saved": f"{kind}/{channel}/{version}"} | ({"store": store} if store else {})
        query |= {"lang": "en"} if language(request) == "en" else {}
        return RedirectResponse(f"/messages/templates?{urlencode(query)}#tpl-{kind}-{channel}", 303)

    return routes
