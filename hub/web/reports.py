"""The owner's sales report over a range of days: page, CSV downloads and JSON.

``/reports?from=2026-11-18&to=2026-11-24&store=S01&period=week`` (zh by default, ``&lang=en``):
totals beside the previous period of the same length, sales by hour/day/week/month, the
weekday × hour heatmap, stores, terminals, payment methods, categories, members and walk-ins,
best and slow sellers (unsold products included), and the points and stored value that moved.
Every table downloads as CSV (``/reports.csv?table=...``); ``/api/v1/reports/sales`` is JSON.
All of it reads the summary rows of :mod:`hub.reports.summary`, refunds on their own day.
"""

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from hub.reports import queries as reports
from hub.web import exports, i18n
from hub.web.pages import TEMPLATES, page_context
from kiosk.i18n import payment_method_name
from kiosk.translations import N_

#: The template heads a period's column with ``period_{period}`` (one of reports.PERIODS).
_PERIOD_KEYS = (N_("period_hour"), N_("period_day"), N_("period_week"), N_("period_month"))
#: Monday first, as the heatmap's rows; the CSV heads its rows with the codes, the page with the words.
WEEKDAY_CODES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_WEEKDAYS = (
    N_("weekday_mon"),
    N_("weekday_tue"),
    N_("weekday_wed"),
    N_("weekday_thu"),
    N_("weekday_fri"),
    N_("weekday_sat"),
    N_("weekday_sun"),
)


def _report(first: dt.date, last: dt.date, store: str | None, period: str = "day") -> dict[str, Any]:
    before = reports.previous_period(first, last)
    products = reports.products(first, last, store)
    return {
        "summary": reports.range_summary(first, last, store),
        "before": reports.range_summary(*before, store),
        "before_range": before,
        "days": reports.daily(first, last, store),
        "periods": reports.by_period(period, first, last, store),
        "heatmap": reports.heatmap(first, last, store),
        "stores_rows": reports.by_store(first, last) if not store else [],
        "stores_before": {r.store: r for r in reports.by_store(*before)} if not store else {},
        "terminals": reports.by_terminal(first, last, store),
        "payments": reports.by_payment(first, last, store),
        "payments_before": {r.method: r for r in reports.by_payment(*before, store)},
        "categories": reports.by_category(first, last, store, rows=products),
        "categories_before": {r.category: r for r in reports.by_category(*before, store)},
        "products": reports.top_products(first, last, store, rows=products),
        "slow": reports.slow_products(first, last, store, rows=products),
        "all_products": products,
        "loyalty": reports.loyalty_flows(first, last),
    }


def tables(
    first: dt.date, last: dt.date, store: str | None, period: str
) -> dict[str, tuple[list[str], list[Any]]]:
    """Every table of the report as (header, rows) for its CSV: what the page shows, in fen."""
    data = _report(first, last, store, period)
    products = data["all_products"]
    grid = data["heatmap"]
    period_head = [
        period,
        "sales",
        "revenue_fen",
        "items",
        "refunds",
        "refunded_fen",
        "net_fen",
        "member_sales",
    ]
    product_head = ["sku", "name_zh", "name_en", "category", "quantity", "revenue_fen", "refunded_quantity",
                    "refunded_fen", "net_fen"]  # fmt: skip
    store_rows = [r for r in reports.by_store(first, last) if not store or r.store == store]
    return {
        "days": (
            ["day", "store", "sales", "revenue_fen", "items"],
            [[d.day, store or "*", d.sales, d.total_fen, d.items] for d in data["days"]],
        ),
        "periods": (
            period_head,
            [[r.key, r.sales, r.total_fen, r.items, r.refunds, r.refunded_fen, r.net_fen, r.member_sales]
             for r in data["periods"]],
        ),
        "heatmap": (
            ["weekday", *[f"{h:02d}" for h in range(24)]],
            [[WEEKDAY_CODES[d], *grid[d]] for d in range(7)],
        ),
        "stores": (
            ["store", "sales", "revenue_fen", "refunded_fen", "net_fen", "member_sales"],
            [[r.store, r.sales, r.total_fen, r.refunded_fen, r.net_fen, r.member_sales] for r in store_rows],
        ),
        "terminals": (
            ["store", "device", "sales", "revenue_fen", "refunded_fen"],
            [[r.store, r.device, r.sales, r.total_fen, r.refunded_fen] for r in data["terminals"]],
        ),
        "payments": (
            ["method", "payments", "amount_fen", "refunds", "refunded_fen", "net_fen"],
            [[r.method, r.payments, r.amount_fen, r.refunds, r.refunded_fen, r.net_fen]
             for r in data["payments"]],
        ),
        "categories": (
            ["category", "net_quantity", "revenue_fen", "refunded_fen", "net_fen"],
            [[r.category, r.quantity, r.total_fen, r.refunded_fen, r.net_fen] for r in data["categories"]],
        ),
        "products": (
            product_head,
            [[p.sku, p.name_zh, p.name_en, p.category, p.quantity, p.total_fen, p.refunded_quantity,
              p.refunded_fen, p.net_fen] for p in products],
        ),
    }  # fmt: skip


