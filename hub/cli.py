"""``hub`` command line: serve the ingest and the dashboard, inspect the database."""

import base64
import logging
from pathlib import Path
from zoneinfo import ZoneInfo

import click

DEFAULT_DB = "sqlite:///var/hub/hub.db"


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
def main(verbose: bool) -> None:
    """Member Kiosk hub: authoritative ledger, reports and the owner's dashboard."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@main.command()
@click.option(
    "--db",
    "db_url",
    default=DEFAULT_DB,
    show_default=True,
    help="sqlite:///path or postgresql://...",
)
@click.option("--mqtt-host", default="127.0.0.1", show_default=True)
@click.option("--mqtt-port", default=1883, show_default=True, type=int)
@click.option("--mqtt-user", default=None, help="Hub's broker username.")
@click.option("--mqtt-password", default=None, envvar="HUB_MQTT_PASSWORD")
@click.option("--http-host", default="127.0.0.1", show_default=True)
@click.option("--http-port", default=8080, show_default=True, type=int)
@click.option("--timezone", "tz_name", default="Asia/Shanghai", show_default=True)
@click.option("--workers", default=1, show_default=True, help="Ingest workers sharing the uplink.")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("/var/lib/hub"),
    show_default=True,
    help="Where `hub device add` keeps the registry and the business key (business.key).",
)
@click.option(
    "--broker-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("/etc/mosquitto/kiosk"),
    envvar="HUB_BROKER_DIR",
    show_default=True,
    help="Mosquitto's passwd file there authenticates terminals fetching member snapshots.",
)
def serve(
    db_url: str,
    mqtt_host: str,
    mqtt_port: int,
    mqtt_user: str | None,
    mqtt_password: str | None,
    http_host: str,
    http_port: int,
    tz_name: str,
    workers: int,
    data_dir: Path,
    broker_dir: Path,
) -> None:
    """Ingest terminal events over MQTT and serve the dashboard over HTTP."""
    import uvicorn

    from hub import rules_store
    from hub.catalog_web import broker_publisher
    from hub.db import open_hub_database
    from hub.member_snapshot_api import DeviceAuth
    from hub.mqtt import HubIngestor
    from hub.web import create_app

    tz = ZoneInfo(tz_name)
    open_hub_database(db_url)
    configure_loyalty(data_dir)
    # the owner's stored rules; each ingest worker then reloads them when a newer version is saved
    rules_store.refresh()
    # one worker sends the member deltas: two would only send duplicates
    ingestors = [
        HubIngestor(mqtt_host, mqtt_port, tz, str(i), mqtt_user, mqtt_password, member_downlink=i == 1)
        for i in range(1, workers + 1)
    ]
    for ingestor in ingestors:
        ingestor.start()
    click.echo(f"hub: dashboard on http://{http_host}:{http_port}/ , broker {mqtt_host}:{mqtt_port}")
    try:
        publish = broker_publisher(mqtt_host, mqtt_port, mqtt_user, mqtt_password)
        app = create_app(
            tz, device_auth=DeviceAuth(broker_dir / "passwd"), data_dir=data_dir, publish_catalog=publish
        )
        uvicorn.run(app, host=http_host, port=http_port, log_level="warning")
    finally:
        for ingestor in ingestors:
            ingestor.stop()


def configure_loyalty(data_dir: Path) -> bool:
    """Give the ledger checks the business key when the hub has one; True if it did.

    Without it the hub still books every sale and checks points; it only cannot
    read members' birthdays (for birthday multipliers) and says so in the log.
    The owner's rules come from the database: ``hub.rules_store.refresh``.
    """
    from hub import loyalty
    from hub.provision import BUSINESS_KEY_FILE
    from kiosk.domain.loyalty import LoyaltyRules
    from kiosk.store.pii import PiiKey

    path = data_dir / BUSINESS_KEY_FILE
    if not path.exists():
        logging.getLogger(__name__).warning(
            "no business key at %s: birthday rules cannot be checked (run `hub device add` first)", path
        )
        loyalty.configure(LoyaltyRules(), None)
        return False
    loyalty.configure(LoyaltyRules(), PiiKey(base64.b64decode(path.read_text().strip())))
    return True


@main.command("db-migrate")
@click.option("--db", "db_url", default=DEFAULT_DB, show_default=True)
def db_migrate(db_url: str) -> None:
    """Create or upgrade the hub's tables."""
    from hub.db import open_hub_database

    open_hub_database(db_url)
    click.echo(f"hub database ready: {db_url}")


def _register_groups() -> None:
    from hub.campaign_cli import campaign
    from hub.device_cli import device
    from hub.member_cli import member
    from hub.release_cli import release
    from hub.rules_cli import rules

    main.add_command(campaign)
    main.add_command(device)
    main.add_command(member)
    main.add_command(release)
    main.add_command(rules)


_register_groups()
# sync commands: ingest, quarantine, config, broker-config, simulate (hub/sync_cli.py)
from hub.sync_cli import register as _register_sync_commands  # noqa: E402 (needs main)

_register_sync_commands(main)

if __name__ == "__main__":
    main()
