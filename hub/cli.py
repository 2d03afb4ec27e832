"""``hub`` command line: serve the ingest and the dashboard, inspect the database."""

import logging

import click

from hub.commands import (
    audit,
    backup,
    campaign,
    device,
    jobs,
    keys,
    member,
    release,
    rules,
    serve,
    staff,
    stock,
    sync,
    user,
)
from hub.db.schema import HubDatabaseError


class HubGroup(click.Group):
    """The ``hub`` group: a database the hub cannot use is one clear line and exit 1, not a traceback."""

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


for group in (
    audit.audit,
    campaign.campaign,
    device.device,
    jobs.jobs,
    keys.keys,
    member.member,
    release.release,
    rules.rules,
    staff.staff,
    stock.stock,
    user.user,
    user.token,
):
    main.add_command(group)
main.add_command(serve.serve)
for command in (backup.backup, backup.backup_key, backup.restore):
    main.add_command(command)
main.add_command(serve.db_migrate)
sync.register(main)

if __name__ == "__main__":
    main()
