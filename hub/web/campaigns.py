"""The campaigns page: the owner defines a campaign, runs it, and sees what it issued and what was used.

Chinese by default, English with ``?lang=en``. Amounts are typed in yuan and
kept in fen; a form that does not validate comes back with every value the
owner typed and the reasons in both languages.
"""

import datetime as dt
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from hub.campaigns import runs as campaigns
from hub.campaigns.results import campaign_results
from hub.db import transaction
from hub.messaging import deliveries
from hub.web import i18n
from hub.web.auth import visible_stores
from hub.web.i18n import N_
from hub.web.messages import STATUS_NAMES
from hub.web.pages import TEMPLATES, form_fields, language, page_context
from kiosk.domain.loyalty import CouponKind
from kiosk.domain.loyalty.campaigns import CampaignSpec, CouponTemplate, Target
from kiosk.domain.money import format_fen, parse_yuan

#: When an automatic campaign issues its coupons (message keys).
TRIGGER_NAMES = {
    "manual": N_("trigger_manual"),
    "birthday": N_("trigger_birthday"),
    "anniversary": N_("trigger_anniversary"),
    "holiday": N_("trigger_holiday"),
    "winback": N_("trigger_winback"),
    "near_tier": N_("trigger_near_tier"),
    "thank_you": N_("trigger_thank_you"),
}
#: The calendars a holiday campaign counts in.
CALENDAR_NAMES = {
    "solar": N_("calendar_solar"),
    "lunar": N_("calendar_lunar"),
}

#: The coupon kinds the owner picks from.
KIND_NAMES = {
    "threshold": N_("coupon_kind_threshold"),
    "percent": N_("coupon_kind_percent"),
    "item_discount": N_("coupon_kind_item_discount"),
    "free_item": N_("coupon_kind_free_item"),
    "buy_n_get_m": N_("coupon_kind_buy_n_get_m"),
}
#: Who a campaign gives coupons to.
TARGET_NAMES = {
    "all": N_("target_all"),
    "tier": N_("target_tier"),
    "tag": N_("target_tag"),
    "birthday_month": N_("target_birthday_month"),
    "registered_within": N_("target_registered_within"),
    "at_registration": N_("target_at_registration"),
}


def describe_coupon(c: CouponTemplate, lang: str) -> str:
    """The coupon's deal in a few words: 满¥100.00减¥20.00 / ¥20.00 off ¥100.00, 9折 / 10% off, ..."""
    if c.kind == CouponKind.THRESHOLD:
        deal = i18n.t("deal_threshold", lang, min=format_fen(c.min_spend_fen), off=format_fen(c.off_fen))
    elif c.kind == CouponKind.PERCENT:
        tenths = 100 - c.percent_off
        zhe = f"{tenths // 10}" if tenths % 10 == 0 else f"{tenths // 10}.{tenths % 10}"
        deal = i18n.t("deal_percent", lang, zhe=zhe, percent=c.percent_off)
        if c.max_off_fen:
            deal += i18n.t("deal_cap", lang, cap=format_fen(c.max_off_fen))
    elif c.kind == CouponKind.ITEM_DISCOUNT:
        off = format_fen(c.off_fen) if c.off_fen else f"{c.percent_off}%"
        deal = i18n.t("deal_item", lang, off=off)
    elif c.kind == CouponKind.FREE_ITEM:
        deal = i18n.t("deal_free_item", lang, n=c.free_quantity)
    else:
        deal = i18n.t("deal_buy_get", lang, buy=c.buy, get=c.get)
    if c.min_spend_fen and c.kind != CouponKind.THRESHOLD:
        deal += i18n.t("deal_min_spend", lang, min=format_fen(c.min_spend_fen))
    scope = sorted(c.skus | c.categories)
    if scope:
        deal += f" · {', '.join(scope)}"
    return deal + (i18n.t("deal_exclusive", lang) if c.exclusive else "")


