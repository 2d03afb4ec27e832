"""The campaigns page: the owner defines a campaign, runs it, and sees what it issued and what was used.

Chinese by default, English with ``?lang=en``. Amounts are typed in yuan and
kept in fen; a form that does not validate comes back with every value the
owner typed and the reasons in both languages.
"""

import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from hub.campaigns import runs as campaigns
from hub.db import transaction
from hub.web import i18n
from hub.web.pages import form_fields, language, page_context
from kiosk.domain.loyalty import CouponKind
from kiosk.domain.loyalty.campaigns import CampaignSpec, CouponTemplate, Target
from kiosk.domain.money import format_fen, parse_yuan

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

TEXT: dict[str, dict[str, str]] = {
    "campaigns_title": {"zh": "营销活动", "en": "Campaigns"},
    "campaigns_hint": {
        "zh": "每位目标会员每个活动只发一张券；重复运行不会多发。",
        "en": "Each targeted member gets one coupon per campaign; running again issues nothing twice.",
    },
    "campaign": {"zh": "活动", "en": "Campaign"},
    "coupon": {"zh": "优惠券", "en": "Coupon"},
    "target": {"zh": "目标会员", "en": "Members"},
    "validity": {"zh": "有效期", "en": "Valid"},
    "issued": {"zh": "已发放", "en": "Issued"},
    "used": {"zh": "已使用", "en": "Used"},
    "last_run": {"zh": "最近运行", "en": "Last run"},
    "run": {"zh": "发券", "en": "Run"},
    "automatic": {"zh": "注册时自动发放", "en": "issued at registration"},
    "no_campaigns": {"zh": "还没有营销活动。", "en": "No campaigns yet."},
    "new_campaign": {"zh": "新建活动", "en": "New campaign"},
    "name_zh": {"zh": "活动名称（中文）", "en": "Name (Chinese)"},
    "name_en": {"zh": "活动名称（英文，可选）", "en": "Name (English, optional)"},
    "kind_field": {"zh": "券类型", "en": "Coupon type"},
    "coupon_name": {"zh": "券名称（显示在收银机和小票上）", "en": "Coupon name (kiosk and receipt)"},
    "min_spend": {"zh": "使用门槛（元）", "en": "Minimum spend (¥)"},
    "off": {"zh": "减免金额（元）", "en": "Amount off (¥)"},
    "percent_off": {"zh": "折扣（减免百分比，10 = 九折）", "en": "Percent off (10 = 10% off)"},
    "max_off": {"zh": "最多减（元，0 = 不限）", "en": "Cap (¥, 0 = none)"},
    "skus": {"zh": "适用商品编码（逗号分隔，空 = 全部）", "en": "Products (SKUs; empty = all)"},
    "categories": {"zh": "适用品类（逗号分隔）", "en": "Categories (comma-separated)"},
    "buy_get": {"zh": "买N送M", "en": "Buy N get M"},
    "exclusive": {"zh": "不可与其他券同用", "en": "Cannot be combined"},
    "valid_from": {"zh": "开始日期（如 2026-12-01）", "en": "First day (e.g. 2026-12-01)"},
    "valid_last": {"zh": "最后一天（含当天）", "en": "Last day (inclusive)"},
    "valid_days": {"zh": "或：发放后有效天数", "en": "Or: days from issue"},
    "target_kind": {"zh": "发给", "en": "Give to"},
    "tier": {"zh": "等级代码", "en": "Tier code"},
    "tag": {"zh": "标签", "en": "Tag"},
    "month": {"zh": "生日月份", "en": "Birthday month"},
    "days": {"zh": "注册天数内", "en": "Registered within days"},
    "by": {"zh": "操作人", "en": "By"},
    "create": {"zh": "创建活动", "en": "Create campaign"},
    "created": {"zh": "活动已创建。", "en": "Campaign created."},
    "ran": {"zh": "已发放 {issued} 张新券（目标会员 {targeted} 人）。", "en": "Issued {issued} new coupons "
            "({targeted} members targeted)."},
    "form_errors": {"zh": "请修改以下内容：", "en": "Please correct:"},
    "pause": {"zh": "暂停", "en": "Pause"},
    "resume": {"zh": "启用", "en": "Resume"},
    "paused": {"zh": "已暂停", "en": "paused"},
    "when": {"zh": "何时发放", "en": "When"},
    "trigger": {"zh": "发放时机", "en": "Issued"},
    "days_before": {"zh": "提前天数", "en": "Days before"},
    "holiday_calendar": {"zh": "节日历法", "en": "Holiday calendar"},
    "holiday_month": {"zh": "节日月份", "en": "Holiday month"},
    "holiday_day": {"zh": "节日日期", "en": "Holiday day"},
    "holdout_percent": {"zh": "对照组比例（%，不发券，用于衡量效果）",
                        "en": "Holdout share (%, gets nothing: the control)"},
    "results": {"zh": "效果", "en": "Results"},
}  # fmt: skip
i18n.TEXT.update({k: v for k, v in TEXT.items() if k not in i18n.TEXT})