def heat_svg(grid: list[list[int]], lang: str) -> str:
    """The weekday × hour grid as an inline SVG (scales to the page; no script, no web font)."""
    peak = max((n for row in grid for n in row), default=0)
    cell, left, top = 28, 44, 22
    parts = [
        f'<svg id="heatmap" viewBox="0 0 {left + 24 * cell} {top + 7 * cell}" role="img" width="100%" '
        f'style="max-width:{left + 24 * cell}px; min-width:540px" font-size="13" '
        'xmlns="http://www.w3.org/2000/svg">'
    ]
    for h in range(0, 24, 3):
        parts.append(f'<text x="{left + h * cell + 4}" y="15" fill="#616e7c">{h:02d}</text>')
    for d in range(7):
        name = i18n.t(_WEEKDAYS[d], lang)
        parts.append(f'<text x="0" y="{top + d * cell + 19}" fill="#616e7c">{name}</text>')
        for h in range(24):
            n = grid[d][h]
            # orange at the busiest hour, fading to the page colour at none
            alpha = round(0.08 + 0.92 * n / peak, 2) if n and peak else 0
            fill = f"rgba(194,65,12,{alpha})" if alpha else "#f5f7fa"
            parts.append(
                f'<rect x="{left + h * cell}" y="{top + d * cell}" width="{cell - 2}" '
                f'height="{cell - 2}" rx="3" '
                f'fill="{fill}" data-n="{n}"><title>{name} {h:02d}:00 · {n}</title></rect>'
            )
    parts.append("</svg>")
    return "".join(parts)


