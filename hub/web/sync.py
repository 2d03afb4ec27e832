"""Dashboard pages of the sync side: the fleet (presence, health, gaps) and the quarantine.

Chinese by default, English with ``?lang=en``, like the rest of the dashboard.
"""

import datetime as dt
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from hub.fleet import presence as fleet
from hub.ingest import quarantine
from hub.ingest.quarantine_text import explain
from hub.members import feed as member_feed
from hub.members import rotation
from hub.members.settings import settings as loyalty_settings
from hub.web import i18n
from hub.web.i18n import N_
from hub.web.pages import TEMPLATES, RowId, language

#: The printer states a terminal reports, each shown as ``printer_{state}``.
_PRINTER_KEYS = (
    N_("printer_ok"),
    N_("printer_paper_low"),
    N_("printer_paper_out"),
    N_("printer_cover_open"),
    N_("printer_offline"),
    N_("printer_missing"),
    N_("printer_unknown"),
)
PRINTER_PROBLEMS = frozenset({"paper_out", "cover_open", "offline", "missing"})


#: A duration in its largest whole unit: (seconds in the unit, message key).
_UNITS = (
    (86400, N_("duration_days")),
    (3600, N_("duration_hours")),
    (60, N_("duration_minutes")),
    (1, N_("duration_seconds")),
)


def _duration(seconds: float, lang: str) -> str:
    """``seconds`` in its largest whole unit: 2 小时 / 2 h."""
    whole = max(0, int(seconds))
    size, key = next((size, key) for size, key in _UNITS if whole >= size or size == 1)
    return i18n.t(key, lang, n=whole // size)


def _rotation_notice(lang: str) -> str:
    """During a business key rotation: the new key and the terminals not yet on it ("" otherwise)."""
    ring = loyalty_settings.key
    if ring is None or len(ring.key_ids) < 2:
        return ""
    waiting = [device for device, key_id in rotation.terminals_by_key().items() if key_id != ring.key_id]
    if not waiting:
        return i18n.t("fleet_key_rotation_done", lang, new_key=ring.key_id)
    separator = ", " if lang == "en" else "、"
    return i18n.t("fleet_key_rotation", lang, new_key=ring.key_id, devices=separator.join(waiting))


def _ago(seconds: float | None, lang: str) -> str:
    if seconds is None:
        return i18n.t("never", lang)
    return i18n.t("ago", lang, duration=_duration(seconds, lang))


def _skew(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    sign = "+" if seconds >= 0 else "−"
    value = abs(seconds)
    return f"{sign}{value / 3600:.1f} h" if value >= 3600 else f"{sign}{value:.0f} s"


def _bytes(value: int) -> str:
    return f"{value / 1e9:.1f} GB" if value >= 1e9 else f"{value / 1e6:.0f} MB"


def _printer(state: str, lang: str) -> str:
    """A printer state as the owner reads it; a state this hub does not know is "unknown"."""
    key = f"printer_{state}"
    return i18n.t(key if i18n.known(key) else "unknown", lang)


def router(tz: ZoneInfo, now: "dt.datetime | None" = None) -> APIRouter:
    """Routes for ``/fleet``, ``/quarantine`` and their JSON; ``now`` pins the clock in tests."""
    routes = APIRouter()

    def clock() -> dt.datetime:
        return now or dt.datetime.now(dt.UTC)

    def base_context(request: Request) -> dict[str, object]:
        lang = language(request)

        def local(value: dt.datetime | str | None) -> str:
            when = fleet.as_utc(value)
            return when.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if when else ""

        return {"lang": lang, "t": lambda key: i18n.t(key, lang), "local": local}

    @routes.get("/fleet", response_class=HTMLResponse)
    def fleet_page(request: Request) -> HTMLResponse:
        context = base_context(request)
        lang = str(context["lang"])
        at = clock()
        rows = fleet.fleet(at)
        context |= {
            "rows": rows,
            "hub_member_version": member_feed.current_version(),
            "gaps": fleet.open_gaps(),
            "ago": lambda when: _ago((at - when).total_seconds() if when else None, lang),
            "seconds": lambda s: _duration(s, lang) if s else "–",
            "skew": _skew,
            "size": _bytes,
            "printer": lambda value: _printer(value, lang),
            "printer_problem": lambda value: value in PRINTER_PROBLEMS,
            "rotation": _rotation_notice(lang),
        }
        return TEMPLATES.TemplateResponse(request, "fleet.html", context)

    @routes.get("/api/fleet")
    def fleet_api() -> list[dict[str, object]]:
        return [
            {**row.__dict__, "last_synced": row.last_synced.isoformat() if row.last_synced else None}
            for row in fleet.fleet(clock())
        ]

    @routes.get("/quarantine", response_class=HTMLResponse)
    def quarantine_page(request: Request) -> HTMLResponse:
        context = base_context(request)
        entries = quarantine.entries(include_resolved=True)
        context |= {
            "open": [e for e in entries if e.resolved_at is None],
            "resolved": [e for e in entries if e.resolved_at is not None][:20],
            "message": request.query_params.get("message", ""),
            "explain": lambda reason: explain(reason).text(context["lang"]),  # type: ignore[arg-type]
        }
        return TEMPLATES.TemplateResponse(request, "quarantine.html", context)

    @routes.post("/quarantine/{entry_id}/replay")
    def replay(entry_id: RowId, request: Request) -> RedirectResponse:
        try:
            outcome = quarantine.replay(entry_id, clock(), tz)
        except quarantine.ReplayError as exc:
            raise HTTPException(status_code=409, detail=str(exc)) from exc
        lang = "&lang=en" if language(request) == "en" else ""
        return RedirectResponse(f"/quarantine?entry={entry_id}&resolved={int(outcome.resolved)}{lang}", 303)

    return routes
