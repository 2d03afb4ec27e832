"""A member's "export my data" download, opened from the QR on the kiosk's My account screen.

``GET /my-data/{token}`` shows a PIN form; ``POST`` with the member's PIN returns
their profile, balances, coupons and ledger as JSON or CSV. The token is signed
with the business's link key and expires, a wrong PIN is refused, and after
:data:`MAX_WRONG` wrong PINs the member's export is locked for :data:`LOCK_S`.
Chinese by default, English with ``?lang=en``.
"""

import csv
import datetime as dt
import io
import json
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from hub.db import transaction
from hub.members import ledger as loyalty
from hub.members.feed import member_coupons
from hub.members.models import HubMember
from hub.messaging import queue as messages
from hub.web import i18n
from hub.web.exports import safe_rows
from hub.web.i18n import N_
from hub.web.pages import TEMPLATES, form_fields, language
from kiosk.domain.loyalty import InvalidMemberQr, read_member_qr
from kiosk.domain.loyalty.pin_lockout import PinLockout
from kiosk.domain.loyalty.registration import MARKETING_VERSION
from kiosk.store.pii import PiiKey, verify_pin

MAX_WRONG, LOCK_S = 5, 900.0
LEDGER_COLUMNS = ("at", "account", "kind", "amount", "device", "sale_id", "rule", "id")


def member_export(member: HubMember, key: PiiKey) -> dict[str, Any]:
    """Everything the hub holds about ``member``: profile in clear, consent, balances, coupons, ledger."""

    def clear(token: str, field: str) -> str:
        return key.decrypt(token, f"{member.id}:{field}") if token else ""

    entries = sorted(loyalty.member_entries(member.id), key=lambda e: (e.at, e.device, e.seq))
    return {
        "member": {
            "id": member.id,
            "phone": clear(member.phone_enc, "phone"),
            "name": clear(member.name_enc, "name"),
            "birthday": clear(member.birthday_enc, "birthday"),
            "gender": member.gender,
            "tier": member.tier_code,
            "home_store": member.home_store,
            "source": member.source,
            "created_at": member.created_at,
            "consent": {
                "version": member.consent_version,
                "at": member.consent_at,
                "where": member.consent_where,
            },
        },
        "marketing_consent": _marketing(member.id, key),
        "balances": loyalty.member_balances(member.id),
        "coupons": member_coupons([member.id])[member.id],  # campaign and welcome coupons, used or not
        "ledger": [{k: getattr(e, k) for k in LEDGER_COLUMNS} for e in entries],
    }


def _marketing(member_id: str, key: PiiKey) -> dict[str, Any] | None:
    """The member's marketing consent as they may see it (None: never asked)."""
    row = messages.consent_state(member_id)
    if row is None:
        return None
    email = key.decrypt(row.email_enc, f"{member_id}:email") if row.email_enc else ""
    return {
        "granted": row.granted,
        "version": row.version,
        "where": row.where,
        "at": str(row.at),
        "email": email,
    }