def bars_svg(rows: list[reports.PeriodRow]) -> str:
    """Net revenue per bucket as inline SVG bars (refunds bigger than sales draw no bar)."""
    if not rows:
        return ""
    peak = max(max(r.net_fen for r in rows), 1)
    width, height, gap = max(24, 720 // len(rows)), 140, 2
    parts = [
        f'<svg id="period-chart" viewBox="0 0 {width * len(rows)} {height}" width="100%" height="{height}" '
        'preserveAspectRatio="none" role="img" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, r in enumerate(rows):
        h = max(r.net_fen, 0) * height // peak
        parts.append(
            f'<rect x="{i * width + gap}" y="{height - h}" width="{width - 2 * gap}" height="{h}" '
            f'fill="#fdba74"><title>{r.key}</title></rect>'
        )
    parts.append("</svg>")
    return "".join(parts)


def router(tz: ZoneInfo, today: Callable[[], dt.date] | None = None) -> APIRouter:
    """Routes for ``/reports``, its CSV and ``/api/v1/reports/sales``; ``today`` pins the clock in tests."""
    routes = APIRouter()

    def current_day() -> dt.date:
        return today() if today else dt.datetime.now(tz).date()

    def chosen(request: Request) -> tuple[dt.date, dt.date, str | None]:
        q = request.query_params
        first, last = reports.parse_range(q.get("from") or None, q.get("to") or None, current_day())
        return first, last, q.get("store") or None

    def period_of(request: Request) -> str:
        period = request.query_params.get("period") or "day"
        return period if period in reports.PERIODS else "day"

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
        period = period_of(request)

        def link(a: dt.date, b: dt.date, **extra: str) -> str:
            query = {
                "from": a.isoformat(),
                "to": b.isoformat(),
                **({"store": store} if store else {}),
                **extra,
            }
            return "?" + urlencode({**query, **({"lang": "en"} if lang == "en" else {})})

        data = _report(first, last, store, period)
        context.update(
            data,
            first=first.isoformat(),
            last=last.isoformat(),
            store=store or "",
            stores=reports.stores(),
            error=error,
            period=period,
            period_links=[(p, link(first, last, period=p)) for p in reports.PERIODS],
            heat=heat_svg(data["heatmap"], lang),
            bars=bars_svg(data["periods"]),
            peak=max((d.total_fen for d in data["days"]), default=0),
            method_name=lambda method: payment_method_name(method, lang),
            change=lambda now, before: int((now - before) * 100 / before) if before else None,
            presets=[
                (N_("preset_today"), link(day, day)),
                (N_("preset_7"), link(day - dt.timedelta(days=6), day)),
                (N_("preset_30"), link(day - dt.timedelta(days=29), day)),
                (N_("preset_month"), link(day.replace(day=1), day)),
            ],
            csv_link="/reports.csv" + link(first, last),
            table_csv=lambda table: "/reports.csv" + link(first, last, table=table, period=period),
            payments_link=lambda ext: f"/finance/payments.{ext}" + link(first, last),
        )
        return TEMPLATES.TemplateResponse(request, "reports.html", context, status_code=400 if error else 200)

    @routes.get("/reports.csv")
    def reports_csv(request: Request) -> Response:
        """One table of the report (``table``: days by default, periods, heatmap, stores, terminals,
        payments, categories, products) as CSV, money in fen."""
        try:
            first, last, store = chosen(request)
        except reports.RangeError as bad:
            raise HTTPException(status_code=400, detail=f"{bad.zh} / {bad.en}") from None
        table = request.query_params.get("table") or "days"
        everything = tables(first, last, store, period_of(request))
        if table not in everything:
            raise HTTPException(
                status_code=404,
                detail=f"没有这个表：{table}（可选：{'、'.join(everything)}） / "
                f"no table {table!r} (one of {', '.join(everything)})",
            )
        header, rows = everything[table]
        prefix = "sales" if table == "days" else f"sales-{table}"
        name = f"{prefix}-{first.isoformat()}-{last.isoformat()}{'-' + store if store else ''}"
        return exports.csv_response(name, header, rows)

    @routes.get("/api/v1/reports/sales", tags=["reports"])
    def reports_api(request: Request) -> dict[str, Any]:
        """Sales from ``from`` to ``to`` (YYYY-MM-DD, default the last 7 days), optionally one ``store``."""
        try:
            first, last, store = chosen(request)
        except reports.RangeError as bad:
            raise HTTPException(status_code=400, detail=f"{bad.zh} / {bad.en}") from None
        # the figures a program wants in two statements: the summary rows (days, terminals, payment
        # methods, the member ledger's flows) and the products with the catalog
        figures = reports.range_figures(first, last, store)
        summary = figures.summary
        products = reports.products(first, last, store)
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
            "previous": dataclasses.asdict(figures.previous),
            "days": [dataclasses.asdict(row) for row in figures.days],
            "terminals": [dataclasses.asdict(row) for row in figures.terminals],
            "payments": [dataclasses.asdict(row) for row in figures.payments],
            "products": [
                dataclasses.asdict(row) for row in reports.top_products(first, last, store, rows=products)
            ],
            "categories": [
                dataclasses.asdict(row) for row in reports.by_category(first, last, store, rows=products)
            ],
            "loyalty": dataclasses.asdict(figures.loyalty),
        }

    return routes