def describe_target(t: Target, lang: str) -> str:
    """Who the campaign gives coupons to, in words."""
    value = {
        "tier": t.tier,
        "tag": t.tag,
        "birthday_month": i18n.t("target_month", lang, month=t.month),
        "registered_within": i18n.t("target_days", lang, days=t.days),
    }.get(t.kind)
    name = i18n.t(TARGET_NAMES[t.kind], lang)
    return f"{name}: {value}" if value else name


def describe_validity(c: CouponTemplate, tz: ZoneInfo, lang: str) -> str:
    """The validity window: first and last day, or days from issue."""
    if c.valid_days:
        return i18n.t("valid_days_from_issue", lang, days=c.valid_days)
    first = c.valid_from.astimezone(tz).date()  # type: ignore[union-attr]
    last = (c.valid_until - dt.timedelta(microseconds=1)).astimezone(tz).date()  # type: ignore[operator]
    return f"{first} – {last}"


def _percentage_points(share: float, lang: str) -> str:
    """A difference of two rates: +2.5 个百分点 / +2.5 pp."""
    value = f"{share * 100:+.1f}"
    return i18n.t("percentage_points", lang, value=value)


class FormError(Exception):
    """A campaign form that does not make a campaign; ``problems`` are bilingual lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _fen(form: dict[str, str], field: str, problems: list[str]) -> int:
    text = form.get(field, "").strip()
    if not text:
        return 0
    try:
        return parse_yuan(text)
    except ValueError:
        problems.append(
            f"{field}: “{text}” is not an amount in yuan like 100 or 99.50 / 金额格式应为 100 或 99.50"
        )
        return 0


def _int(form: dict[str, str], field: str, problems: list[str]) -> int:
    text = form.get(field, "").strip()
    if not text:
        return 0
    if not text.isdigit():
        problems.append(f"{field}: “{text}” is not a whole number / 请填写整数")
        return 0
    return int(text)


def _day(form: dict[str, str], field: str, tz: ZoneInfo, problems: list[str]) -> dt.datetime | None:
    text = form.get(field, "").strip()
    if not text:
        return None
    try:
        return dt.datetime.combine(dt.date.fromisoformat(text), dt.time(), tz)
    except ValueError:
        problems.append(f"{field}: “{text}” is not a date like 2026-12-01 / 日期格式应为 2026-12-01")
        return None


def _words(text: str) -> frozenset[str]:
    return frozenset(w.strip() for w in text.replace("，", ",").split(",") if w.strip())


def spec_from_form(form: dict[str, str], tz: ZoneInfo) -> CampaignSpec:
    """The campaign the form describes; FormError lists every problem at once."""
    problems: list[str] = []
    last = _day(form, "valid_last", tz, problems)
    coupon = {
        "kind": form.get("kind", ""),
        "name_zh": form.get("coupon_name_zh", "").strip(),
        "name_en": form.get("coupon_name_en", "").strip(),
        "min_spend_fen": _fen(form, "min_spend", problems),
        "off_fen": _fen(form, "off", problems),
        "percent_off": _int(form, "percent_off", problems),
        "max_off_fen": _fen(form, "max_off", problems),
        "skus": _words(form.get("skus", "")),
        "categories": _words(form.get("categories", "")),
        "buy": _int(form, "buy", problems),
        "get": _int(form, "get", problems),
        "free_quantity": _int(form, "free_quantity", problems) or 1,
        "exclusive": form.get("exclusive") == "on",
        "valid_from": _day(form, "valid_from", tz, problems),
        "valid_until": last + dt.timedelta(days=1) if last else None,  # the last day counts in full
        "valid_days": _int(form, "valid_days", problems),
    }
    target = {
        "kind": form.get("target", ""),
        "tier": form.get("tier", "").strip() if form.get("target") == "tier" else "",
        "tag": form.get("tag", "").strip() if form.get("target") == "tag" else "",
        "month": _int(form, "month", problems) if form.get("target") == "birthday_month" else 0,
        "days": _int(form, "days", problems) if form.get("target") == "registered_within" else 0,
    }
    if problems:
        raise FormError(problems)
    raw = {
        "name_zh": form.get("name_zh", "").strip(),
        "name_en": form.get("name_en", "").strip(),
        "trigger": form.get("trigger") or "manual",
        # blank means the default share (10%); 0 is a campaign without a control group
        "holdout_percent": _int(form, "holdout_percent", problems) if form.get("holdout_percent") else 10,
        "days_before": _int(form, "days_before", problems),
        "holiday_calendar": form.get("holiday_calendar") or "solar",
        "holiday_month": _int(form, "holiday_month", problems),
        "holiday_day": _int(form, "holiday_day", problems),
    }
    if problems:
        raise FormError(problems)
    try:
        return CampaignSpec.model_validate({**raw, "coupon": coupon, "target": target})
    except ValidationError as exc:
        raise FormError(campaigns.explain(exc).splitlines()) from exc


def describe_reach(stores: list[str], lang: str) -> str:
    """Whose members the campaign may reach: `` · 门店 S01, S02`` for a manager's, nothing for every store."""
    return i18n.t("campaign_reach_stores", lang, stores=", ".join(stores)) if stores else ""


