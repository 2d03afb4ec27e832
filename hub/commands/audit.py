"""``hub audit verify``: check the owner's audit log (a hash chain) from end to end."""

import click

from hub.accounts import audit as owner_audit
from hub.db import DEFAULT_DB
from hub.db.schema import open_hub_database

__all__ = ["audit"]


@click.group("audit")
def audit() -> None:
    """The owner's audit log: who changed prices, rules, campaigns, members, accounts, devices."""


@audit.command("verify")
@click.option(
    "--db", "db_url", default=DEFAULT_DB, show_default=True, help="sqlite:///path or postgresql://..."
)
def verify(db_url: str) -> None:
    """Recompute every row's hash; exit 1 naming each row that was changed, removed or inserted."""
    open_hub_database(db_url, create=False)
    count, breaks = owner_audit.verify()
    if not breaks:
        click.echo(f"审计日志完整：{count} 条 / audit log intact: {count} rows")
        return
    for found in breaks:
        click.echo(f"row {found.row}: {found.reason}", err=True)
    raise click.ClickException(
        f"审计日志被改动：{len(breaks)} 处 / audit log broken in {len(breaks)} place(s) of {count} rows"
    )