def export_csv(data: dict[str, Any]) -> str:
    """The export as CSV: ``field,value`` rows of the profile and balances, a blank row, the ledger."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["field", "value"])
    profile = {k: v for k, v in data["member"].items() if k != "consent"}
    profile.update({f"consent_{k}": v for k, v in data["member"]["consent"].items()})
    profile.update({f"balance_{k}": v for k, v in data["balances"].items()})
    writer.writerows(safe_rows(profile.items()))
    writer.writerow([])
    writer.writerow(LEDGER_COLUMNS)
    writer.writerows(safe_rows([row[k] for k in LEDGER_COLUMNS] for row in data["ledger"]))
    return out.getvalue()


class ExportPages:
    """The two routes and the wrong-PIN lockout they share (per member, in this hub process)."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self.lockout = PinLockout(max_wrong=MAX_WRONG, lock_s=LOCK_S)
        self.clock = clock

    def page(self, request: Request, lang: str, status: int = 200, **context: Any) -> HTMLResponse:
        """The export page with ``context`` (``error``, ``form``)."""
        base = {"lang": lang, "title_key": N_("my_data_title"), "public": True}
        return TEMPLATES.TemplateResponse(request, "my_data.html", {**base, **context}, status_code=status)

    def member_for(self, token: str) -> tuple[HubMember | None, str]:
        """The member a valid token names (following merges), or None and why not."""
        key = loyalty.settings.key
        if key is None:
            return None, "no_key"
        try:
            member_id = read_member_qr(token, key.link_keys(), dt.datetime.now(dt.UTC))
        except InvalidMemberQr as exc:
            return None, str(exc)
        return HubMember.get_or_none(HubMember.id == loyalty.resolve(member_id)), "bad_link"

    def show(self, request: Request, token: str) -> HTMLResponse:
        """GET: the PIN form, or why there is none."""
        lang = language(request)
        return self._refusal(request, lang, token) or self.page(request, lang, form=True)

    def _refusal(self, request: Request, lang: str, token: str) -> HTMLResponse | None:
        member, why = self.member_for(token)
        if why == "no_key":
            return self.page(request, lang, 503, error=i18n.t("my_data_no_key", lang))
        if member is None:
            return self.page(request, lang, 404, error=i18n.t("my_data_bad_link", lang, reason=why))
        if member.erased_at:
            return self.page(request, lang, 410, error=i18n.t("my_data_erased", lang))
        if not member.pin_hash:
            return self.page(request, lang, 409, error=i18n.t("my_data_no_pin", lang))
        return None

    def _pin_refusal(self, request: Request, lang: str, member: HubMember, pin: str) -> HTMLResponse | None:
        """Check the member's PIN against the lockout: a refusal page, or None when it is right."""
        now = self.clock()
        locked = self.lockout.seconds_locked(member.id, now)
        if locked:
            minutes = -(-locked // 60)
            return self.page(request, lang, 429, error=i18n.t("my_data_locked", lang, minutes=minutes))
        if not verify_pin(pin, member.pin_hash):
            left = self.lockout.wrong(member.id, now)
            if left == 0:
                minutes = int(LOCK_S // 60)
                return self.page(request, lang, 429, error=i18n.t("my_data_locked", lang, minutes=minutes))
            return self.page(
                request, lang, 403, form=True, error=i18n.t("my_data_wrong_pin", lang, left=left)
            )
        self.lockout.right(member.id)
        return None

    async def marketing(self, request: Request, token: str) -> HTMLResponse:
        """POST: with the PIN, turn marketing messages on (with an e-mail address, optional) or off."""
        lang = language(request)
        refused = self._refusal(request, lang, token)
        if refused is not None:
            return refused
        member, _ = self.member_for(token)
        assert member is not None
        form = await form_fields(request)
        wrong = self._pin_refusal(request, lang, member, form.get("pin", ""))
        if wrong is not None:
            return wrong
        granted = form.get("marketing") == "1"
        email = form.get("email", "").strip()
        if email and ("@" not in email or len(email) > 200):
            return self.page(
                request, lang, 422, form=True, error=i18n.t("my_data_bad_email", lang, email=email)
            )
        with transaction():
            messages.set_consent(
                member.id, granted, MARKETING_VERSION, "my-data", "member", dt.datetime.now(dt.UTC),
                email=email or None,  # blank keeps the address given before
            )  # fmt: skip
        done = N_("my_data_marketing_on") if granted else N_("my_data_marketing_off")
        return self.page(request, lang, form=True, done=i18n.t(done, lang))

    async def download(self, request: Request, token: str) -> Response:
        """POST: check the PIN (and the lockout), then send the file."""
        lang = language(request)
        refused = self._refusal(request, lang, token)
        if refused is not None:
            return refused
        member, _ = self.member_for(token)
        assert member is not None and loyalty.settings.key is not None
        form = await form_fields(request)
        kind = form.get("format", "json")
        wrong = self._pin_refusal(request, lang, member, form.get("pin", ""))
        if wrong is not None:
            return wrong
        data = member_export(member, loyalty.settings.key)
        if kind == "csv":
            body, media = export_csv(data), "text/csv; charset=utf-8"
        else:
            body, media = json.dumps(data, ensure_ascii=False, indent=2), "application/json"
        name = f"member-{member.id}.{'csv' if kind == 'csv' else 'json'}"
        return Response(
            body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
        )


def router(pages: ExportPages | None = None) -> APIRouter:
    """The ``/my-data/{token}`` routes."""
    pages = pages or ExportPages()
    routes = APIRouter()
    routes.add_api_route("/my-data/{token}", pages.show, methods=["GET"], response_class=HTMLResponse)
    routes.add_api_route("/my-data/{token}", pages.download, methods=["POST"])
    routes.add_api_route(
        "/my-data/{token}/marketing", pages.marketing, methods=["POST"], response_class=HTMLResponse
    )
    return routes