TRIGGER_NAMES = {
    "manual": ("手动发放", "When run by hand"),
    "birthday": ("生日（每年）", "Birthday (yearly)"),
    "anniversary": ("入会纪念日（每年）", "Joining anniversary (yearly)"),
    "holiday": ("节日（每年）", "Holiday (yearly)"),
    "winback": ("久未到店唤醒", "Win-back (dormant)"),
    "near_tier": ("临近升级", "Near the next tier"),
    "thank_you": ("到店次日感谢", "Thank-you after a visit"),
}
CALENDAR_NAMES = {"solar": ("公历", "Solar"), "lunar": ("农历", "Lunar")}

KIND_NAMES = {
    "threshold": ("满减券", "Spend-and-save"),
    "percent": ("折扣券", "Percent off"),
    "item_discount": ("单品券", "Item discount"),
    "free_item": ("赠品券", "Free item"),
    "buy_n_get_m": ("买N送M", "Buy N get M"),
}
TARGET_NAMES = {
    "all": ("全部会员", "All members"),
    "tier": ("某等级", "A tier"),
    "tag": ("带某标签", "A tag"),
    "birthday_month": ("某月生日", "Birthday month"),
    "registered_within": ("近N天注册", "Registered within N days"),
    "at_registration": ("新注册会员（自动）", "New members (automatic)"),
}


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def describe_coupon(c: CouponTemplate, lang: str) -> str:
    """The coupon's deal in a few words: 满¥100.00减¥20.00 / ¥20.00 off ¥100.00, 9折 / 10% off, ..."""
    en = lang == "en"
    if c.kind == CouponKind.THRESHOLD:
        deal = (
            f"{format_fen(c.off_fen)} off {format_fen(c.min_spend_fen)}"
            if en
            else f"满{format_fen(c.min_spend_fen)}减{format_fen(c.off_fen)}"
        )
    elif c.kind == CouponKind.PERCENT:
        tenths = 100 - c.percent_off
        zhe = f"{tenths // 10}" if tenths % 10 == 0 else f"{tenths // 10}.{tenths % 10}"
        deal = f"{c.percent_off}% off" if en else f"{zhe}折"
        if c.max_off_fen:
            deal += f", up to {format_fen(c.max_off_fen)}" if en else f"，最多减{format_fen(c.max_off_fen)}"
    elif c.kind == CouponKind.ITEM_DISCOUNT:
        off = format_fen(c.off_fen) if c.off_fen else f"{c.percent_off}%"
        deal = f"{off} off each item" if en else f"单品立减{off}"
    elif c.kind == CouponKind.FREE_ITEM:
        deal = f"{c.free_quantity} free" if en else f"赠{c.free_quantity}件"
    else:
        deal = f"buy {c.buy} get {c.get}" if en else f"买{c.buy}送{c.get}"
    if c.min_spend_fen and c.kind != CouponKind.THRESHOLD:
        deal += f" (min {format_fen(c.min_spend_fen)})" if en else f"（满{format_fen(c.min_spend_fen)}可用）"
    scope = sorted(c.skus | c.categories)
    if scope:
        deal += f" · {', '.join(scope)}"
    return deal + (" · exclusive" if en and c.exclusive else " · 不可同用" if c.exclusive else "")


