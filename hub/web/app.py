"""The owner's dashboard and JSON API (FastAPI, server-rendered pages)."""

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, FastAPI

from hub.api import campaigns as campaign_api
from hub.api import flash as flash_api
from hub.api import loyalty as loyalty_api
from hub.api import member_snapshot as member_snapshot_api
from hub.api import members as member_api
from hub.api import rules as rules_api
from hub.api import sms as sms_api
from hub.reports import queries as reports
from hub.staff.downlink import RosterPublisher
from hub.web import attendance as attendance_web
from hub.web import audit as audit_web
from hub.web import auth, proxies
from hub.web import campaigns as campaign_web
from hub.web import catalog as catalog_web
from hub.web import count_cards as count_card_web
from hub.web import finance as finance_web
from hub.web import flash_sales as flash_web
from hub.web import jobs as jobs_web
from hub.web import login as login_web
from hub.web import member_export as export_web
from hub.web import member_register as member_register_web
from hub.web import members as member_web
from hub.web import message_templates as message_template_web
from hub.web import messages as messages_web
from hub.web import overview as overview_web
from hub.web import ratings as ratings_web
from hub.web import receipts as receipt_web
from hub.web import reconciliation as reconciliation_web
from hub.web import releases as release_web
from hub.web import reports as report_web
from hub.web import rules as rules_web
from hub.web import staff as staff_web
from hub.web import stock as stock_web
from hub.web import sync as sync_web
from hub.web import together as together_web


