"""Money for the accountant: daily takings by store and payment method (CSV and XLSX).

``/finance/payments.csv?from=2026-11-01&to=2026-11-30&store=S01`` (and ``.xlsx``): one row per
day, store and payment method with the money taken, the refunds given back by that method on
that day, and the net, all in yuan with two decimals (what a bookkeeping import expects) and in
fen. Refunds count on the day the money went back, as everywhere in the reports.
"""

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from hub.reports import queries as reports
from hub.web import exports

PAYMENT_HEADER = ["date", "store", "method", "payments", "amount", "refunds", "refunded", "net", "amount_fen",
                  "refunded_fen", "net_fen"]  # fmt: skip


def yuan(fen: int) -> str:
    """Fen as yuan with two decimals, exact (no float): 12345 -> "123.45", -5 -> "-0.05"."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def payment_rows(first: dt.date, last: dt.date, store: str | None) -> list[list[Any]]:
    """The accountant's rows: day, store, method, counts and money (yuan text and fen)."""
    return [
        [r.day, r.store, r.method, r.payments, yuan(r.amount_fen), r.refunds, yuan(r.refunded_fen),
         yuan(r.net_fen), r.amount_fen, r.refunded_fen, r.net_fen]
        for r in reports.daily_payments(first, last, store)
    ]  # fmt: skip


def router(tz: ZoneInfo, today: Callable[[], dt.date] | None = None) -> APIRouter:
    """The finance downloads; ``today`` pins the clock in tests."""
    routes = APIRouter()

    def chosen(request: Request) -> tuple[dt.date, dt.date, str | None]:
        q = request.query_params
        day = today() if today else dt.datetime.now(tz).date()
        try:
            first, last = reports.parse_range(q.get("from") or None, q.get("to") or None, day)
        except reports.RangeError as bad:
            raise HTTPException(status_code=400, detail=f"{bad.zh} / {bad.en}") from None
        return first, last, q.get("store") or None

    def name(first: dt.date, last: dt.date, store: str | None) -> str:
        return f"payments-{first.isoformat()}-{last.isoformat()}{'-' + store if store else ''}"

    @routes.get("/finance/payments.csv")
    def payments_csv(request: Request) -> Response:
        """Daily takings by store and payment method as CSV."""
        first, last, store = chosen(request)
        return exports.csv_response(
            name(first, last, store), PAYMENT_HEADER, payment_rows(first, last, store)
        )

    @routes.get("/finance/payments.xlsx")
    def payments_xlsx(request: Request) -> Response:
        """Daily takings by store and payment method as an Excel workbook."""
        first, last, store = chosen(request)
        return exports.xlsx_response(
            name(first, last, store), PAYMENT_HEADER, payment_rows(first, last, store)
        )

    return routes
