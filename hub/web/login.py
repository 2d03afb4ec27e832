"""Signing in and out of the dashboard, and the first-run page that makes the first owner.

``/login`` checks a name and password (``hub.accounts.users.login``: lockout with backoff, every
attempt audited) and sets the session cookie: ``HttpOnly``, ``SameSite=Lax``, and ``Secure`` when the
hub is served over HTTPS. ``/setup`` exists only until the business has an owner, and asks for the
one-time code ``hub serve`` wrote into its data directory. Chinese by default, English with ``?lang=en``.
"""

import datetime as dt
import hmac
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub.accounts import sessions as hub_sessions
from hub.accounts import users
from hub.accounts.models import LoginFailure
from hub.db import transaction
from hub.web import auth
from hub.web.i18n import t
from hub.web.pages import TEMPLATES, form_fields, language

# per client address: this many failed logins or setup codes in WINDOW_S answer 429 for a while
# (counted in the database: every hub process shares them)
ADDRESS_TRIES, WINDOW_S = 20, 600.0


class AddressLimiter:
    """Failed attempts per client address in a sliding window, counted in the hub's database
    (``login_failure``), so every hub process and a restarted one see the same count."""

    def __init__(
        self, tries: int = ADDRESS_TRIES, window_s: float = WINDOW_S, clock: Callable[[], float] = time.time
    ) -> None:
        self.tries, self.window_s, self.clock = tries, window_s, clock

    def _since_ms(self) -> int:
        return int((self.clock() - self.window_s) * 1000)

    def blocked(self, address: str) -> bool:
        """True while ``address`` has used up its tries."""
        recent = LoginFailure.select().where(
            LoginFailure.address == address, LoginFailure.at_ms > self._since_ms()
        )
        return recent.count() >= self.tries

    def failed(self, address: str) -> None:
        """Count one failure from ``address``; forget every address's failures older than the window."""
        with transaction():
            LoginFailure.delete().where(LoginFailure.at_ms <= self._since_ms()).execute()
            LoginFailure.create(address=address[:64], at_ms=int(self.clock() * 1000))


def safe_next(target: str) -> str:
    """Where to go after signing in: a path on this hub only (never ``//other.site``)."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    """The session cookie: HttpOnly, SameSite=Lax, Secure over HTTPS, no longer than a session."""
    response.set_cookie(
        auth.COOKIE,
        token,
        max_age=int(hub_sessions.ABSOLUTE.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def router(data_dir: Path, limiter: AddressLimiter | None = None) -> APIRouter:
    """``/login``, ``/logout`` and ``/setup``; the setup code lives in ``data_dir``."""
    routes = APIRouter()
    limiter = limiter or AddressLimiter()
    public = [Depends(auth.Public("the sign-in form: rate-limited, lockout, audited"))]

    def address(request: Request) -> str:
        return request.client.host if request.client else "?"

    def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        context = {"public": True, **context}
        return TEMPLATES.TemplateResponse(request, template, context, status_code=status)

    @routes.get("/login", response_class=HTMLResponse, response_model=None, dependencies=public)
    def login_form(request: Request, next: str = "/") -> Response:
        if not users.any_active_owner():
            return RedirectResponse("/setup", 303)
        return page(request, "login.html", next=safe_next(next), name="", problem="")

    @routes.post("/login", response_class=HTMLResponse, response_model=None, dependencies=public)
    async def login(request: Request) -> Response:
        auth.check_origin(request)
        form = await form_fields(request)
        lang, target = language(request), safe_next(form.get("next", "/"))
        name = form.get("name", "").strip()
        if limiter.blocked(address(request)):
            return page(request, "login.html", 429, next=target, name=name, problem=t("login_busy", lang))
        now = dt.datetime.now(dt.UTC)
        try:
            account = users.login(name, form.get("password", ""), now, address(request))
        except users.LoginRefused as refused:
            limiter.failed(address(request))
            wait = refused.retry_after
            problem = t("login_locked", lang, s=wait) if wait else t("login_wrong", lang)
            return page(request, "login.html", 401, next=target, name=name, problem=problem)
        token, _ = hub_sessions.start(account, now)
        if account.role == "manager" and target == "/":
            target = "/members"  # the dashboard's figures are every store's; a manager starts with members
        response = RedirectResponse(target, 303)
        set_session_cookie(request, response, token)
        return response

    @routes.post("/logout", dependencies=[Depends(auth.SignedIn(None))])
    def logout(request: Request) -> RedirectResponse:
        hub_sessions.end(request.cookies.get(auth.COOKIE, ""))
        query = urlencode({"lang": "en"}) if language(request) == "en" else ""
        response = RedirectResponse(f"/login?{query}" if query else "/login", 303)
        response.delete_cookie(auth.COOKIE, path="/")
        return response

    @routes.get("/setup", response_class=HTMLResponse, response_model=None, dependencies=public)
    def setup_form(request: Request) -> Response:
        if users.setup_code(data_dir) is None:
            return RedirectResponse("/login", 303)
        return page(request, "setup.html", name="", problem="")

    @routes.post("/setup", response_class=HTMLResponse, response_model=None, dependencies=public)
    async def setup(request: Request) -> Response:
        auth.check_origin(request)
        code_file = users.setup_code(data_dir)
        if code_file is None:
            return RedirectResponse("/login", 303)
        form = await form_fields(request)
        lang, name = language(request), form.get("name", "").strip()
        if limiter.blocked(address(request)):
            return page(request, "setup.html", 429, name=name, problem=t("login_busy", lang))
        expected = code_file.read_text().strip()
        if not hmac.compare_digest(form.get("code", "").strip().encode(), expected.encode()):
            limiter.failed(address(request))
            return page(request, "setup.html", 403, name=name, problem=t("setup_wrong_code", lang))
        if form.get("password", "") != form.get("password2", ""):
            return page(request, "setup.html", 422, name=name, problem=t("setup_mismatch", lang))
        now = dt.datetime.now(dt.UTC)
        try:
            account = users.add(name, "owner", form.get("password", ""), f"setup:{address(request)}", now)
        except users.AccountError as exc:
            return page(request, "setup.html", 422, name=name, problem=str(exc))
        code_file.unlink(missing_ok=True)
        token, _ = hub_sessions.start(account, now)
        response = RedirectResponse("/", 303)
        set_session_cookie(request, response, token)
        return response

    return routes
