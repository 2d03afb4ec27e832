"""The sends page (``/messages``): every message to a member with its channel and what became of it
(queued, sent, delivered by the SMS gateway's receipt, failed, stopped), filterable by campaign and
status, as CSV too; a manager sees their stores' members only. Members are masked (王** 138****0011).
"""

from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from hub.fleet.presence import as_utc
from hub.messaging import deliveries, templates
from hub.web import exports, i18n
from hub.web.i18n import N_
from hub.web.pages import TEMPLATES, page_context

TITLE = N_("sends_title")
PAGE_ROWS = 200  # the newest sends the page shows; the CSV has them all
STATUS_NAMES = {
    "queued": N_("send_status_queued"),
    "sent": N_("send_status_sent"),
    "delivered": N_("send_status_delivered"),
    "failed": N_("send_status_failed"),
    "stopped": N_("send_status_stopped"),
}
# the sender's reasons (hub.messaging.sender, deliveries) in words; a channel's own errors are bilingual
REASONS = {
    "no marketing consent": N_("send_reason_no_consent"),
    "no email contact": N_("send_reason_no_email"),
    "no sms contact": N_("send_reason_no_phone"),
    "no email channel configured": N_("send_reason_no_mail_server"),
    "no sms channel configured": N_("send_reason_no_gateway"),
    "undelivered": N_("send_reason_undelivered"),
}
CSV_HEADER = ["queued_at", "member", "campaign", "kind", "channel", "status", "sent_at", "delivered_at",
              "attempts", "reason", "message_id"]  # fmt: skip


def kind_name(kind: str, names: dict[str, tuple[str, str]], lang: str) -> str:
    """A message kind in words: the campaign's name, or what the message is (积分到期提醒)."""
    if kind in names and names[kind][0]:
        return names[kind][1] if lang == "en" else names[kind][0]
    if kind == "expiry_reminder":
        return i18n.t("tpl_kind_expiry_reminder", lang)
    return kind


def _csv_row(s: deliveries.Send, names: dict[str, tuple[str, str]], local: Any) -> list[object]:
    return [
        local(s.queued_at), s.member, kind_name(s.kind, names, "zh"), s.kind, s.channel, s.status,
        local(s.sent_at), local(s.delivered_at), s.attempts, s.reason, s.id,
    ]  # fmt: skip


def reason_text(reason: str, lang: str) -> str:
    """Why a message failed or stopped, in ``lang``."""
    return i18n.t(REASONS[reason], lang) if reason in REASONS else reason


def _stores(request: Request) -> frozenset[str] | None:
    who = getattr(request.state, "principal", None)
    return who.stores if who is not None else None


def router(tz: ZoneInfo) -> APIRouter:
    """``GET /messages`` and ``GET /messages.csv`` (``?campaign=campaign:<id>&status=failed``)."""
    routes = APIRouter()

    def local(value: Any) -> str:
        when = as_utc(value)
        return when.astimezone(tz).strftime("%Y-%m-%d %H:%M") if when else ""

    @routes.get("/messages", response_class=HTMLResponse)
    def page(request: Request, campaign: str = "", status: str = "") -> HTMLResponse:
        context = page_context(request, tz)
        lang = context["lang"]
        names = {k: (zh, en) for k, zh, en in deliveries.kinds(_stores(request))}
        rows = deliveries.sends(
            list(deliveries.query(campaign, status, stores=_stores(request)).limit(PAGE_ROWS))
        )
        context |= {
            "title_key": TITLE,
            "rows": rows,
            "campaign": campaign,
            "status": status if status in deliveries.STATUSES else "",
            "kinds": [(k, kind_name(k, names, lang)) for k in names],
            "statuses": [(s, i18n.t(STATUS_NAMES[s], lang)) for s in deliveries.STATUSES],
            "status_name": lambda s: i18n.t(STATUS_NAMES[s], lang),
            "reason_text": lambda r: reason_text(r, lang),
            "kind_name": lambda k: kind_name(k, names, lang),
            "channel_name": lambda c: (
                i18n.t(templates.CHANNEL_NAMES[c], lang) if c in templates.CHANNEL_NAMES else c
            ),
            "limit": PAGE_ROWS,
        }
        return TEMPLATES.TemplateResponse(request, "messages.html", context)

    @routes.get("/messages.csv")
    def csv(request: Request, campaign: str = "", status: str = "") -> Response:
        names = {k: (zh, en) for k, zh, en in deliveries.kinds()}
        rows = deliveries.sends(deliveries.query(campaign, status, stores=_stores(request)))
        return exports.csv_response("messages", CSV_HEADER, (_csv_row(s, names, local) for s in rows))

    return routes
