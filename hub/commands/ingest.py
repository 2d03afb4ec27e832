"""``hub ingest``: one ingest worker without the dashboard.

Apart from the other sync commands so that a worker process imports only what booking events
needs (the database, the ingest, the member ledger and the broker client), not the web app,
the reports or the simulator: ``python -X importtime -m hub.cli ingest --help`` shows it
(docs/perf.md, "Ingest worker start").
"""

import signal
import threading
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from hub.db import DEFAULT_DB
from hub.db.schema import open_hub_database
from hub.fleet.devices import StoreBook
from hub.ingest.batch import configure_stores
from hub.ingest.worker import HubIngestor
from hub.members.settings import configure_loyalty


@click.command()
@click.option(
    "--db", "db_url", default=DEFAULT_DB, show_default=True, help="sqlite:///path or postgresql://..."
)
@click.option("--mqtt-host", default="127.0.0.1", show_default=True)
@click.option("--mqtt-port", default=1883, show_default=True, type=int)
@click.option("--mqtt-user", default=None, help="Hub's broker username.")
@click.option("--mqtt-password", default=None, envvar="HUB_MQTT_PASSWORD")
@click.option("--ca-file", default=None, help="CA certificate that signed the broker's (TLS).")
@click.option("--timezone", "tz_name", default="Asia/Shanghai", show_default=True)
@click.option("--worker", default="1", show_default=True, help="Worker name, unique per process.")
@click.option("--session-expiry", default=60, show_default=True, help="Seconds the broker keeps our session.")
@click.option("--crash-after-commits", type=int, default=None, hidden=True, help="Fault injection (tests).")
@click.option(
    "--member-downlink/--no-member-downlink",
    default=True,
    show_default=True,
    help="Send member deltas to terminals (one worker is enough).",
)
@click.option(
    "--data-dir",
    "hub_data",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("/var/lib/hub"),
    show_default=True,
    help="The hub's data directory: its device registry decides which store each terminal sells for;"
    " its business key reads members' data.",
)
def ingest(
    db_url: str,
    mqtt_host: str,
    mqtt_port: int,
    mqtt_user: str | None,
    mqtt_password: str | None,
    ca_file: str | None,
    tz_name: str,
    worker: str,
    session_expiry: int,
    crash_after_commits: int | None,
    member_downlink: bool,
    hub_data: Path,
) -> None:
    """Run one ingest worker without the dashboard; start several to share the load."""

    open_hub_database(db_url)
    configure_stores(StoreBook(hub_data))
    # the business keys (birthday rules; during a key rotation, registrations under the old key are
    # stored under the new one), read again when `hub keys rotate` changes them
    configure_loyalty(hub_data)
    tz = ZoneInfo(tz_name)
    credentials = (mqtt_user, mqtt_password, ca_file)
    faults = (crash_after_commits, session_expiry)
    ingestor = HubIngestor(mqtt_host, mqtt_port, tz, worker, *credentials, *faults, member_downlink)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_a: stop.set())
    signal.signal(signal.SIGINT, lambda *_a: stop.set())
    ingestor.start()
    click.echo(f"hub ingest worker {worker}: broker {mqtt_host}:{mqtt_port}, database {db_url}")
    while not stop.wait(1.0):
        pass
    ingestor.stop()
