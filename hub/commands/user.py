"""``hub user ...`` (dashboard accounts) and ``hub token ...`` (integration tokens).

Passwords are read from a hidden prompt (or ``HUB_PASSWORD`` for scripts), never from an option
that would land in the shell history; a token's secret is printed once and never stored.
"""

import datetime as dt
import getpass
import os

import click

from hub.accounts import sessions, users
from hub.accounts.roles import ROLES
from hub.commands.refusals import refused_by
from hub.db import DEFAULT_DB
from hub.db.schema import open_hub_database

__all__ = ["token", "user"]

db_option = click.option(
    "--db", "db_url", default=DEFAULT_DB, show_default=True, help="sqlite:///path or postgresql://..."
)


def _actor() -> str:
    # the audit log names the operating-system user who ran the command
    return f"cli:{getpass.getuser()}"


def _password() -> str:
    # HUB_PASSWORD for scripts (never an option: it would be in the shell history and `ps`)
    given = os.environ.get("HUB_PASSWORD")
    if given is not None:
        return given
    return str(click.prompt("密码 / password", hide_input=True, confirmation_prompt=True))


@click.group("user")
def user() -> None:
    """Dashboard accounts: owner, manager (of some stores), accountant."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(sorted(ROLES)), required=True)
@click.option("--stores", default="", help="A manager's stores, comma-separated: S01,S02.")
@db_option
def add(name: str, role: str, stores: str, db_url: str) -> None:
    """Add an account; asks for its password (10 characters or more)."""
    open_hub_database(db_url)
    with refused_by(users.AccountError):
        users.check_name(name)
        users.check_stores(role, stores)
        users.add(name, role, _password(), _actor(), dt.datetime.now(dt.UTC), stores=stores)
    click.echo(f"账号 {name} 已创建 / account {name} added ({role})")


@user.command("list")
@db_option
def list_users(db_url: str) -> None:
    """Every account: name, role, stores, state."""
    open_hub_database(db_url, create=False)
    for account in users.accounts():
        state = "disabled" if account.disabled_at else ("locked" if account.locked_until else "active")
        click.echo(f"{account.name}\t{account.role}\t{account.stores or '-'}\t{state}")


@user.command("passwd")
@click.argument("name")
@db_option
def passwd(name: str, db_url: str) -> None:
    """Set a new password for NAME (ends its sessions, lifts a lockout)."""
    open_hub_database(db_url)
    with refused_by(users.AccountError):
        users.set_password(name, _password(), _actor(), dt.datetime.now(dt.UTC))
    click.echo(f"账号 {name} 的密码已更新 / password of {name} changed")


@user.command("disable")
@click.argument("name")
@db_option
def disable(name: str, db_url: str) -> None:
    """Stop NAME signing in and end its sessions (the last owner stays)."""
    open_hub_database(db_url)
    with refused_by(users.AccountError):
        users.disable(name, _actor(), dt.datetime.now(dt.UTC))
    click.echo(f"账号 {name} 已停用 / account {name} disabled")


@click.group("token")
def token() -> None:
    """API tokens for integrations (ERP, accounting): scoped, stored hashed, revocable."""


@token.command("add")
@click.argument("name")
@click.option("--scope", "scopes", required=True, help="e.g. reports:read,members:read")
@db_option
def token_add(name: str, scopes: str, db_url: str) -> None:
    """Make a token; prints it once (send it as ``Authorization: Bearer <token>``)."""
    open_hub_database(db_url)
    with refused_by(ValueError):  # an unknown scope, or none
        secret = sessions.issue_token(name, scopes, _actor(), dt.datetime.now(dt.UTC))
    click.echo(secret)
    click.echo("只显示这一次，请妥善保存 / shown once: keep it safe", err=True)


@token.command("list")
@db_option
def token_list(db_url: str) -> None:
    """Every token: id, name, scopes, state (secrets are not kept)."""
    open_hub_database(db_url, create=False)
    for row in sessions.tokens():
        state = "revoked" if row.revoked_at else ("used" if row.used else "never used")
        click.echo(f"{row.id}\t{row.name}\t{row.scopes}\t{state}")


@token.command("revoke")
@click.argument("token_id")
@db_option
def token_revoke(token_id: str, db_url: str) -> None:
    """Revoke token TOKEN_ID at once."""
    open_hub_database(db_url)
    if not sessions.revoke_token(token_id, _actor(), dt.datetime.now(dt.UTC)):
        raise click.ClickException(f"no live token {token_id} / 没有有效令牌 {token_id}")
    click.echo(f"令牌 {token_id} 已吊销 / token {token_id} revoked")
