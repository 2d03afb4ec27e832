"""The owner's dashboard and JSON API (FastAPI, server-rendered pages)."""

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import FastAPI

from hub.api import campaigns as campaign_api
from hub.api import loyalty as loyalty_api
from hub.api import member_snapshot as member_snapshot_api
from hub.api import members as member_api
from hub.api import rules as rules_api
from hub.reports import queries as reports
from hub.staff.downlink import RosterPublisher
from hub.web import campaigns as campaign_web
from hub.web import catalog as catalog_web
from hub.web import finance as finance_web
from hub.web import jobs as jobs_web
from hub.web import member_export as export_web
from hub.web import members as member_web
from hub.web import overview as overview_web
from hub.web import receipts as receipt_web
from hub.web import reconciliation as reconciliation_web
from hub.web import releases as release_web
from hub.web import reports as report_web
from hub.web import rules as rules_web
from hub.web import staff as staff_web
from hub.web import sync as sync_web


def create_app(
    tz: ZoneInfo,
    today: Callable[[], dt.date] | None = None,
    export_pages: export_web.ExportPages | None = None,
    device_auth: member_snapshot_api.DeviceAuth | None = None,
    data_dir: Path = Path("/var/lib/hub"),
    publish_catalog: catalog_web.Publisher | None = None,
    publish_staff: RosterPublisher | None = None,
    clock: Callable[[], dt.datetime] | None = None,
) -> FastAPI:
    """The web app; ``today`` and the export pages' clock are injectable so tests pin time.

    ``device_auth`` checks terminals fetching a member snapshot (without it that endpoint answers 503).
    Software releases (``hub release add``) are served from ``data_dir``. ``publish_catalog`` sends the
    catalog to the terminals from the catalog page (``hub serve`` gives one; without it the page says how).
    ``clock`` pins the jobs page's time.
    """
    app = FastAPI(title="Member Kiosk hub", version="0.1.0")
    app.include_router(loyalty_api.router)
    app.include_router(member_api.router)
    app.include_router(campaign_api.router(tz))
    app.include_router(member_snapshot_api.router(device_auth))
    app.include_router(sync_web.router(tz))
    app.include_router(receipt_web.router())
    app.include_router(export_web.router(export_pages))
    app.include_router(reconciliation_web.router(tz))
    app.include_router(release_web.router(data_dir, tz))
    app.include_router(campaign_web.router(tz))
    app.include_router(member_web.router(tz, today))
    app.include_router(report_web.router(tz, today))
    app.include_router(overview_web.router(tz, today))
    app.include_router(finance_web.router(tz, today))
    app.include_router(catalog_web.router(tz, publish_catalog))
    app.include_router(staff_web.router(tz, today))
    app.include_router(staff_web.accounts_router(tz, publish_staff))
    app.include_router(rules_api.router)
    app.include_router(rules_web.router(tz, today))
    app.include_router(jobs_web.router(tz, data_dir, clock))

    def current_day() -> str:
        return (today() if today else dt.datetime.now(tz).date()).isoformat()

    @app.get("/api/summary")
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

    @app.get("/healthz")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
