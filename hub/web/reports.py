"""The owner's sales report over a range of days: page, CSV download and JSON.

``/reports?from=2026-11-18&to=2026-11-24&store=S01`` (zh by default, ``&lang=en``):
totals, a row per day, terminals, payment methods, best-selling products and the
points and stored value that moved. ``/reports.csv`` is the same day rows for a
spreadsheet; ``/api/v1/reports/sales`` is all of it as JSON.
"""

import csv
import dataclasses
import datetime as dt
import io
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from hub.reports import queries as reports
from hub.web.i18n import N_
from hub.web.pages import TEMPLATES, page_context
from kiosk.domain.payments import payment_method_name


def _report(first: dt.date, last: dt.date, store: str | None) -> dict[str, Any]:
    return {
        "summary": reports.range_summary(first, last, store),
        "days": reports.daily(first, last, store),
        "terminals": reports.by_terminal(first, last, store),
        "payments": reports.by_payment(first, last, store),
        "products": reports.top_products(first, last, store),
        "loyalty": reports.loyalty_flows(first, last),
    }


def router(tz: ZoneInfo, today: Callable[[], dt.date] | None = None) -> APIRouter:
    """Routes for ``/reports``, its CSV and ``/api/v1/reports/sales``; ``today`` pins the clock in tests."""
    routes = APIRouter()

    def current_day() -> dt.date:
        return today() if today else dt.datetime.now(tz).date()

    def chosen(request: Request) -> tuple[dt.date, dt.date, str | None]:
        q = request.query_params
        first, last = reports.parse_range(q.get("from") or None, q.get("to") or None, current_day())
        return first, last, q.get("store") or None

    @routes.get("/reports", response_class=HTMLResponse)
    def reports_page(request: Request) -> HTMLResponse:
        context = page_context(request, tz)
        lang = context["lang"]
        error = None
        try:
            first, last, store = chosen(request)
        except reports.RangeError as bad:
            error = bad.en if lang == "en" else bad.zh
            first, last = reports.parse_range(None, None, current_day())
            store = request.query_params.get("store") or None
        day = current_day()

        def link(a: dt.date, b: dt.date) -> str:
            query = {"from": a.isoformat(), "to": b.isoformat(), **({"store": store} if store else {})}
            return "?" + urlencode({**query, **({"lang": "en"} if lang == "en" else {})})

        data = _report(first, last, store)
        context.update(
            data,
            first=first.isoformat(),
            last=last.isoformat(),
            store=store or "",
            stores=reports.stores(),
            error=error,
            peak=max((d.total_fen for d in data["days"]), default=0),
            method_name=lambda method: payment_method_name(method, lang),
            presets=[
                (N_("preset_today"), link(day, day)),
                (N_("preset_7"), link(day - dt.timedelta(days=6), day)),
                (N_("preset_30"), link(day - dt.timedelta(days=29), day)),
                (N_("preset_month"), link(day.replace(day=1), day)),
            ],
            csv_link="/reports.csv" + link(first, last),
        )
        return TEMPLATES.TemplateResponse(request, "reports.html", context, status_code=400 if error else 200)

    @routes.get("/reports.csv")
    def reports_csv(request: Request) -> Response:
        try:
            first, last, store = chosen(request)
        except reports.RangeError as bad:
            raise HTTPException(status_code=400, detail=f"{bad.zh} / {bad.en}") from None
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["day", "store", "sales", "revenue_fen", "items"])
        for row in reports.daily(first, last, store):
            writer.writerow([row.day, store or "*", row.sales, row.total_fen, row.items])
        name = f"sales-{first.isoformat()}-{last.isoformat()}{'-' + store if store else ''}.csv"
        return Response(
            "\ufeff" + out.getvalue(),  # a BOM, so Excel opens the UTF-8 file as UTF-8
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @routes.get("/api/v1/reports/sales", tags=["reports"])
    def reports_api(request: Request) -> dict[str, Any]:
        """Sales from ``from`` to ``to`` (YYYY-MM-DD, default the last 7 days), optionally one ``store``."""
        try:
            first, last, store = chosen(request)
        except reports.RangeError as bad:
            raise HTTPException(status_code=400, detail=f"{bad.zh} / {bad.en}") from None
        data = _report(first, last, store)
        summary = data["summary"]
        return {
            "from": first.isoformat(),
            "to": last.isoformat(),
            "store": store,
            "summary": {
                **dataclasses.asdict(summary),
                "average_fen": summary.average_fen,
                "net_fen": summary.net_fen,
                "member_share_pct": summary.member_share_pct,
            },
            **{
                key: [dataclasses.asdict(row) for row in data[key]]
                for key in ("days", "terminals", "payments", "products")
            },
            "loyalty": dataclasses.asdict(data["loyalty"]),
        }

    return routes
