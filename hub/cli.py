"""``hub`` command line: serve the ingest and the dashboard, inspect the database.

Each command's module is imported when that command runs (:data:`COMMANDS`), not all at start:
``hub ingest`` then loads the ingest and the ledger, not the web app, the reports and the
simulator (a worker started in about a sixth of the time; docs/perf.md, "Ingest worker start").
"""

import importlib
import logging

import click

from hub.db.schema import HubDatabaseError

#: Every ``hub`` command: its name and where it is defined (``module:attribute``).
COMMANDS = {
    "audit": "hub.commands.audit:audit",
    "backup": "hub.commands.backup:backup",
    "backup-key": "hub.commands.backup:backup_key",
    "broker-config": "hub.commands.sync:broker_config",
    "campaign": "hub.commands.campaign:campaign",
    "catalog": "hub.commands.sync:catalog",
    "config": "hub.commands.sync:config",
    "db-migrate": "hub.commands.serve:db_migrate",
    "device": "hub.commands.device:device",
    "ingest": "hub.commands.ingest:ingest",
    "jobs": "hub.commands.jobs:jobs",
    "keys": "hub.commands.keys:keys",
    "member": "hub.commands.member:member",
    "quarantine": "hub.commands.sync:quarantine",
    "release": "hub.commands.release:release",
    "restore": "hub.commands.backup:restore",
    "rules": "hub.commands.rules:rules",
    "serve": "hub.commands.serve:serve",
    "simulate": "hub.commands.sync:simulate",
    "staff": "hub.commands.staff:staff",
    "stock": "hub.commands.stock:stock",
    "token": "hub.commands.user:token",
    "user": "hub.commands.user:user",
}


class HubGroup(click.Group):
    """The ``hub`` group: commands loaded when used, and a database the hub cannot use is one clear
    line and exit 1, not a traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command's name, for ``hub --help``."""
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command called ``cmd_name``, its module imported now; None when there is none."""
        where = COMMANDS.get(cmd_name)
        if where is None:
            return None
        module, attribute = where.split(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command

    def invoke(self, ctx: click.Context) -> object:
        """Run the command; :class:`HubDatabaseError` becomes a ``click`` error."""
        try:
            return super().invoke(ctx)
        except HubDatabaseError as exc:
            raise click.ClickException(str(exc)) from exc


@click.group(cls=HubGroup)
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
def main(verbose: bool) -> None:
    """Member Kiosk hub: authoritative ledger, reports and the owner's dashboard."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


if __name__ == "__main__":
    main()
