"""What every page of the dashboard shares: the language, the templates, the strings, local times, forms.

One :data:`TEMPLATES` for every page: Jinja2 with its i18n extension, and a
context processor that gives each template the request's language and the hub
catalog's ``_`` / ``gettext`` / ``ngettext`` (``t`` is the same ``_``, the name
the templates used before the catalogs).
"""

import datetime as dt
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import jinja2
from fastapi import Path as PathParam
from fastapi import Request
from fastapi.templating import Jinja2Templates

from hub.fleet import presence as fleet
from hub.web import i18n
from kiosk.domain.money import format_fen


def language(request: Request) -> str:
    """``en`` when the page was asked for with ``?lang=en``, else ``zh``."""
    return "en" if request.query_params.get("lang") == "en" else "zh"


def translations(request: Request) -> dict[str, Any]:
    """The request's language and the catalog's functions in it, for every template."""
    lang = language(request)

    def gettext(key: str, **values: object) -> str:
        return i18n.t(key, lang, **values)

    def ngettext(key: str, plural_key: str, n: int, **values: object) -> str:
        return i18n.nt(key, plural_key, n, lang, **values)

    return {"lang": lang, "_": gettext, "t": gettext, "gettext": gettext, "ngettext": ngettext}


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=jinja2.select_autoescape(),
        extensions=["jinja2.ext.i18n"],
    )
    # newstyle: {% trans %} hands its values to gettext, which fills them (str.format fields)
    env.newstyle_gettext = True  # type: ignore[attr-defined]
    return env


TEMPLATES = Jinja2Templates(env=_environment(), context_processors=[translations])


def page_context(request: Request, tz: ZoneInfo) -> dict[str, Any]:
    """What every dashboard page's template needs beyond the strings: local time and money."""

    def local(value: dt.datetime | str | None) -> str:
        when = fleet.as_utc(value)
        return when.astimezone(tz).strftime("%Y-%m-%d %H:%M") if when else ""

    return {"lang": language(request), "local": local, "money": format_fen}


# a database row id in a path: past 64 bits the databases cannot even compare it (SQLite raised
# OverflowError, a 500); out of range is the caller's mistake, answered 422
RowId = Annotated[int, PathParam(ge=1, le=2**63 - 1, description="row id (1 … 2⁶³−1)")]


async def form_fields(request: Request) -> dict[str, str]:
    """The fields of a posted HTML form (``application/x-www-form-urlencoded``), last value wins.

    ``by`` (who is recorded in the audit log) is always the signed-in caller, whatever the form says.
    """
    body = (await request.body()).decode("utf-8", errors="replace")
    fields = {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}
    who = getattr(request.state, "principal", None)
    if who is not None:
        fields["by"] = who.name
    return fields
