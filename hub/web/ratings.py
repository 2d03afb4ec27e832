"""``/ratings``: the shoppers' e-receipt ratings per store and per day, and their comments.

A manager sees their own stores only. ``days`` picks the range ending today (7, 30, 90).
"""

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from hub.reports import ratings
from hub.web.auth import visible_stores
from hub.web.i18n import N_
from hub.web.pages import TEMPLATES, page_context

RANGES = (7, 30, 90)


def router(tz: ZoneInfo, pinned_day: Callable[[], dt.date] | None = None) -> APIRouter:
    """The ratings page; ``pinned_day`` pins today in tests."""
    routes = APIRouter()

    @routes.get("/ratings", response_class=HTMLResponse)
    def ratings_page(request: Request, days: str = "30") -> HTMLResponse:
        context = page_context(request, tz)
        span = int(days) if days in {str(n) for n in RANGES} else 30
        last = pinned_day() if pinned_day else dt.datetime.now(tz).date()
        first = last - dt.timedelta(days=span - 1)
        stores = visible_stores(request)
        rows = ratings.per_store_and_day(first, last, set(stores) if stores is not None else None)
        count = sum(r.count for r in rows)
        stars = sum(s * n for r in rows for s, n in zip(ratings.STARS, r.by_stars, strict=True))
        context |= {
            "title_key": N_("ratings_title"),
            "days": span,
            "ranges": RANGES,
            "first": first.isoformat(),
            "last": last.isoformat(),
            "rows": rows,
            "count": count,
            "average": ratings.tenths((stars * 10 + count // 2) // count) if count else "–",
            "comments": ratings.comments(first, last, set(stores) if stores is not None else None),
        }
        return TEMPLATES.TemplateResponse(request, "ratings.html", context)

    return routes
