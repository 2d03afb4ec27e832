"""``/members/register``: the front desk registers a member on the dashboard, with the privacy
consent the member gives there and the separate, optional marketing consent (PIPL: never bundled).

The same registration as ``POST /api/v1/members`` (:func:`hub.members.book.register_at_hub`): a
phone that is already a member opens that member and changes nothing. A manager registers into
their own stores only.
"""

import datetime as dt
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from hub.accounts import audit as owner_audit
from hub.db import transaction
from hub.members.book import register_at_hub
from hub.members.models import HubMember
from hub.messaging import queue as messages
from hub.web.auth import visible_stores
from hub.web.i18n import N_, t
from hub.web.pages import TEMPLATES, form_fields, language, page_context
from kiosk.domain.loyalty import InvalidPhone
from kiosk.domain.loyalty.registration import CONSENT_VERSION, MARKETING_VERSION, consent_text
from kiosk.store.pii import PiiError

WHERE = "hub/front-desk"
NAME_MAX = 20
EMAIL_MAX = 200


def _problems(form: dict[str, str], stores: list[str]) -> dict[str, str]:
    """Field -> catalog key of what is wrong (the phone is checked by the registration itself)."""
    found = {}
    if not form.get("phone", "").strip():
        found["phone"] = N_("register_bad_phone")
    if len(form.get("name", "").strip()) > NAME_MAX:
        found["name"] = N_("register_bad_name")
    born = form.get("birthday", "").strip()
    if born:
        try:
            day = dt.date.fromisoformat(born)
            if not dt.date(1900, 1, 1) <= day <= dt.date.today():
                raise ValueError(born)
        except ValueError:
            found["birthday"] = N_("register_bad_birthday")
    if form.get("home_store", "") not in stores:
        found["home_store"] = N_("register_bad_store")
    email = form.get("email", "").strip()
    if email and (len(email) > EMAIL_MAX or "@" not in email or any(c.isspace() for c in email)):
        found["email"] = N_("register_bad_email")
    if form.get("consent") != "yes":
        found["consent"] = N_("register_need_consent")
    return found


def router(tz: ZoneInfo) -> APIRouter:
    """``GET`` and ``POST /members/register`` (include before ``/members/{member_id}``)."""
    routes = APIRouter()

    def stores_for(request: Request) -> list[str]:
        mine = visible_stores(request)
        if mine is not None:
            return sorted(mine)
        known = {m.home_store for m in HubMember.select(HubMember.home_store).distinct() if m.home_store}
        return sorted(known) or ["S01"]

    def page(request: Request, form: dict[str, str], problems: dict[str, str], status: int) -> HTMLResponse:
        context: dict[str, Any] = page_context(request, tz)
        lang = context["lang"]
        context |= {
            "form": form,
            "problems": {field: t(key, lang) for field, key in problems.items()},
            "stores": stores_for(request),
            "consent_text": consent_text(lang),
            "name_max": NAME_MAX,
        }
        return TEMPLATES.TemplateResponse(request, "member_register.html", context, status_code=status)

    @routes.get("/members/register", response_class=HTMLResponse)
    def register_form(request: Request) -> HTMLResponse:
        return page(request, {"home_store": stores_for(request)[0]}, {}, 200)

    @routes.post("/members/register", response_class=HTMLResponse, response_model=None)
    async def register(request: Request) -> HTMLResponse | RedirectResponse:
        form = await form_fields(request)
        typed = {k: form.get(k, "").strip() for k in ("phone", "name", "birthday", "home_store", "email")}
        typed |= {"consent": form.get("consent", ""), "marketing": form.get("marketing", "")}
        problems = _problems(typed, stores_for(request))
        if problems:
            return page(request, typed, problems, 422)
        now = dt.datetime.now(dt.UTC)
        born = dt.date.fromisoformat(typed["birthday"]) if typed["birthday"] else None
        try:
            with transaction():
                done = register_at_hub(typed["phone"], typed["name"], born, (CONSENT_VERSION, WHERE),
                                       typed["home_store"], now)  # fmt: skip
                if done.created:
                    owner_audit.record(form["by"], "member.registered", f"member:{done.member_id}", now)
                    # asked separately every time; unticked is a recorded "no", not "not asked"
                    agreed = typed["marketing"] == "yes"
                    messages.set_consent(done.member_id, agreed, MARKETING_VERSION, WHERE, form["by"], now,
                                         email=typed["email"] or None)  # fmt: skip
        except InvalidPhone:
            return page(request, typed, {"phone": N_("register_bad_phone")}, 422)
        except PiiError:
            return page(request, typed, {"phone": N_("register_no_key")}, 503)
        query = {"registered": "1" if done.created else "existing"}
        query |= {"lang": "en"} if language(request) == "en" else {}
        return RedirectResponse(f"/members/{done.member_id}?{urlencode(query)}", 303)

    return routes
