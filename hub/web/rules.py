"""The rules page (规则与等级 / Rules & tiers): the tier ladder, the rules in plain words, the
holidays with this year's dates, and an edit form (validated JSON, every error named in zh/en)."""

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from hub.db import transaction
from hub.rules import store as rules_store
from hub.rules import words as rules_words
from hub.web import i18n
from hub.web.pages import form_fields, language, page_context

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

TEXT: dict[str, dict[str, str]] = {
    "nav_rules": {"zh": "规则与等级", "en": "Rules & tiers"},
    "rules_title": {"zh": "积分规则与会员等级", "en": "Loyalty rules and tiers"},
    "rules_version": {"zh": "当前版本 {version}，{by} 于 {at} 保存",
                      "en": "Version {version}, saved by {by} on {at}"},
    "rules_default": {"zh": "当前使用默认规则（尚未保存过）",
                      "en": "The default rules are in force (never saved)"},
    "rules_publish": {"zh": "保存后，终端在下次“发布配置”（hub config publish）后使用新规则。",
                      "en": "Terminals use saved rules after the next config publish (hub config publish)."},
    "rules_tiers": {"zh": "会员等级", "en": "Tiers"},
    "rules_tier_code": {"zh": "代码", "en": "Code"},
    "rules_tier_name": {"zh": "等级", "en": "Tier"},
    "rules_tier_threshold": {"zh": "门槛", "en": "Threshold"},
    "rules_tier_discount": {"zh": "会员折扣", "en": "Discount"},
    "rules_tier_multiplier": {"zh": "积分倍数", "en": "Points"},
    "rules_tier_gift": {"zh": "生日礼（积分）", "en": "Birthday gift (points)"},
    "rules_earn": {"zh": "积分获取", "en": "Earning points"},
    "rules_redeem": {"zh": "积分抵现", "en": "Paying with points"},
    "rules_expiry": {"zh": "积分有效期", "en": "Expiry"},
    "rules_stored_value": {"zh": "储值", "en": "Stored value"},
    "rules_offline": {"zh": "断网限额", "en": "Offline limits"},
    "rules_holidays": {"zh": "节日多倍积分（{year} 年日期）", "en": "Holiday multipliers ({year} dates)"},
    "rules_holiday_name": {"zh": "节日", "en": "Holiday"},
    "rules_holiday_calendar": {"zh": "日期规则", "en": "Rule"},
    "rules_holiday_dates": {"zh": "今年日期", "en": "This year"},
    "rules_no_holidays": {"zh": "没有节日倍数。", "en": "No holiday multipliers."},
    "rules_edit": {"zh": "修改规则（JSON）", "en": "Change the rules (JSON)"},
    "rules_edit_hint": {"zh": "整套规则一次保存；有误时逐项说明，什么都不会保存。",
                        "en": "The whole set is saved at once; if anything is wrong, each problem is listed "
                              "and nothing is saved."},
    "rules_save": {"zh": "保存为新版本", "en": "Save as a new version"},
    "rules_saved": {"zh": "规则版本 {version} 已保存。", "en": "Rules version {version} saved."},
    "rules_not_json": {"zh": "不是有效的 JSON", "en": "is not valid JSON"},
    "form_errors": {"zh": "请修改以下内容：", "en": "Please correct:"},
    "by": {"zh": "操作人", "en": "By"},
}  # fmt: skip
i18n.TEXT.update({k: v for k, v in TEXT.items() if k not in i18n.TEXT})


def router(tz: ZoneInfo, today: Callable[[], dt.date] | None = None) -> APIRouter:
    """``GET /rules`` (the page) and ``POST /rules`` (save the edited JSON); ``today`` picks the
    year whose holiday dates are shown (tests pin it)."""
    routes = APIRouter()

    def render(
        request: Request, text: str | None, by: str, problems: list[str], status: int = 200
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
            where = f"{i18n.t('rules_not_json', 'zh')} / {i18n.t('rules_not_json', 'en')}"
            return render(request, text, by, [f"rules: {where} (line {exc.lineno}, column {exc.colno})"], 422)
        try:
            with transaction():
                version = rules_store.save_rules(body, by, dt.datetime.now(dt.UTC))
        except rules_store.RulesRefused as exc:
            return render(request, text, by, exc.problems, 422)
        query = {"saved": str(version)} | ({"lang": "en"} if lang == "en" else {})
        return RedirectResponse(f"/rules?{urlencode(query)}", 303)

    return routes


def _pretty(body: dict[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False, indent=2, sort_keys=True)
