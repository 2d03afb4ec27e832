"""What every owner page of the dashboard shares: the language, the strings, local times, posted forms."""

import datetime as dt
from typing import Annotated, Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from fastapi import Path, Request

from hub.fleet import presence as fleet
from hub.web import i18n
from kiosk.domain.money import format_fen

# a database row id in a path: past 64 bits the databases cannot even compare it (SQLite raised
# OverflowError, a 500); out of range is the caller's mistake, answered 422
RowId = Annotated[int, Path(ge=1, le=2**63 - 1, description="row id (1 … 2⁶³−1)")]


def language(request: Request) -> str:
    """``en`` when the page was asked for with ``?lang=en``, else ``zh``."""
    return "en" if request.query_params.get("lang") == "en" else "zh"


def page_context(request: Request, tz: ZoneInfo) -> dict[str, Any]:
    """What every dashboard page's template needs: language, strings, local time."""
    lang = language(request)

    def local(value: dt.datetime | str | None) -> str:
        when = fleet.as_utc(value)
        return when.astimezone(tz).strftime("%Y-%m-%d %H:%M") if when else ""

    return {"lang": lang, "t": lambda key: i18n.t(key, lang), "local": local, "money": format_fen}


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
