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
from hub.catalog.models import CatalogProduct
from hub.db import transaction
from hub.ingest.models import Sale, SaleLine
from hub.jobs import settings as job_settings
from hub.members import attributes as member_attributes
from hub.members import details as member_details
from hub.members import expiry_reminders, reconciliation, tag_rules
from hub.members import ledger as loyalty
from hub.members.book import consent_record, settings
from hub.members.models import HubCard, HubLedgerEntry, HubMember, MemberSale, MemberTag
from hub.members.reconciliation_text import kind_text
from hub.members.settings import member_birthday
from hub.messaging import deliveries
from hub.messaging import queue as messages
from hub.reports import members as analysis
from hub.web import messages as messages_web
from hub.web.auth import visible_stores
from hub.web.i18n import N_, t
from hub.web.pages import TEMPLATES, form_fields, language, page_context
from kiosk.domain.loyalty import mask_name, mask_phone
from kiosk.domain.loyalty.attributes import AttributeSpec, split_tags
from kiosk.domain.loyalty.errors import InvalidAttribute
from kiosk.domain.loyalty.phone import normalize_phone
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


PAGE_SIZE = 50
PROFILE_ROWS = 30  # the newest purchases and ledger entries a profile shows
FILTERS = (
    "q",
    "tier",
    "tag",
    "store",
    "segment",
    "rfm",
    "birthday_month",
    "away_days",
    "page",
)


# a tag rule's field the owner got wrong -> what to write instead
TAG_RULE_PROBLEMS = {
    "tag": N_("tag_rule_bad_tag"),
    "scope": N_("tag_rule_bad_scope"),
    "value": N_("tag_rule_bad_value"),
    "times": N_("tag_rule_bad_times"),
    "days": N_("tag_rule_bad_days"),
}
TAG_RULE_SCOPES = (N_("tag_rule_scope_category"), N_("tag_rule_scope_product"))


def _tag_rule_problems(exc: ValidationError, lang: str) -> list[str]:
    wrong = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
    return [t(key, lang) for field, key in TAG_RULE_PROBLEMS.items() if field in wrong] or [
        t("tag_rule_bad_tag", lang)
    ]


# the keys the template builds from a ledger entry's kind
ENTRY_NAMES = (
    N_("entry_earn"), N_("entry_redeem"), N_("entry_expire"), N_("entry_adjust"), N_("entry_top_up"),
    N_("entry_spend"), N_("entry_refund_reversal"), N_("entry_merge"),
)  # fmt: skip
# the keys the template builds from a segment or an RFM group
SEGMENT_NAMES = (N_("segment_active"), N_("segment_dormant"), N_("segment_churned"), N_("segment_new"))
RFM_NAMES = (
    N_("rfm_important_value"),
    N_("rfm_important_develop"),
    N_("rfm_important_keep"),
    N_("rfm_important_winback"),
    N_("rfm_general_value"),
    N_("rfm_general_develop"),
    N_("rfm_general_keep"),
    N_("rfm_general_winback"),
)


def _rhythm_fields(rhythm: analysis.Thresholds) -> dict[str, str]:
    def number(value: float) -> str:
        return f"{value:g}"

    return {
        "dormant": number(rhythm.dormant_after),
        "churned": number(rhythm.churned_after),
        "default_days": str(rhythm.default_days),
    }


def _members() -> list[HubMember]:
    return list(
        HubMember.select()
        .where(HubMember.merged_into.is_null(), HubMember.erased_at.is_null())
        .order_by(HubMember.created_at.desc(), HubMember.id)
    )


def count_card_rows(member_id: str, balances: dict[str, int], lang: str) -> list[tuple[str, str, int]]:
    """The member's count cards as (account, name, visits left): the name of the line of the sale that
    sold the card (its sku when that sale is not booked here), the card id when nothing names it."""
    names: dict[str, str] = {}
    sold = HubLedgerEntry.select(HubLedgerEntry.account, HubLedgerEntry.sale_id, HubLedgerEntry.rule).where(
        (HubLedgerEntry.member_id == member_id) & (HubLedgerEntry.action == "count_card")
    )
    for entry in sold:
        line = SaleLine.get_or_none((SaleLine.sale == entry.sale_id) & (SaleLine.sku == entry.rule))
        if line is None:
            names[entry.account] = entry.rule
        else:
            names[entry.account] = line.name_en if lang == "en" and line.name_en else line.name_zh
    return sorted(
        (account, names.get(account, account[6:]), left)
        for account, left in balances.items()
        if account.startswith("count:")
    )


