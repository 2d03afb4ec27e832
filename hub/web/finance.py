"""Money the business owes and the accountant's downloads.

``/finance?from=2026-11-01&to=2026-11-30``: the liability (points at the redemption value,
stored value principal and bonus) per issuing store at the end of ``to``, how each balance moved
over the period, the cross-store settlement statement (通存通兑) under the owner's store rules
(a form on the page sets them), and the downloads below.


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
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub.reports import money
from hub.reports import queries as reports
from hub.web import exports
from hub.web.pages import TEMPLATES, form_fields, language, page_context
from kiosk.translations import N_

# keys the template builds from an account or a store kind
ACCOUNT_NAMES = (N_("account_points"), N_("account_stored_principal"), N_("account_stored_bonus"))
KIND_NAMES = (N_("kind_direct"), N_("kind_franchise"))

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


LIABILITY_HEADER = ["store", "points", "points_value", "principal", "bonus", "total", "points_value_fen",
                    "principal_fen", "bonus_fen", "total_fen"]  # fmt: skip
SETTLEMENT_HEADER = ["owes", "to", "points", "points_value", "principal", "bonus", "face_value", "rule",
                     "rate_pct", "settled", "settled_fen"]  # fmt: skip


def liability_rows(as_of: dt.date) -> list[list[Any]]:
    """The liability per issuing store and the total (store ``*``), yuan text and fen."""
    return [
        [r.store or "*", r.points, yuan(r.points_value_fen), yuan(r.principal_fen), yuan(r.bonus_fen),
         yuan(r.total_fen), r.points_value_fen, r.principal_fen, r.bonus_fen, r.total_fen]
        for r in money.liability(as_of)
    ]  # fmt: skip


def settlement_rows(first: dt.date, last: dt.date) -> list[list[Any]]:
    """The settlement statement's pairs, yuan text and fen."""
    rows, _net = money.settlement(first, last)
    return [
        [r.owes, r.to, r.points, yuan(money.points_value_fen(r.points)), yuan(r.principal_fen),
         yuan(r.bonus_fen), yuan(r.face_fen), r.rule, yuan(r.rate_bp), yuan(r.settled_fen), r.settled_fen]
        for r in rows
    ]  # fmt: skip


def router(tz: ZoneInfo, today: Callable[[], dt.date] | None = None) -> APIRouter:
    """The finance downloads; ``today`` pins the clock in tests."""
    routes = APIRouter()

    def current_day() -> dt.date:
        return today() if today else dt.datetime.now(tz).date()

    def this_month() -> tuple[dt.date, dt.date]:
        day = current_day()
        return day.replace(day=1), day

    def chosen(request: Request) -> tuple[dt.date, dt.date, str | None]:
        q = request.query_params
        try:
            first, last = reports.parse_range(q.get("from") or None, q.get("to") or None, current_day())
        except reports.RangeError as bad:
            raise HTTPException(status_code=400, detail=f"{bad.zh} / {bad.en}") from None
        if not q.get("from"):  # the accountant's default: the month so far (or the month of ``to``)
            first = last.replace(day=1)
        return first, last, q.get("store") or None

    def page(request: Request, error: str = "", status: int = 200) -> HTMLResponse:
        context = page_context(request, tz)
        lang = context["lang"]
        try:
            first, last, _store = chosen(request)
        except HTTPException as bad:
            first, last = this_month()
            error, status = str(bad.detail).split(" / ")[0 if lang != "en" else 1], 400
        rows, net = money.settlement(first, last)
        query = f"?from={first.isoformat()}&to={last.isoformat()}"
        context.update(
            first=first.isoformat(),
            last=last.isoformat(),
            liability=money.liability(last),
            movement=money.movement(first, last),
            settlement=rows,
            net=net,
            rules=sorted(money.store_rules().values(), key=lambda r: r.store),
            stores=sorted(set(money.device_stores().values()) | set(money.store_rules())),
            points_value=money.points_value_fen,
            pct=yuan,
            error=error,
            query=query + ("&lang=en" if lang == "en" else ""),
            download=lambda name, ext: f"/finance/{name}.{ext}{query}",
        )
        return TEMPLATES.TemplateResponse(request, "finance.html", context, status_code=status)

    @routes.get("/finance", response_class=HTMLResponse)
    def finance_page(request: Request) -> HTMLResponse:
        """Liability, its movement and the cross-store settlement for ``from``..``to`` (this month)."""
        return page(request)

    @routes.post("/finance/rules", response_class=HTMLResponse)
    async def save_rule(request: Request) -> Response:
        """Set one store's settlement rule (direct-run or franchise at a rate); back to the page."""
        fields = await form_fields(request)
        try:
            money.set_store_rule(fields.get("store", ""), fields.get("kind", ""), fields.get("rate", "100"))
        except money.RuleError as bad:
            lang = language(request)
            return page(request, bad.en if lang == "en" else bad.zh, 400)
        back = "/finance" + ("?lang=en" if language(request) == "en" else "")
        return RedirectResponse(back, status_code=303)

    @routes.get("/finance/liability.csv")
    def liability_csv(request: Request) -> Response:
        """Outstanding points and stored value per issuing store at the end of ``to``."""
        _first, last, _store = chosen(request)
        return exports.csv_response(f"liability-{last.isoformat()}", LIABILITY_HEADER, liability_rows(last))

    @routes.get("/finance/liability.xlsx")
    def liability_xlsx(request: Request) -> Response:
        """The liability as an Excel workbook."""
        _first, last, _store = chosen(request)
        return exports.xlsx_response(f"liability-{last.isoformat()}", LIABILITY_HEADER, liability_rows(last))

    @routes.get("/finance/settlement.csv")
    def settlement_csv(request: Request) -> Response:
        """The cross-store settlement statement of ``from``..``to``."""
        first, last, _store = chosen(request)
        name = f"settlement-{first.isoformat()}-{last.isoformat()}"
        return exports.csv_response(name, SETTLEMENT_HEADER, settlement_rows(first, last))

    @routes.get("/finance/settlement.xlsx")
    def settlement_xlsx(request: Request) -> Response:
        """The settlement statement as an Excel workbook."""
        first, last, _store = chosen(request)
        name = f"settlement-{first.isoformat()}-{last.isoformat()}"
        return exports.xlsx_response(name, SETTLEMENT_HEADER, settlement_rows(first, last))

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
