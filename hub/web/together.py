"""``/reports/together``: the owner's "often bought together" rules (:mod:`hub.reports.together`)."""

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from peewee import fn

from hub.catalog.models import CatalogProduct
from hub.jobs import settings as job_settings
from hub.reports import together
from hub.reports.summary import TogetherDay
from hub.web.i18n import N_
from hub.web.pages import TEMPLATES, page_context


def percent(bp: int) -> str:
    """Basis points as a percentage: 1234 -> ``12.34%``."""
    return f"{bp // 100}.{bp % 100:02d}%"


def lift(milli: int) -> str:
    """Lift × 1000 to two places, half up: 1429 -> ``1.43``."""
    hundredths = (milli + 5) // 10
    return f"{hundredths // 100}.{hundredths % 100:02d}"


def suggestions_since(first: dt.date) -> dict[str, int]:
    """The terminals' suggestions from ``first`` on, all stores: shown, taken and the fen taken."""
    query = TogetherDay.select(
        fn.COALESCE(fn.SUM(TogetherDay.shown), 0),
        fn.COALESCE(fn.SUM(TogetherDay.taken), 0),
        fn.COALESCE(fn.SUM(TogetherDay.taken_fen), 0),
    ).where(TogetherDay.day >= first.isoformat())
    shown, taken, taken_fen = query.tuples().get()
    return {"shown": int(shown), "taken": int(taken), "taken_fen": int(taken_fen)}


def sent_thresholds() -> dict[str, str]:
    """The owner's thresholds for what the terminals get, as the page shows them."""
    support, least_lift, per_item = job_settings.together_thresholds()
    return {"support": percent(support), "lift": lift(least_lift), "n": str(per_item)}


def router(tz: ZoneInfo, today: Callable[[], dt.date] | None = None) -> APIRouter:
    """The page; ``today`` (default: the shop's date now) ends the suggestions' window."""
    routes = APIRouter()

    @routes.get("/reports/together", response_class=HTMLResponse)
    def together_page(request: Request) -> HTMLResponse:
        context = page_context(request, tz)
        en = context["lang"] == "en"
        names = {
            p.sku: ((p.name_en or p.name_zh) if en else p.name_zh)
            for p in CatalogProduct.select(CatalogProduct.sku, CatalogProduct.name_zh, CatalogProduct.name_en)
        }
        found = together.stored_rules()
        last = today() if today else dt.datetime.now(tz).date()
        shown = suggestions_since(last - dt.timedelta(days=together.WINDOW_DAYS - 1))
        rate = percent(shown["taken"] * 10000 // shown["shown"]) if shown["shown"] else "–"
        context |= {
            "suggestions": shown | {"rate": rate},
            "sent": sent_thresholds(),
            "title_key": N_("together_title"),
            "rules": [
                {
                    "rule": r,
                    "name": names.get(r.sku, r.sku),
                    "with_name": names.get(r.with_sku, r.with_sku),
                    "support": percent(r.support_bp),
                    "confidence": percent(r.confidence_bp),
                    "lift": lift(r.lift_milli),
                }
                for r in found
            ],
            "computed_at": found[0].computed_at if found else None,
            "window": together.WINDOW_DAYS,
            "min_together": together.MIN_TOGETHER,
        }
        return TEMPLATES.TemplateResponse(request, "together.html", context)

    return routes