def _counts(values: Any, names: tuple[str, ...]) -> list[tuple[str, int]]:
    seen = list(values)
    return [(name, seen.count(name)) for name in names]


def _matches_text(member: HubMember, text: str) -> bool:
    """The search box: a phone number (through the blind index), a card number, an id, a name."""
    if member.id == text or member.id.startswith(text):
        return True
    digits = "".join(ch for ch in text if ch.isdigit() or ch == "+")
    key = settings.key
    if digits and key is not None:
        try:
            if member.phone_index in key.blind_indexes(normalize_phone(digits)):  # either key in a rotation
                return True
        except ValueError:
            pass
    return bool(text) and text in _clear(member, "name")


def _find(
    chosen: dict[str, str], day: dt.date
) -> tuple[list[tuple[HubMember, "analysis.Visits | None"]], dict[str, str], dict[str, str]]:
    """The members the filters keep, newest first, with their visits; every member's segment and RFM group.

    Names and birthdays are encrypted, so those filters decrypt member by member: fine for a shop's
    tens of thousands of members; a chain's millions want a search index (docs/perf.md).
    """
    all_visits = analysis.visits(day)
    members = _members()
    rhythm = job_settings.thresholds()
    segments = {m.id: analysis.segment(all_visits.get(m.id), day, rhythm) for m in members}
    groups = analysis.rfm(all_visits, day)
    text = chosen["q"]
    card = HubCard.get_or_none(HubCard.uid == text) if text else None
    tagged = (
        {t.member_id for t in MemberTag.select().where(MemberTag.tag == " ".join(chosen["tag"].split()))}
        if chosen["tag"]
        else None
    )
    month = int(chosen["birthday_month"]) if chosen["birthday_month"].isdigit() else 0
    away = int(chosen["away_days"]) if chosen["away_days"].isdigit() else None
    out = []
    for member in members:
        seen = all_visits.get(member.id)
        if (
            text
            and not (card is not None and card.member_id == member.id)
            and not _matches_text(member, text)
        ):
            continue
        if chosen["tier"] and member.tier_code != chosen["tier"]:
            continue
        if tagged is not None and member.id not in tagged:
            continue
        if chosen["store"] and member.home_store != chosen["store"]:
            continue
        if chosen["segment"] and segments[member.id] != chosen["segment"]:
            continue
        if chosen["rfm"] and groups.get(member.id) != chosen["rfm"]:
            continue
        if month:
            born = member_birthday(member)
            if born is None or born.month != month:
                continue
        if away is not None and (seen is None or (day - seen.last).days < away):
            continue
        out.append((member, seen))
    return out, segments, groups


