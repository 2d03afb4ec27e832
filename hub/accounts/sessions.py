"""Signed-in browsers and integration tokens: opaque random secrets, stored only as SHA-256.

A session lasts at most :data:`ABSOLUTE` and ends after :data:`IDLE` without a request; each has
its own CSRF token that every form and unsafe request must carry. An API token
(``hk_<id>.<secret>``) carries scopes (``hub.accounts.roles``) and is revoked by id.
"""

import datetime as dt
import hashlib
import hmac
import secrets

from hub.accounts import audit
from hub.accounts.models import Account, ApiToken, Session
from hub.accounts.roles import parse_scopes
from hub.db import transaction

IDLE = dt.timedelta(hours=2)
ABSOLUTE = dt.timedelta(hours=12)
TOKEN_PREFIX = "hk_"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def start(account: Account, now: dt.datetime) -> tuple[str, Session]:
    """A new session for ``account``: the cookie value (shown once) and its row."""
    token = secrets.token_urlsafe(32)
    with transaction():
        session = Session.create(
            token_hash=_digest(token),
            account=account,
            csrf=secrets.token_urlsafe(24),
            created_at=now,
            seen_at=now,
            expires_at=now + ABSOLUTE,
        )
    return token, session


def current(token: str, now: dt.datetime) -> Session | None:
    """The live session of cookie ``token`` (its account enabled), touching its idle clock; else None."""
    if not token or len(token) > 100:
        return None
    session = Session.get_or_none(Session.token_hash == _digest(token))
    if session is None:
        return None
    if _utc(session.expires_at) <= now or _utc(session.seen_at) + IDLE <= now:
        session.delete_instance()
        return None
    if session.account.disabled_at is not None:
        return None
    # written at most once a minute: a page with many requests does not queue writers
    if now - _utc(session.seen_at) > dt.timedelta(minutes=1):
        Session.update(seen_at=now).where(Session.token_hash == session.token_hash).execute()
    return session


def end(token: str) -> None:
    """Sign out the session of cookie ``token`` (nothing when there is none)."""
    Session.delete().where(Session.token_hash == _digest(token)).execute()


def end_sessions(account: Account) -> None:
    """Sign ``account`` out everywhere (password changed, account disabled)."""
    Session.delete().where(Session.account == account).execute()


def csrf_matches(session: Session, offered: str) -> bool:
    """True when ``offered`` is the session's CSRF token (compared in constant time)."""
    return bool(offered) and hmac.compare_digest(session.csrf.encode(), offered.encode())


def issue_token(name: str, scopes: str, by: str, now: dt.datetime) -> str:
    """A new API token for an integration; the returned secret is shown once and never stored."""
    parse_scopes(scopes)  # raises on a bad scope before anything is written
    token_id, secret = secrets.token_hex(4), secrets.token_urlsafe(32)
    with transaction():
        ApiToken.create(
            id=token_id,
            name=name[:80],
            scopes=scopes.replace(" ", ""),
            secret_hash=_digest(secret),
            created_by=by,
            created_at=now,
        )
        audit.record(by, "token.add", f"token:{token_id}", now, name=name[:80], scopes=scopes)
    return f"{TOKEN_PREFIX}{token_id}.{secret}"


def token_for(bearer: str) -> ApiToken | None:
    """The live token that ``bearer`` is, else None."""
    token_id, _, secret = bearer.removeprefix(TOKEN_PREFIX).partition(".")
    if not bearer.startswith(TOKEN_PREFIX) or not secret or len(bearer) > 200:
        return None
    token = ApiToken.get_or_none(ApiToken.id == token_id)
    if token is None or token.revoked_at is not None:
        return None
    if not hmac.compare_digest(token.secret_hash, _digest(secret)):
        return None
    if not token.used:
        ApiToken.update(used=True).where(ApiToken.id == token_id).execute()
    return token


def revoke_token(token_id: str, by: str, now: dt.datetime) -> bool:
    """Revoke token ``token_id``; False when there is no such live token."""
    with transaction():
        changed = (
            ApiToken.update(revoked_at=now)
            .where(ApiToken.id == token_id, ApiToken.revoked_at.is_null())
            .execute()
        )
        if changed:
            audit.record(by, "token.revoke", f"token:{token_id}", now)
    return bool(changed)


def tokens() -> list[ApiToken]:
    """Every token, newest first (secrets are not kept, so none is shown)."""
    return list(ApiToken.select().order_by(ApiToken.created_at.desc()))
