"""Member pages of the dashboard: the member list with the owner's attribute definitions, and one
member's profile with tags and attribute values the owner can edit.

Personal data is shown masked (138****1234, 张*); without the business key the
hub cannot read it and shows a dash. Chinese by default, English with ``?lang=en``.
"""

import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from hub.campaigns import runs as campaigns
from hub.db import transaction
from hub.members import attributes as member_attributes
from hub.members import expiry_reminders, reconciliation
from hub.members import ledger as loyalty
from hub.members.book import consent_record, settings
from hub.members.models import HubMember
from hub.members.reconciliation_text import kind_text
from hub.web.i18n import N_
from hub.web.pages import TEMPLATES, form_fields, language, page_context
from kiosk.domain.loyalty import mask_name, mask_phone
from kiosk.domain.loyalty.attributes import AttributeSpec, split_tags
from kiosk.domain.loyalty.errors import InvalidAttribute
from kiosk.domain.loyalty.tiers import tier_by_code
from kiosk.store.pii import PiiError

#: The attribute types the owner picks from, each shown as ``type_{type}``.
ATTRIBUTE_TYPES = {
    "text": N_("type_text"),
    "number": N_("type_number"),
    "date": N_("type_date"),
    "choice": N_("type_choice"),
}


def _clear(member: HubMember, field: str) -> str:
    """A personal field decrypted, or '' without key, value or a readable ciphertext."""
    token = getattr(member, f"{field}_enc")
    if not token or settings.key is None:
        return ""
    try:
        return settings.key.decrypt(token, f"{member.id}:{field}")
    except PiiError:
        return ""


def _summary(member: HubMember) -> dict[str, Any]:
    phone, name = _clear(member, "phone"), _clear(member, "name")
    return {
        "id": member.id,
        "phone": mask_phone(phone) if phone else "–",
        "name": mask_name(name) if name else "–",
        "tier": tier_by_code(member.tier_code, settings.rules.tiers).name_zh,
        "home_store": member.home_store or "–",
        "created_at": member.created_at,
        "merged_into": member.merged_into,
        "erased": member.erased_at is not None,
    }


def _label(spec: AttributeSpec, lang: str) -> str:
    return (spec.label_en or spec.label_zh) if lang == "en" else spec.label_zh