def _rows(tz: ZoneInfo, lang: str, caller: frozenset[str] | None) -> list[dict[str, Any]]:
    rows = []
    for row in campaigns.campaigns(caller):
        spec: CampaignSpec = row["spec"]  # type: ignore[assignment]
        last = campaigns.runs(str(row["id"]))[-1:]
        rows.append(
            {
                **row,
                "name": (spec.name_en or spec.name_zh) if lang == "en" else spec.name_zh,
                "coupon_text": describe_coupon(spec.coupon, lang),
                "target_text": describe_target(spec.target, lang) + describe_reach(row["stores"], lang),  # type: ignore[arg-type]
                "validity": describe_validity(spec.coupon, tz, lang),
                "automatic": spec.target.kind == "at_registration",
                "last_run": last[0] if last else None,
            }
        )
    return rows


def _yuan(fen: float) -> str:
    """A mean or difference in fen as yuan, signed when negative (¥-1.50)."""
    whole = round(fen)
    return f"-{format_fen(-whole)}" if whole < 0 else format_fen(whole)


def within_reach(request: Request, campaign_id: str) -> None:
    """Let the caller on only to a campaign of their stores: 404 for none, 403 for another store's."""
    try:
        campaigns.check_reach(campaign_id, visible_stores(request))
    except campaigns.CampaignOutOfReach as exc:
        raise HTTPException(403, str(exc)) from exc
    except campaigns.CampaignError as exc:
        raise HTTPException(404, str(exc)) from exc


