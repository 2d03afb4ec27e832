"""Owner accounts: add, list, change password, disable, and the login check with lockout.

Passwords are argon2id hashes (``argon2-cffi``); there is no default password: the first owner is
made with ``hub user add`` or on the first-run page with the setup code ``hub serve`` writes.
Every login, good or bad, is written to the audit log.
"""

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hub.accounts import audit
from hub.accounts.models import Account
from hub.accounts.roles import ROLES
from hub.accounts.sessions import end_sessions
from hub.db import transaction

# OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane), well under the library default: a burst of
# logins cannot starve the ingest of CPU and memory; the lockout does the rest against guessing
HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
MIN_PASSWORD = 10
# after this many wrong passwords in a row the account waits, 30 s doubling up to an hour
FREE_TRIES, FIRST_LOCK_S, MAX_LOCK_S = 5, 30, 3600
NAME = re.compile(r"^[\w.@-]{1,40}$")
SETUP_FILE = "setup-code"
# verified against when the name is unknown, so a wrong name takes as long as a wrong password
_DUMMY = HASHER.hash(secrets.token_hex(16))


class AccountError(ValueError):
    """A refused account change, with a message in English and Chinese."""


@dataclass(frozen=True)
class LoginRefused(Exception):
    """A login that did not succeed; ``retry_after`` seconds when the account is locked."""

    retry_after: int = 0


def _utc(value: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; every time stored here is UTC
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def check_name(name: str) -> str:
    """``name`` when it is a usable account name (letters, digits, ``. _ - @``, up to 40)."""
    if not NAME.fullmatch(name):
        raise AccountError(
            f"account name {name[:60]!r}: use 1–40 letters, digits, '.', '_', '-' or '@'"
            " / 账号名只能包含字母、数字和 . _ - @，最多 40 个字符"
        )
    return name


def check_password(password: str) -> str:
    """``password`` when it is long enough to keep."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(
            f"password too short: at least {MIN_PASSWORD} characters / 密码太短：至少 {MIN_PASSWORD} 个字符"
        )
    return password


def check_stores(role: str, stores: str) -> str:
    """The stores of a ``role`` account, normalised (``S01,S02``); managers need at least one."""
    if role not in ROLES:
        raise AccountError(
            f"unknown role {role!r}: owner, manager or accountant / 角色无效：owner、manager 或 accountant"
        )
    codes = sorted({s.strip() for s in stores.replace("，", ",").split(",") if s.strip()})
    if role != "manager":
        return ""
    if not codes or not all(re.fullmatch(r"[A-Za-z0-9_-]{1,32}", c) for c in codes):
        raise AccountError("a manager needs their store codes, e.g. --stores S01,S02 / 店长需要指定门店代码")
    return ",".join(codes)


def add(name: str, role: str, password: str, by: str, now: dt.datetime, stores: str = "") -> Account:
    """Create an account; raises :class:`AccountError` for a bad or taken name, role or password."""
    check_name(name)
    scoped = check_stores(role, stores)
    check_password(password)
    with transaction():
        if Account.get_or_none(Account.name == name) is not None:
            raise AccountError(f"account {name!r} exists already / 账号 {name!r} 已存在")
        account = Account.create(
            name=name, role=role, stores=scoped, password_hash=HASHER.hash(password), created_at=now
        )
        audit.record(by, "user.add", f"account:{name}", now, role=role, stores=scoped)
    return account


def accounts() -> list[Account]:
    """Every account, by name."""
    return list(Account.select().order_by(Account.name))


def any_active_owner() -> bool:
    """True once the business has an owner who can sign in (the first-run page then closes)."""
    return Account.select().where(Account.role == "owner", Account.disabled_at.is_null()).exists()


def _get(name: str) -> Account:
    account = Account.get_or_none(Account.name == name)
    if account is None:
        raise AccountError(f"no account {name!r} / 没有账号 {name!r}")
    return account


def set_password(name: str, password: str, by: str, now: dt.datetime) -> None:
    """Give ``name`` a new password; its sessions end and a lockout is lifted."""
    check_password(password)
    with transaction():
        account = _get(name)
        account.password_hash = HASHER.hash(password)
        account.failures, account.locked_until = 0, None
        account.save()
        end_sessions(account)
        audit.record(by, "user.passwd", f"account:{name}", now)


def disable(name: str, by: str, now: dt.datetime) -> None:
    """Stop ``name`` signing in and end its sessions; the last active owner cannot be disabled."""
    with transaction():
        account = _get(name)
        if account.disabled_at is not None:
            return
        others = Account.select().where(
            Account.role == "owner", Account.disabled_at.is_null(), Account.id != account.id
        )
        if account.role == "owner" and not others.exists():
            raise AccountError("the last owner cannot be disabled / 不能停用最后一个店主账号")
        account.disabled_at = now
        account.save()
        end_sessions(account)
        audit.record(by, "user.disable", f"account:{name}", now)


def login(name: str, password: str, now: dt.datetime, source: str) -> Account:
    """The account when ``password`` is right and it may sign in; else :class:`LoginRefused`.

    The outcome is audited with ``source`` (the client address). A locked account is refused
    without checking the password, so guessing cannot continue during the lock.
    """
    account = Account.get_or_none(Account.name == name)
    if account is None:
        _verify(_DUMMY, password)
        with transaction():
            audit.record(
                name[:60], "login.failed", f"account:{name[:60]}", now, reason="unknown", source=source
            )
        raise LoginRefused()
    if account.locked_until is not None and _utc(account.locked_until) > now:
        wait = int((_utc(account.locked_until) - now).total_seconds()) + 1
        with transaction():
            audit.record(name, "login.locked", f"account:{name}", now, source=source, wait_s=wait)
        raise LoginRefused(wait)
    good = _verify(account.password_hash, password) and account.disabled_at is None
    wait = 0
    with transaction():
        if not good:
            account.failures += 1
            if account.failures >= FREE_TRIES:
                wait = min(MAX_LOCK_S, FIRST_LOCK_S * 2 ** (account.failures - FREE_TRIES))
                account.locked_until = now + dt.timedelta(seconds=wait)
            account.save()
            reason = "disabled" if account.disabled_at is not None else "password"
            audit.record(name, "login.failed", f"account:{name}", now, reason=reason, source=source)
        else:
            if HASHER.check_needs_rehash(account.password_hash):
                account.password_hash = HASHER.hash(password)
            account.failures, account.locked_until = 0, None
            account.save()
            audit.record(name, "login.ok", f"account:{name}", now, source=source)
    # raised after the transaction: the failure and its count must be kept, not rolled back
    if not good:
        raise LoginRefused(wait)
    return account


def _verify(stored: str, password: str) -> bool:
    try:
        return HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def setup_code(data_dir: Path) -> Path | None:
    """On a hub without an owner, the file holding a one-time first-run code (made if missing).

    The code proves that whoever opens ``/setup`` can read the hub's own files: the first visitor
    on the shop's network cannot make themselves owner. None once an owner exists.
    """
    path = data_dir / SETUP_FILE
    if any_active_owner():
        path.unlink(missing_ok=True)
        return None
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(6) + "\n")
    return path
