"""Who may call each route of the hub: the rule every route declares, and the check it runs.

A rule is a FastAPI dependency, attached to a route or to a whole router where the app includes it
(``hub.web.app``). There are three kinds:

- :class:`Public`: anyone; the route itself keeps what it shows minimal (a signed link, masked data).
- :class:`Terminal`: a terminal with its device credentials, checked by the route (``DeviceAuth``).
- :class:`SignedIn`: a signed-in account (session cookie) or an API token (``Authorization: Bearer``)
  with the permission ``area:read`` (GET, HEAD) or ``area:write`` (anything else). A session's unsafe
  request must carry its CSRF token (form field ``csrf`` or header ``X-CSRF-Token``).

Nobody signed in: ``/api/...`` (and ``….json``) answers 401, a page redirects (303) to ``/login``
(``/setup`` on a hub without an owner). A manager sees only their stores: a member of another store is 404.
``declared_routes`` lists every route with its rule; a test fails on a route without exactly one.
"""

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from hub.accounts import audit, roles
from hub.accounts import sessions as hub_sessions
from hub.accounts.users import any_active_owner
from hub.members.models import HubMember
from hub.web.uploads import parse_multipart

COOKIE = "hub_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Principal:
    """Who is calling: an account (``role`` owner, manager, accountant) or a token (``role`` token)."""

    name: str
    role: str
    permissions: frozenset[str]
    stores: frozenset[str] | None  # None: every store
    csrf: str = ""  # sessions only: what their forms must send back


class LoginRequired(Exception):
    """A page asked for without a session: answered with a redirect to the login page."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.target = target


class Rule:
    """Base of the rules; ``describe`` is what the route-walk test and docs/security.md print."""

    def describe(self) -> str:
        """One line saying who may call."""
        raise NotImplementedError


@dataclass(frozen=True)
class Public(Rule):
    """Anyone may call; ``why`` says what keeps it safe."""

    why: str

    async def __call__(self, request: Request) -> None:
        """Nothing to check."""

    def describe(self) -> str:
        """``public: why``."""
        return f"public: {self.why}"


@dataclass(frozen=True)
class Terminal(Rule):
    """A terminal with its device id and broker password; the route checks them itself."""

    why: str

    async def __call__(self, request: Request) -> None:
        """Nothing here: the route's ``DeviceAuth`` answers 401 to anyone else."""

    def describe(self) -> str:
        """``terminal: why``."""
        return f"terminal: {self.why}"