def router(tz: ZoneInfo) -> APIRouter:
    """``GET /campaigns``, ``POST /campaigns`` (create) and ``POST /campaigns/{id}/run``.

    A manager sees, creates, switches and runs only campaigns of their stores (a campaign they create
    reaches their stores' members only); another store's campaign answers 403.
    """
    routes = APIRouter()

    def render(
        request: Request, form: dict[str, str], problems: list[str], status: int = 200
    ) -> HTMLResponse:
        context = page_context(request, tz)
        lang = context["lang"]
        done = request.query_params
        banner = ""
        if "issued" in done:
            banner = i18n.t("ran", lang).format(issued=done["issued"], targeted=done.get("targeted", "?"))
        elif "created" in done:
            banner = i18n.t("created", lang)
        context |= {
            "rows": _rows(tz, lang, visible_stores(request)),
            "reach": ", ".join(sorted(visible_stores(request) or ())),  # a manager's: only their stores
            "form": form,
            "problems": problems,
            "banner": banner,
            "kinds": [(k, i18n.t(v, lang)) for k, v in KIND_NAMES.items()],
            "targets": [(k, i18n.t(v, lang)) for k, v in TARGET_NAMES.items()],
            "triggers": [(k, i18n.t(v, lang)) for k, v in TRIGGER_NAMES.items()],
            "calendars": [(k, i18n.t(v, lang)) for k, v in CALENDAR_NAMES.items()],
            "error": done.get("error", ""),
        }
        return TEMPLATES.TemplateResponse(request, "campaigns.html", context, status_code=status)

    @routes.get("/campaigns", response_class=HTMLResponse)
    def page(request: Request) -> HTMLResponse:
        # ?target=tag&tag=seg-dormant: the member page's segment buttons open the form aimed at a segment
        aim = {k: request.query_params[k] for k in ("target", "tag") if request.query_params.get(k)}
        return render(request, {"kind": "threshold", "target": "all", "by": "owner", **aim}, [])

    @routes.post("/campaigns", response_class=HTMLResponse, response_model=None)
    async def create(request: Request) -> HTMLResponse | RedirectResponse:
        form = await form_fields(request)
        try:
            spec = spec_from_form(form, tz)
        except FormError as exc:
            return render(request, form, exc.problems, status=422)
        with transaction():
            new_id = campaigns.create_campaign(
                spec,
                form.get("by", "").strip() or "owner",
                dt.datetime.now(dt.UTC),
                stores=visible_stores(request),
            )
        query = {"created": new_id} | ({"lang": "en"} if language(request) == "en" else {})
        return RedirectResponse(f"/campaigns?{urlencode(query)}", 303)

    @routes.get("/campaigns/{campaign_id}/results", response_class=HTMLResponse)
    def results(request: Request, campaign_id: str, days: int = 30) -> HTMLResponse:
        within_reach(request, campaign_id)
        context = page_context(request, tz)
        spec = campaigns.campaign_spec(campaign_id)
        lang = context["lang"]
        context |= {
            "name": (spec.name_en or spec.name_zh) if lang == "en" else spec.name_zh,
            "holdout_percent": spec.holdout_percent,
            "r": campaign_results(campaign_id, tz, max(1, min(days, 365))),
            "campaign_id": campaign_id,
            "sends": deliveries.counts(f"campaign:{campaign_id}"),
            "send_statuses": [(s, i18n.t(STATUS_NAMES[s], lang)) for s in deliveries.STATUSES],
            "pct": lambda share: f"{share * 100:.1f}%",
            "pts": lambda share: _percentage_points(share, lang),
            "yuan": _yuan,
        }
        return TEMPLATES.TemplateResponse(request, "campaign_results.html", context)

    @routes.post("/campaigns/{campaign_id}/active")
    async def activate(campaign_id: str, request: Request) -> RedirectResponse:
        within_reach(request, campaign_id)
        form = await form_fields(request)
        query = {"lang": "en"} if language(request) == "en" else {}
        try:
            with transaction():
                campaigns.set_active(
                    campaign_id,
                    form.get("active") == "1",
                    form.get("by", "").strip() or "owner",
                    dt.datetime.now(dt.UTC),
                )
        except campaigns.CampaignError as exc:
            query |= {"error": str(exc)}
        return RedirectResponse(f"/campaigns?{urlencode(query)}#campaign-{campaign_id}", 303)

    @routes.post("/campaigns/{campaign_id}/run")
    async def run(campaign_id: str, request: Request) -> RedirectResponse:
        within_reach(request, campaign_id)
        form = await form_fields(request)
        query = {"lang": "en"} if language(request) == "en" else {}
        try:
            with transaction():
                result = campaigns.run_campaign(
                    campaign_id, form.get("by", "").strip() or "owner", dt.datetime.now(dt.UTC), tz
                )
        except campaigns.CampaignError as exc:
            return RedirectResponse(f"/campaigns?{urlencode(query | {'error': str(exc)})}", 303)
        query |= {"ran": campaign_id, "targeted": str(result.targeted), "issued": str(result.issued)}
        return RedirectResponse(f"/campaigns?{urlencode(query)}#campaign-{campaign_id}", 303)

    return routes