def create_app(
    tz: ZoneInfo,
    today: Callable[[], dt.date] | None = None,
    export_pages: export_web.ExportPages | None = None,
    device_auth: member_snapshot_api.DeviceAuth | None = None,
    data_dir: Path = Path("/var/lib/hub"),
    publish_catalog: catalog_web.Publisher | None = None,
    clock: Callable[[], dt.datetime] | None = None,
    publish_staff: RosterPublisher | None = None,
    trusted_proxies: tuple[str, ...] = (),
) -> FastAPI:
    """The web app; ``today`` and the export pages' clock are injectable so tests pin time.

    ``device_auth`` checks terminals fetching a member snapshot (without it that endpoint answers 503).
    Software releases (``hub release add``) are served from ``data_dir``. ``publish_catalog`` sends the
    catalog to the terminals from the catalog page (``hub serve`` gives one; without it the page says how).
    ``clock`` pins the jobs page's time. ``publish_staff`` sends the staff rosters to the terminals
    from the staff page (``hub serve`` gives one). ``trusted_proxies`` (checked by
    ``hub.web.proxies.trusted_proxies``) are the reverse proxies whose ``X-Forwarded-For`` says who the
    client is (the login limit counts that client); nobody else's is read.
    """
    # the API description is served to signed-in callers only (below), never to anyone who asks
    app = FastAPI(title="Member Kiosk hub", version="0.1.0", openapi_url=None, docs_url=None, redoc_url=None)
    app.add_exception_handler(auth.LoginRequired, auth.login_redirect)
    proxies.honour_proxies(app, trusted_proxies)

    def add(router: APIRouter, rule: auth.Rule) -> None:
        # the rule covers every route of the router: it is what the route-walk test reads
        app.include_router(router, dependencies=[Depends(rule)])

    terminals = auth.Terminal("device id and broker password (HTTP Basic), own snapshot only")
    add(loyalty_api.router, auth.SignedIn("members"))
    add(member_api.router, auth.SignedIn("members"))
    add(campaign_api.router(tz), auth.SignedIn("campaigns"))
    add(flash_api.router(data_dir), auth.SignedIn("campaigns"))  # a manager: their stores' only
    add(member_snapshot_api.router(device_auth), terminals)
    add(
        sms_api.router(),
        auth.Terminal("the SMS gateway's bearer token (HUB_SMS_TOKEN), checked by the route"),
    )
    add(sync_web.router(tz), auth.SignedIn("fleet"))
    add(
        receipt_web.router(data_dir, clock),
        auth.Public("a shopper's e-receipt: link signed by its terminal, expiring; no member data"),
    )
    add(export_web.router(export_pages), auth.Public("signed, expiring link and the member's PIN"))
    add(reconciliation_web.router(tz), auth.SignedIn("finance"))
    add(receipt_web.owner_router(), auth.SignedIn("finance"))  # the receipts reconciliation links
    app.include_router(release_web.router(data_dir, tz))  # rules per route: terminals download files
    add(campaign_web.router(tz), auth.SignedIn("campaigns"))
    # count card kinds: owners and managers (a manager only their stores' kinds, checked there)
    add(count_card_web.router(tz), auth.SignedIn("campaigns"))
    add(flash_web.router(tz, data_dir, clock), auth.SignedIn("campaigns"))  # read: shares and what was sold
    # the texts members receive: the owner's (every store or one), a manager's for their stores (see there)
    add(message_template_web.router(tz), auth.SignedIn("campaigns"))
    add(
        messages_web.router(tz), auth.SignedIn("campaigns")
    )  # a manager: their stores' members (filtered there)
    add(member_register_web.router(tz), auth.SignedIn("members"))  # before /members/{member_id}
    members_routes = member_web.router(tz, today)
    # tag rules tag every store's members: the owner's, like the loyalty rules (not a manager's);
    # added first, so /members/{member_id} does not take /members/tag-rules
    add(members_routes.tag_rule_routes, auth.SignedIn("rules"))  # type: ignore[attr-defined]
    add(members_routes, auth.SignedIn("members"))
    add(report_web.router(tz, today), auth.SignedIn("reports", by_store=True))
    add(together_web.router(tz, today), auth.SignedIn("reports"))  # products, no store figures
    add(ratings_web.router(tz, today), auth.SignedIn("reports"))  # a manager: their stores (filtered there)
    add(overview_web.router(tz, today), auth.SignedIn("reports", by_store=True))
    add(finance_web.router(tz, today), auth.SignedIn("finance"))
    add(catalog_web.router(tz, publish_catalog), auth.SignedIn("catalog"))
    add(stock_web.router(tz, clock), auth.SignedIn("stock"))  # a manager: their own stores (checked there)
    add(staff_web.router(tz, today), auth.SignedIn("staff"))
    add(attendance_web.router(tz), auth.SignedIn("attendance"))  # owner, and managers for their stores
    add(staff_web.accounts_router(tz, publish_staff), auth.SignedIn("staff"))  # writing: the owner
    add(rules_api.router, auth.SignedIn("rules"))
    add(rules_web.router(tz, today), auth.SignedIn("rules"))
    add(jobs_web.router(tz, data_dir, clock), auth.SignedIn("jobs"))
    add(audit_web.router(tz), auth.SignedIn("accounts"))
    app.include_router(login_web.router(data_dir))  # rules per route: login is public, logout is not

    def current_day() -> str:
        return (today() if today else dt.datetime.now(tz).date()).isoformat()

    @app.get("/openapi.json", dependencies=[Depends(auth.SignedIn(None))], include_in_schema=False)
    def openapi() -> dict[str, object]:
        schema = app.openapi()
        schema.setdefault("components", {})["securitySchemes"] = {
            "token": {"type": "http", "scheme": "bearer", "description": "`hub token add`"},
            "session": {"type": "apiKey", "in": "cookie", "name": auth.COOKIE},
        }
        schema["security"] = [{"token": []}, {"session": []}]
        return schema

    @app.get("/api/summary", dependencies=[Depends(auth.SignedIn("reports", by_store=True))])
    def summary(day: str | None = None) -> dict[str, object]:
        result = reports.day_summary(day or current_day())
        return {
            "day": result.day,
            "sales": result.sales,
            "total_fen": result.total_fen,
            "items": result.items,
            "quarantined": reports.quarantine_count(),
            "gaps": reports.gap_count(),
        }

    @app.get("/healthz", dependencies=[Depends(auth.Public("says only that the hub answers"))])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
