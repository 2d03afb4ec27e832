"""Dashboard page of software releases, and the download terminals fetch an offered release from.

``/releases`` lists the releases and, per terminal, what it runs, what it is
offered and how its last update went; ``/releases/{version}/files/{name}``
serves a release's stored wheel (the terminal checks its SHA-256).
"""

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse

from hub.fleet import releases as app_releases
from hub.fleet.presence import as_utc
from hub.web import auth
from hub.web.pages import TEMPLATES, language


def _size(value: int) -> str:
    return f"{value / 1e6:.1f} MB" if value >= 1e6 else f"{value / 1e3:.0f} kB"


def _reason(text: str, lang: str) -> str:
    """The outcome's reason in the page's language (the updater writes English, then Chinese)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    chinese = [line for line in lines if any("\u4e00" <= ch <= "\u9fff" for ch in line)]
    english = [line for line in lines if line not in chinese]
    return " ".join(chinese if lang == "zh" and chinese else english or lines)


def router(data_dir: Path, tz: ZoneInfo) -> APIRouter:
    """Routes for ``/releases``, its JSON and the file downloads, serving from ``data_dir``."""
    routes = APIRouter()

    def local(value: dt.datetime | str | None) -> str:

        when = as_utc(value)
        return when.astimezone(tz).strftime("%Y-%m-%d %H:%M") if when else ""

    fleet = [Depends(auth.SignedIn("fleet"))]

    @routes.get("/releases", response_class=HTMLResponse, dependencies=fleet)
    def releases_page(request: Request) -> HTMLResponse:
        lang = language(request)
        terminals = app_releases.terminal_versions()
        offered: dict[str, int] = {}
        for row in terminals:
            if row.offered:
                offered[row.offered] = offered.get(row.offered, 0) + 1
        context = {
            "lang": lang,
            "releases": [(r, app_releases.release_files(r)) for r in app_releases.releases()],
            "terminals": terminals,
            "offered": offered,
            "local": local,
            "size": _size,
            "reason": lambda text: _reason(text, lang),
        }
        return TEMPLATES.TemplateResponse(request, "releases.html", context)

    @routes.get("/api/releases", dependencies=fleet)
    def releases_api() -> dict[str, object]:
        return {
            "releases": [
                {"version": r.version, "files": app_releases.release_files(r), "added_at": str(r.added_at)}
                for r in app_releases.releases()
            ],
            "terminals": [
                {**row.__dict__, "reported_at": row.reported_at.isoformat() if row.reported_at else None}
                for row in app_releases.terminal_versions()
            ],
        }

    # terminals download without credentials: the packages are not secret, and the terminal checks
    # each file's SHA-256 against the offer it received over its authenticated MQTT session
    @routes.get(
        "/releases/{version}/files/{name}",
        dependencies=[Depends(auth.Public("software packages; checked by SHA-256 from the MQTT offer"))],
    )
    def release_file(version: str, name: str) -> FileResponse:
        path = app_releases.file_path(data_dir, version, name)
        if path is None or not path.is_file():
            raise HTTPException(status_code=404, detail=f"no file {name} in release {version}")
        return FileResponse(path, media_type="application/octet-stream", filename=name)

    return routes