def router(tz: ZoneInfo, pinned_day: Callable[[], dt.date] | None = None) -> APIRouter:
    """``/members`` (list, define attributes, expiring points) and ``/members/{id}`` (profile, edit).

    ``pinned_day`` pins the shop's date in tests, as in :func:`hub.web.app.create_app`.
    """
    routes = APIRouter()

    def members_page(
        request: Request, form: dict[str, str], problems: list[str], status: int
    ) -> HTMLResponse:
        context = page_context(request, tz)
        lang = context["lang"]
        query = (
            HubMember.select().where(HubMember.merged_into.is_null()).order_by(HubMember.created_at.desc())
        )
        rows = []
        for member in query.limit(100):
            rows.append(
                {
                    **_summary(member),
                    "tags": member_attributes.member_tags(member.id),
                    "points": loyalty.member_balances(member.id).get("points", 0),
                }
            )
        specs = member_attributes.attribute_specs()
        context |= {
            "rows": rows,
            "specs": [(s, _label(s, lang)) for s in specs],
            "form": form,
            "problems": problems,
            "types": list(ATTRIBUTE_TYPES),
        }
        return TEMPLATES.TemplateResponse(request, "members.html", context, status_code=status)

    @routes.get("/members", response_class=HTMLResponse)
    def members(request: Request) -> HTMLResponse:
        return members_page(request, {"type": "text"}, [], 200)

    @routes.post("/members/attributes", response_class=HTMLResponse, response_model=None)
    async def define(request: Request) -> HTMLResponse | RedirectResponse:
        form = await form_fields(request)
        raw = {
            "code": form.get("code", "").strip(),
            "label_zh": form.get("label_zh", "").strip(),
            "label_en": form.get("label_en", "").strip(),
            "type": form.get("type", ""),
            "options": [
                o.strip() for o in form.get("options", "").replace("，", ",").split(",") if o.strip()
            ],
        }
        try:
            spec = AttributeSpec.model_validate(raw)
            with transaction():
                member_attributes.define_attribute(
                    spec, form.get("by", "").strip() or "owner", dt.datetime.now(dt.UTC)
                )
        except ValidationError as exc:
            return members_page(request, form, campaigns.explain(exc, "attribute").splitlines(), 422)
        except member_attributes.AttributeErrors as exc:
            return members_page(request, form, list(exc.problems.values()), 422)
        query = {"lang": "en"} if language(request) == "en" else {}
        return RedirectResponse(f"/members?{urlencode(query)}#attributes", 303)

    def member_page(
        request: Request, member_id: str, form: dict[str, str] | None, problems: dict[str, str], status: int
    ) -> HTMLResponse:
        member = HubMember.get_or_none(HubMember.id == member_id)
        if member is None:
            raise HTTPException(404, f"no member {member_id} / 会员不存在")
        context = page_context(request, tz)
        lang = context["lang"]
        values = member_attributes.member_attributes(member_id)
        tags = ", ".join(member_attributes.member_tags(member_id))
        shown = form if form is not None else {"tags": tags, **{f"attr.{k}": v for k, v in values.items()}}
        items = [
            {**i, "name": kind_text(i["kind"]).text(lang)[0]}
            for i in reconciliation.items("open")
            if i["member_id"] == member_id
        ]
        context |= {
            "m": _summary(member),
            "balances": loyalty.member_balances(member_id),
            "specs": [(s, _label(s, lang)) for s in member_attributes.attribute_specs()],
            "form": shown,
            "problems": problems,
            "coupons": campaigns.member_coupons(member_id),
            "consent": consent_record(member),
            "source": member.source,
            "items": items,
            "saved": request.query_params.get("saved") == "1",
        }
        return TEMPLATES.TemplateResponse(request, "member.html", context, status_code=status)

    def today() -> dt.date:
        return pinned_day() if pinned_day else dt.datetime.now(tz).date()

    @routes.get("/api/v1/points/expiring", tags=["members"])
    def expiring_api(days: int = 30, on: dt.date | None = None) -> list[dict[str, Any]]:
        """Members whose points expire after ``on`` (default today) and within ``days`` days."""
        return [
            {"member_id": r.member_id, "expires_on": r.expires_on.isoformat(), "points": r.points}
            for r in expiry_reminders.expiring_points(on or today(), days)
        ]

    @routes.get("/members/expiring", response_class=HTMLResponse)
    def expiring_page(request: Request, days: str = "30") -> HTMLResponse:
        context = page_context(request, tz)
        span = int(days) if days.isdigit() and 0 < int(days) <= 366 else 30
        reminders = expiry_reminders.expiring_points(today(), span)
        people = {
            m.id: _summary(m)
            for m in HubMember.select().where(HubMember.id.in_([r.member_id for r in reminders]))
        }
        context |= {
            "days": span,
            "bad_days": days != str(span),
            "rows": [{"r": r, "m": people[r.member_id]} for r in reminders],
            "never": not settings.rules.expiry.months,
            "total": sum(r.points for r in reminders),
        }
        return TEMPLATES.TemplateResponse(request, "expiring.html", context)

    @routes.get("/members/{member_id}", response_class=HTMLResponse)
    def member(member_id: str, request: Request) -> HTMLResponse:
        return member_page(request, member_id, None, {}, 200)

    @routes.post("/members/{member_id}", response_class=HTMLResponse, response_model=None)
    async def save(member_id: str, request: Request) -> HTMLResponse | RedirectResponse:
        form = await form_fields(request)
        if HubMember.get_or_none(HubMember.id == member_id) is None:
            raise HTTPException(404, f"no member {member_id} / 会员不存在")
        values = {k.removeprefix("attr."): v for k, v in form.items() if k.startswith("attr.")}
        by = form.get("by", "").strip() or "owner"
        problems: dict[str, str] = {}
        try:
            tags = split_tags(form.get("tags", ""))
        except InvalidAttribute as exc:
            problems["tags"], tags = str(exc), []
        try:
            member_attributes.checked_values(values)
        except member_attributes.AttributeErrors as exc:
            problems |= exc.problems
        if problems:
            return member_page(request, member_id, form, problems, 422)
        now = dt.datetime.now(dt.UTC)
        with transaction():
            member_attributes.set_tags(member_id, tags, by, now)
            member_attributes.set_attributes(member_id, values, by, now)
        query = {"saved": "1"} | ({"lang": "en"} if language(request) == "en" else {})
        return RedirectResponse(f"/members/{member_id}?{urlencode(query)}", 303)

    return routes