def describe_target(t: Target, lang: str) -> str:
    """Who the campaign gives coupons to, in words."""
    en = lang == "en"
    value = {
        "tier": t.tier,
        "tag": t.tag,
        "birthday_month": f"{t.month}" if en else f"{t.month}月",
        "registered_within": f"{t.days} days" if en else f"{t.days}天",
    }.get(t.kind)
    name = _pick(TARGET_NAMES[t.kind], lang)
    return f"{name}: {value}" if value else name


def describe_validity(c: CouponTemplate, tz: ZoneInfo, lang: str) -> str:
    """The validity window: first and last day, or days from issue."""
    if c.valid_days:
        return f"{c.valid_days} days from issue" if lang == "en" else f"发放后{c.valid_days}天"
    first = c.valid_from.astimezone(tz).date()  # type: ignore[union-attr]
    last = (c.valid_until - dt.timedelta(microseconds=1)).astimezone(tz).date()  # type: ignore[operator]
    return f"{first} – {last}"


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


def _rows(tz: ZoneInfo, lang: str) -> list[dict[str, Any]]:
    rows = []
    for row in campaigns.campaigns():
        spec: CampaignSpec = row["spec"]  # type: ignore[assignment]
        last = campaigns.runs(str(row["id"]))[-1:]
        rows.append(
            {
                **row,
                "name": (spec.name_en or spec.name_zh) if lang == "en" else spec.name_zh,
                "coupon_text": describe_coupon(spec.coupon, lang),
                "target_text": describe_target(spec.target, lang),
                "validity": describe_validity(spec.coupon, tz, lang),
                "automatic": spec.target.kind == "at_registration",
                "last_run": last[0] if last else None,
            }
        )
    return rows


def router(tz: ZoneInfo) -> APIRouter:
    """``GET /campaigns``, ``POST /campaigns`` (create) and ``POST /campaigns/{id}/run``."""
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
            "rows": _rows(tz, lang),
            "form": form,
            "problems": problems,
            "banner": banner,
            "kinds": [(k, _pick(v, lang)) for k, v in KIND_NAMES.items()],
            "targets": [(k, _pick(v, lang)) for k, v in TARGET_NAMES.items()],
            "triggers": [(k, _pick(v, lang)) for k, v in TRIGGER_NAMES.items()],
            "calendars": [(k, _pick(v, lang)) for k, v in CALENDAR_NAMES.items()],
            "error": done.get("error", ""),
        }
        return TEMPLATES.TemplateResponse(request, "campaigns.html", context, status_code=status)

    @routes.get("/campaigns", response_class=HTMLResponse)
    def page(request: Request) -> HTMLResponse:
        return render(request, {"kind": "threshold", "target": "all", "by": "owner"}, [])

    @routes.post("/campaigns", response_class=HTMLResponse, response_model=None)
    async def create(request: Request) -> HTMLResponse | RedirectResponse:
        form = await form_fields(request)
        try:
            spec = spec_from_form(form, tz)
        except FormError as exc:
            return render(request, form, exc.problems, status=422)
        with transaction():
            new_id = campaigns.create_campaign(
                spec, form.get("by", "").strip() or "owner", dt.datetime.now(dt.UTC)
            )
        query = {"created": new_id} | ({"lang": "en"} if language(request) == "en" else {})
        return RedirectResponse(f"/campaigns?{urlencode(query)}", 303)

    @routes.post("/campaigns/{campaign_id}/active")
    async def activate(campaign_id: str, request: Request) -> RedirectResponse:
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
