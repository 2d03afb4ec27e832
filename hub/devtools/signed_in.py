"""A signed-in dashboard for tests and screenshot stories: an account, its session, a browser with it.

Not part of the running hub: it makes accounts without the first-run page and hands a headless
browser (which cannot type into a login form from the command line) its session cookie.
"""

import datetime as dt
import secrets
from typing import Any

from hub.accounts import sessions as hub_sessions
from hub.accounts import users
from hub.accounts.models import Account
from hub.web.auth import COOKIE


def session_for(role: str = "owner", stores: str = "", name: str = "") -> tuple[str, str]:
    """A live session of an account with ``role`` (made if missing): ``(cookie value, csrf token)``.

    The account's name is ``name`` or the role's (``owner``, ``manager-S01``, ``accountant``); its
    password is random and thrown away: nobody signs in with it.
    """
    now = dt.datetime.now(dt.UTC)
    name = name or (f"manager-{stores.replace(',', '-')}" if role == "manager" else role)
    account = Account.get_or_none(Account.name == name)
    if account is None:
        account = users.add(name, role, secrets.token_urlsafe(16), "devtools", now, stores=stores)
    token, session = hub_sessions.start(account, now)
    return token, session.csrf


def with_cookie(app: Any, token: str) -> Any:
    """``app`` as an ASGI app whose every request carries the session cookie ``token``."""
    cookie = f"{COOKIE}={token}".encode()

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = [(k, v) for k, v in scope["headers"] if k != b"cookie"]
            scope = {**scope, "headers": [*headers, (b"cookie", cookie)]}
        await app(scope, receive, send)

    return wrapped
