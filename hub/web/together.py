"""``/reports/together``: the owner's "often bought together" rules (:mod:`hub.reports.together`)."""

from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from hub.catalog.models import CatalogProduct
from hub.reports import together
from hub.web.i18n import N_
from hub.web.pages import TEMPLATES, page_context


def percent(bp: int) -> str:
    """Basis points as a percentage: 1234 -> ``12.34%``."""
    return f"{bp // 100}.{bp % 100:02d}%"


def lift(milli: int) -> str:
    """Lift × 1000 to two places, half up: 1429 -> ``1.43``."""
    hundredths = (milli + 5) // 10
    return f"{hundredths // 100}.{hundredths % 100:02d}"


def router(tz: ZoneInfo) -> APIRouter:
    """The page."""
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
        context |= {
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
