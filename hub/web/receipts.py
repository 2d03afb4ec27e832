"""The e-receipt a shopper opens from the QR on the kiosk's receipt: ``GET /r/{token}``.

The token is the link the terminal signed offline (:mod:`kiosk.domain.receipt_link`):
receipt number, expiry and an HMAC with that terminal's receipt key
(:mod:`hub.fleet.receipt_keys`). A bare receipt number opens nothing.

Chinese by default, English with ``?lang=en``. Lines and totals come from the
booked sale; payments from its ``sale.completed`` event as the terminal sent it;
refunds (what went back, when, by which payment) from the booked refunds.

Under the receipt the shopper rates the visit with one tap (1–5 stars, a comment if they
like): ``POST /r/{token}/rating``, once per receipt (:mod:`hub.reports.ratings`). The signed
link is the only key: no session, so no CSRF token; a post another site's page makes is
refused by its ``Origin``.
"""

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from hub.db import transaction
from hub.fleet.receipt_keys import device_receipt_key, receipt_secret
from hub.ingest.models import Refund, RefundLine, RefundPayment, Sale, SaleLine
from hub.ingest.refunds import refunds_of
from hub.reports import ratings
from hub.web import i18n
from hub.web.auth import check_origin
from hub.web.i18n import N_
from hub.web.pages import TEMPLATES, form_fields, language
from kiosk.domain import receipt_link
from kiosk.domain.money import format_fen
from kiosk.i18n import payment_method_name


def receipt_context(sale: Sale, lang: str) -> dict[str, Any]:
    """What the receipt page shows for ``sale``: lines, totals and payments, in ``lang``."""
    booked = list(SaleLine.select().where(SaleLine.sale == sale).order_by(SaleLine.position))
    lines = [
        {
            "name": (line.name_en or line.name_zh) if lang == "en" else line.name_zh,
            "quantity": line.quantity,
            "unit_price": format_fen(line.unit_price_fen),
            "total": format_fen(line.total_fen),
        }
        for line in booked
    ]
    subtotal = sum(line.total_fen for line in booked)
    data = json.loads(sale.event.body)["data"]
    payments = [
        {"method": payment_method_name(p["method"], lang), "amount": format_fen(p["amount_fen"])}
        for p in data.get("payments", [])
    ]
    names = {
        line.position: (line.name_en or line.name_zh) if lang == "en" else line.name_zh for line in booked
    }
    booked_refunds = refunds_of(sale)
    return {
        "refunds": [refund_context(r, names, lang) for r in booked_refunds],
        "refunded_total": format_fen(sum(r.amount_fen for r in booked_refunds)) if booked_refunds else "",
        "receipt_no": sale.receipt_no,
        "time": sale.sold_at[:19].replace("T", " "),
        "lines": lines,
        "subtotal": format_fen(subtotal),
        "discount": format_fen(sale.total_fen - subtotal) if subtotal != sale.total_fen else "",
        "total": format_fen(sale.total_fen),
        "payments": payments,
    }


def refund_context(refund: Refund, names: dict[int, str], lang: str) -> dict[str, Any]:
    """One refund on the receipt page: when, what came back, and where the money went."""
    lines = RefundLine.select().where(RefundLine.refund == refund).order_by(RefundLine.position)
    pays = RefundPayment.select().where(RefundPayment.refund == refund).order_by(RefundPayment.id)
    return {
        "time": refund.refunded_at[:19].replace("T", " "),
        "amount": format_fen(refund.amount_fen),
        "lines": [
            {
                "name": names.get(x.position, str(x.position)),
                "quantity": x.quantity,
                "total": format_fen(x.total_fen),
            }
            for x in lines
        ],
        "payments": [
            {"method": payment_method_name(p.method, lang), "amount": format_fen(p.amount_fen)} for p in pays
        ],
    }