def router(tz: ZoneInfo, pinned_day: Callable[[], dt.date] | None = None) -> APIRouter:
    """``/members`` (list, define attributes, expiring points) and ``/members/{id}`` (profile, edit).

    ``pinned_day`` pins the shop's date in tests, as in :func:`hub.web.app.create_app`.
    """
    routes = APIRouter()

    def members_page(
        request: Request,
        form: dict[str, str],
        problems: list[str],
        status: int,
        rhythm_form: dict[str, str] | None = None,
        rhythm_problem: str = "",
        rule_form: dict[str, str] | None = None,
        rule_problems: list[str] | None = None,
    ) -> HTMLResponse:
        context = page_context(request, tz)
        lang = context["lang"]
        q = request.query_params
        chosen = {k: (q.get(k) or "").strip() for k in FILTERS}
        found, segments, groups = _find(chosen, today())
        if (stores := visible_stores(request)) is not None:
            found = [(member, seen) for member, seen in found if member.home_store in stores]
        page_no = int(chosen["page"]) if chosen["page"].isdigit() and int(chosen["page"]) > 0 else 1
        pages = max(1, -(-len(found) // PAGE_SIZE))
        page_no = min(page_no, pages)
        rows = []
        for member, seen in found[(page_no - 1) * PAGE_SIZE : page_no * PAGE_SIZE]:
            rows.append(
                {
                    **_summary(member),
                    "tags": member_attributes.member_tags(member.id),
                    "points": loyalty.member_balances(member.id).get("points", 0),
                    "last_visit": seen.last.isoformat() if seen else "–",
                    "segment": segments.get(member.id, "new"),
                    "rfm": groups.get(member.id, ""),
                }
            )
        kept = {k: v for k, v in chosen.items() if v and k != "page"} | (
            {"lang": "en"} if lang == "en" else {}
        )
        specs = member_attributes.attribute_specs()
        context |= {
            "rows": rows,
            "found": len(found),
            "chosen": chosen,
            "page_no": page_no,
            "pages": pages,
            "page_link": lambda n: "/members?" + urlencode({**kept, "page": n}),
            "segment_counts": _counts(segments.values(), analysis.SEGMENTS),
            "rhythm": rhythm_form or _rhythm_fields(job_settings.thresholds()),
            "rhythm_problem": rhythm_problem,
            "rhythm_saved": request.query_params.get("rhythm_saved") == "1",
            "tag_rules": (rules := tag_rules.rules()),
            "tag_counts": tag_rules.tag_counts(r.tag for r in rules),
            "rule_form": rule_form or {"scope": "category", "times": "3", "days": "90"},
            "rule_problems": rule_problems or [],
            "categories": sorted(
                {c for (c,) in CatalogProduct.select(CatalogProduct.category).distinct().tuples() if c}
            ),
            "rfm_counts": _counts(groups.values(), tuple(analysis.RFM_GROUPS.values())),
            "tiers": [(tier.code, tier.name_zh) for tier in settings.rules.tiers.tiers],
            "stores": sorted(
                {m.home_store for m in HubMember.select(HubMember.home_store).distinct() if m.home_store}
            ),
            "specs": [(s, _label(s, lang)) for s in specs],
            "form": form,
            "problems": problems,
            "types": list(ATTRIBUTE_TYPES),
        }
        return TEMPLATES.TemplateResponse(request, "members.html", context, status_code=status)

    @routes.post("/members/segments/campaign", response_model=None)
    async def segment_campaign(request: Request) -> RedirectResponse:
        """Tag the members of one segment or RFM group (``seg-…``/``rfm-…``) and open the campaign form
        aimed at that tag: a segment is one click from a campaign."""
        form = await form_fields(request)
        kind, name = form.get("kind", ""), form.get("name", "")
        day = today()
        all_visits = analysis.visits(day)
        if kind == "segment" and name in analysis.SEGMENTS:
            rhythm = job_settings.thresholds()
            members = [
                m.id for m in _members() if analysis.segment(all_visits.get(m.id), day, rhythm) == name
            ]
        elif kind == "rfm" and name in analysis.RFM_GROUPS.values():
            groups = analysis.rfm(all_visits, day)
            members = [m for m, g in groups.items() if g == name]
        else:
            raise HTTPException(400, f"unknown segment {kind}:{name} / 没有这个分群")
        tag = f"{'seg' if kind == 'segment' else 'rfm'}-{name.replace('_', '-')}"
        now = dt.datetime.now(dt.UTC)
        # a manager tags and untags only members of their own stores: another store's keep their tags
        stores = visible_stores(request)
        scope = None if stores is None else {m.id for m in _members() if m.home_store in stores}
        if scope is not None:
            members = [m for m in members if m in scope]
        tagged = {m.member_id for m in MemberTag.select().where(MemberTag.tag == tag)}
        with transaction():
            for member_id in (tagged if scope is None else tagged & scope) - set(members):
                rest = [t for t in member_attributes.member_tags(member_id) if t != tag]
                member_attributes.set_tags(member_id, rest, "owner", now)  # left the segment since last time
            for member_id in members:
                member_attributes.set_tags(
                    member_id, [*member_attributes.member_tags(member_id), tag], "owner", now
                )
        query = {"target": "tag", "tag": tag} | ({"lang": "en"} if language(request) == "en" else {})
        return RedirectResponse(f"/campaigns?{urlencode(query)}", 303)

    @routes.get("/members", response_class=HTMLResponse)
    def members(request: Request) -> HTMLResponse:
        return members_page(request, {"type": "text"}, [], 200)

    @routes.post("/members/rhythm", response_class=HTMLResponse, response_model=None)
    async def set_rhythm(request: Request) -> HTMLResponse | RedirectResponse:
        """Store the owner's rhythm thresholds: the members page, its segments and win-back read them."""
        form = await form_fields(request)
        typed = {k: form.get(k, "").strip() for k in ("dormant", "churned", "default_days")}
        try:
            with transaction():
                job_settings.put_thresholds(typed["dormant"], typed["churned"], typed["default_days"])
        except ValueError as exc:
            return members_page(request, {"type": "text"}, [], 422, typed, str(exc))
        query = {"rhythm_saved": "1"} | ({"lang": "en"} if language(request) == "en" else {})
        return RedirectResponse(f"/members?{urlencode(query)}#rhythm", 303)

    # tag rules tag every store's members each day: their two routes are the owner's (the app adds
    # ``rules_routes`` under the "rules" permission, which managers do not have)
    rules_routes = APIRouter()
    routes.tag_rule_routes = rules_routes  # type: ignore[attr-defined]

    @rules_routes.post("/members/tag-rules", response_class=HTMLResponse, response_model=None)
    async def add_tag_rule(request: Request) -> HTMLResponse | RedirectResponse:
        """Add an automatic tag rule and apply every rule at once (the daily job keeps them fresh)."""
        form = await form_fields(request)
        typed = {k: form.get(k, "").strip() for k in ("tag", "scope", "value", "times", "days")}
        try:
            spec = tag_rules.TagRuleSpec.model_validate(typed)
        except ValidationError as exc:
            problems = _tag_rule_problems(exc, language(request))
            return members_page(request, {"type": "text"}, [], 422, rule_form=typed, rule_problems=problems)
        now = dt.datetime.now(dt.UTC)
        with transaction():
            tag_rules.add_rule(spec, "owner", now)
            tag_rules.apply_rules(today(), now)
        query = {"lang": "en"} if language(request) == "en" else {}
        return RedirectResponse(f"/members?{urlencode(query)}#tag-rules", 303)

    @rules_routes.post("/members/tag-rules/{rule_id}/delete", response_model=None)
    async def delete_tag_rule(rule_id: int, request: Request) -> RedirectResponse:
        """Remove a rule; its tag leaves the members unless another rule gives the same tag."""
        now = dt.datetime.now(dt.UTC)
        with transaction():
            if not tag_rules.remove_rule(rule_id, "owner", now):
                raise HTTPException(404, f"no tag rule {rule_id} / 没有这条标签规则")
            tag_rules.apply_rules(today(), now)
        query = {"lang": "en"} if language(request) == "en" else {}
        return RedirectResponse(f"/members?{urlencode(query)}#tag-rules", 303)

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
        balances = loyalty.member_balances(member_id)
        send_names = {k: (zh, en) for k, zh, en in deliveries.kinds()}
        bought = (
            Sale.select(Sale, MemberSale)
            .join(MemberSale, on=(MemberSale.sale_id == Sale.id))
            .where(MemberSale.member_id == member_id)
            .order_by(Sale.sold_at.desc())
            .limit(PROFILE_ROWS)
        )
        entries = (
            HubLedgerEntry.select()
            .where(HubLedgerEntry.member_id == member_id)
            .order_by(HubLedgerEntry.at.desc(), HubLedgerEntry.seq.desc())
            .limit(PROFILE_ROWS)
        )
        context |= {
            "m": _summary(member),
            "balances": balances,
            "purchases": [(sale, sale.membersale) for sale in bought],
            "ledger": list(entries),
            "count_cards": count_card_rows(member_id, balances, lang),
            "specs": [(s, _label(s, lang)) for s in member_attributes.attribute_specs()],
            "form": shown,
            "problems": problems,
            "coupons": campaigns.member_coupons(member_id),
            "consent": consent_record(member),
            "marketing": messages.consent_state(member_id),
            "sends": deliveries.sends(deliveries.query(member_id=member_id).limit(PROFILE_ROWS)),
            "send_kind": lambda kind: messages_web.kind_name(kind, send_names, lang),
            "send_status": lambda status: t(messages_web.STATUS_NAMES[status], lang),
            "details_changes": member_details.changes(member_id),
            "source": member.source,
            "items": items,
            "saved": request.query_params.get("saved") == "1",
            "registered": request.query_params.get("registered", ""),
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