@dataclass(frozen=True)
class SignedIn(Rule):
    """A signed-in account or token with ``area``'s permission (``None``: anyone signed in)."""

    area: str | None
    level: str | None = None  # None: read for GET/HEAD, write for the rest
    # figures by store: a manager must name one of their stores (``?store=S01``)
    by_store: bool = False

    def needed(self, method: str) -> str | None:
        """The permission a ``method`` request needs."""
        if self.area is None:
            return None
        level = self.level or ("read" if method in SAFE_METHODS else "write")
        return f"{self.area}:{level}"

    async def __call__(self, request: Request) -> None:
        """Find the caller, check their permission and CSRF token; sets ``request.state.principal``."""
        who = await authenticate(request)
        if who is None:
            if request.url.path.startswith("/api") or request.url.path.endswith(".json"):
                raise HTTPException(
                    401,
                    "sign in or send an API token / 请先登录或提供 API 令牌",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            raise LoginRequired(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        audit.ACTOR.set(who.name)
        needed = self.needed(request.method)
        if needed is not None and needed not in who.permissions:
            raise HTTPException(403, f"your role may not do this ({needed}) / 您的角色无此权限（{needed}）")
        if who.stores is not None and self.by_store and request.query_params.get("store") not in who.stores:
            mine = ",".join(sorted(who.stores))
            raise HTTPException(
                403, f"choose one of your stores: ?store={mine} / 店长只能查看自己的门店（{mine}）"
            )
        member_id = request.path_params.get("member_id")
        if who.stores is not None and member_id is not None:
            member = HubMember.get_or_none(HubMember.id == member_id)
            if member is not None and member.home_store not in who.stores:
                # 404, not 403: another store's member does not exist for this manager
                raise HTTPException(404, f"no member {member_id} / 会员不存在")

    def describe(self) -> str:
        """``signed in: area (read for GET, write otherwise)``."""
        if self.area is None:
            return "signed in: any role"
        return f"signed in: {self.area}:{self.level or 'read/write by method'}"


async def authenticate(request: Request) -> Principal | None:
    """The caller of ``request`` (token or session, CSRF checked for a session's unsafe request)."""
    known = getattr(request.state, "principal", None)
    if known is not None:
        return known
    now = dt.datetime.now(dt.UTC)
    scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        token = hub_sessions.token_for(bearer.strip())
        if token is None:
            raise HTTPException(
                401,
                "unknown or revoked API token / API 令牌无效或已吊销",
                headers={"WWW-Authenticate": "Bearer"},
            )
        who = Principal(f"token:{token.name}", "token", roles.parse_scopes(token.scopes), None)
        request.state.principal = who
        return who
    session = hub_sessions.current(request.cookies.get(COOKIE, ""), now)
    if session is None:
        return None
    account = session.account
    stores = frozenset(account.stores.split(",")) if account.role == "manager" else None
    who = Principal(account.name, account.role, roles.role_permissions(account.role), stores, session.csrf)
    if request.method not in SAFE_METHODS:
        check_origin(request)
        offered = request.headers.get("x-csrf-token") or await _form_csrf(request)
        if not hub_sessions.csrf_matches(session, offered):
            raise HTTPException(
                403,
                "this form is out of date or came from another site: reload the page and try again"
                " / 表单已过期或来自其他网站，请刷新页面后重试",
            )
    request.state.principal = who
    return who


def check_origin(request: Request) -> None:
    """Refuse an unsafe request a browser says came from another site (``Origin`` header)."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise HTTPException(403, "request from another site refused / 已拒绝来自其他网站的请求")


async def _form_csrf(request: Request) -> str:
    kind = request.headers.get("content-type", "")
    if kind.startswith("multipart/form-data"):  # a file upload (hub.web.uploads): its csrf field
        return parse_multipart(kind, await request.body()).fields.get("csrf", "")
    if not kind.startswith("application/x-www-form-urlencoded"):
        return ""
    # Starlette keeps the body: the route reads the same bytes afterwards
    body = (await request.body()).decode("utf-8", errors="replace")
    return parse_qs(body).get("csrf", [""])[-1]


def principal(request: Request) -> Principal | None:
    """The caller a :class:`SignedIn` rule found for ``request`` (None on public routes)."""
    return getattr(request.state, "principal", None)


def visible_stores(request: Request) -> frozenset[str] | None:
    """The stores the caller may see: a manager's own, or None for every store."""
    who = principal(request)
    return who.stores if who is not None else None


def login_redirect(request: Request, exc: Exception) -> Response:
    """The answer to :class:`LoginRequired`: to ``/login?next=…`` (``/setup`` before the first owner)."""
    assert isinstance(exc, LoginRequired)
    if not any_active_owner():
        return RedirectResponse("/setup", 303)
    return RedirectResponse(f"/login?next={quote(exc.target, safe='')}", 303)


def rule_of(route: Any) -> list[Rule]:
    """The rules declared on ``route`` (a route or an included router's effective route)."""
    found = []
    for dep in getattr(route, "dependencies", None) or []:
        if isinstance(dep.dependency, Rule):
            found.append(dep.dependency)
    return found


def declared_routes(app: FastAPI) -> Iterator[tuple[str, frozenset[str], list[Rule]]]:
    """Every route of ``app`` with its methods and declared rules, through included routers."""

    def walk(routes: list[Any]) -> Iterator[tuple[str, frozenset[str], list[Rule]]]:
        for route in routes:
            if hasattr(route, "effective_candidates"):
                yield from walk(route.effective_candidates())
            else:
                yield route.path, frozenset(getattr(route, "methods", None) or ()), rule_of(route)

    yield from walk(app.routes)
