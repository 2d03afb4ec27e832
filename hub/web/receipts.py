"""The e-receipt a shopper opens from the QR on the kiosk's receipt: ``GET /r/{receipt_no}``.

Chinese by default, English with ``?lang=en``. Lines and totals come from the
booked sale; payments from its ``sale.completed`` event as the terminal sent it;
refunds (what went back, when, by which payment) from the booked refunds.
"""

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from hub.ingest.models import Refund, RefundLine, RefundPayment, Sale, SaleLine
from hub.ingest.refunds import refunds_of
from hub.web import i18n
from hub.web.i18n import N_
from hub.web.pages import TEMPLATES, language
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


def router() -> APIRouter:
    """The ``/r/{receipt_no}`` route."""
    routes = APIRouter()

    @routes.get("/r/{receipt_no}", response_class=HTMLResponse)
    def receipt(request: Request, receipt_no: str) -> HTMLResponse:
        lang = language(request)
        context: dict[str, Any] = {
            "lang": lang,
            "title_key": N_("ereceipt_title"),
            "public": True,  # the customer's page: no links into the owner's dashboard
        }
        sale = Sale.get_or_none(Sale.receipt_no == receipt_no)
        if sale is None:
            context["missing"] = receipt_no
            other = "zh" if lang == "en" else "en"  # a shopper lost here may read either language
            context.update(other=other, other_text=i18n.t("ereceipt_not_found", other, receipt_no=receipt_no))
            return TEMPLATES.TemplateResponse(request, "receipt.html", context, status_code=404)
        context["receipt"] = receipt_context(sale, lang)
        return TEMPLATES.TemplateResponse(request, "receipt.html", context)

    return routes