def open_link(token: str, data_dir: Path, now: dt.datetime) -> Sale | None:
    """The sale a receipt link opens: known, signed with its own terminal's key, not expired.

    None for anything else, without saying which: a malformed token, an unknown receipt
    number, a signature made with another terminal's key (or none the hub gave), an
    expired link, or a hub without its receipt secret all look the same to the asker.
    """
    try:
        link = receipt_link.parse(token)
    except receipt_link.BadReceiptLink:
        return None
    secret = receipt_secret(data_dir)
    sale = Sale.get_or_none(Sale.receipt_no == link.receipt_no)
    if secret is None or sale is None:
        return None
    try:
        receipt_link.check(link, device_receipt_key(secret, sale.device), now)
    except receipt_link.BadReceiptLink:
        return None
    return sale


# why a rating was not stored -> what the shopper reads
RATING_PROBLEMS = {
    "stars": N_("rating_bad_stars"),
    "comment": N_("rating_bad_comment"),
    "already": N_("rating_already"),
}


def receipt_page(
    request: Request,
    sale: Sale | None,
    public: bool,
    problem: str = "",
    comment: str = "",
    status: int = 200,
) -> HTMLResponse:
    """The receipt page of ``sale``, or the one not-found page (in both languages) for None."""
    lang = language(request)
    # public: the customer's page, with no links into the owner's dashboard
    context: dict[str, Any] = {"lang": lang, "title_key": N_("ereceipt_title"), "public": public}
    if sale is None:
        other = "zh" if lang == "en" else "en"  # a shopper lost here may read either language
        context.update(missing=True, other=other, other_text=i18n.t("ereceipt_not_found", other))
        return TEMPLATES.TemplateResponse(request, "receipt.html", context, status_code=404)
    context["receipt"] = receipt_context(sale, lang)
    context |= {
        "rating": ratings.rating_of(sale.receipt_no),
        "rating_problem": RATING_PROBLEMS.get(problem, ""),
        "comment": comment,
        "comment_max": ratings.COMMENT_MAX,
        "stars": ratings.STARS,
        "rated_now": request.query_params.get("rated") == "1",
    }
    return TEMPLATES.TemplateResponse(request, "receipt.html", context, status_code=status)


def router(data_dir: Path, clock: Callable[[], dt.datetime] | None = None) -> APIRouter:
    """The public ``/r/{token}`` route; ``clock`` pins the expiry check in tests."""
    routes = APIRouter()

    def now() -> dt.datetime:
        return clock() if clock else dt.datetime.now(dt.UTC)

    @routes.get("/r/{token}", response_class=HTMLResponse)
    def receipt(request: Request, token: str) -> HTMLResponse:
        # one page for unknown, forged, another terminal's and expired links: no oracle
        return receipt_page(request, open_link(token, data_dir, now()), True)

    @routes.post("/r/{token}/rating", response_class=HTMLResponse, response_model=None)
    async def rate(request: Request, token: str) -> HTMLResponse | RedirectResponse:
        """One tap: the stars (and the comment typed above them), stored once for the receipt."""
        check_origin(request)
        sale = open_link(token, data_dir, now())
        form = await form_fields(request)
        if sale is None:
            return receipt_page(request, None, True)
        try:
            with transaction():
                ratings.rate(sale, form.get("stars", ""), form.get("comment", ""), now())
        except ratings.RatingRefused as exc:
            return receipt_page(request, sale, True, exc.reason, form.get("comment", ""), 422)
        lang = "&lang=en" if language(request) == "en" else ""
        return RedirectResponse(f"/r/{token}?rated=1{lang}#rating", 303)

    return routes


def owner_router() -> APIRouter:
    """``/sales/{receipt_no}/receipt``: the same page for a signed-in person (reconciliation links here)."""
    routes = APIRouter()

    @routes.get("/sales/{receipt_no}/receipt", response_class=HTMLResponse)
    def sale_receipt(request: Request, receipt_no: str) -> HTMLResponse:
        return receipt_page(request, Sale.get_or_none(Sale.receipt_no == receipt_no), False)

    return routes
