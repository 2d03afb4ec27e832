"""``hub serve`` (ingest and dashboard in one process) and ``hub db-migrate``."""

import datetime as dt
import threading
from pathlib import Path
from zoneinfo import ZoneInfo

import click
import uvicorn
from cryptography import x509

from hub.accounts import users
from hub.api.member_snapshot import DeviceAuth
from hub.db import DEFAULT_DB
from hub.db.backup import BackupUnavailable
from hub.db.migrations import head, migrate_database
from hub.db.schema import connect_hub_database, default_backup_dir, open_hub_database
from hub.fleet.broker_config import issue_server_cert
from hub.fleet.devices import StoreBook
from hub.ingest.batch import configure_stores
from hub.ingest.worker import HubIngestor
from hub.jobs import catalog as job_catalog
from hub.jobs.runner import Scheduler
from hub.members.settings import configure_loyalty
from hub.reports import summary
from hub.reports.together_downlink import TogetherPublisher, broker_publish
from hub.rules import store as rules_store
from hub.staff.downlink import roster_publisher, start_publishing
from hub.web import proxies
from hub.web.app import create_app
from hub.web.catalog import broker_publisher
from hub.web.https import redirect_to_https


@click.command()
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
@click.option(
    "--http-host",
    default="127.0.0.1",
    show_default=True,
    envvar="HUB_HTTP_HOST",
    help="Address the dashboard listens on: 0.0.0.0 for the shop's network (HUB_HTTP_HOST).",
)
@click.option(
    "--http-port", default=8080, show_default=True, type=click.IntRange(1, 65535), envvar="HUB_HTTP_PORT"
)
@click.option(
    "--tls-cert",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="HUB_TLS_CERT",
    help="Serve HTTPS with this certificate (PEM, with --tls-key) the owner supplies.",
)
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False, path_type=Path), envvar="HUB_TLS_KEY")
@click.option(
    "--tls-hostname",
    "tls_hostnames",
    multiple=True,
    envvar="HUB_TLS_HOSTNAMES",
    help="Serve HTTPS with a certificate from the hub's own CA (`hub broker-config --tls-port`) for "
    "these names or addresses (repeat; HUB_TLS_HOSTNAMES space-separated).",
)
@click.option(
    "--redirect-port",
    default=0,
    type=click.IntRange(0, 65535),
    envvar="HUB_REDIRECT_PORT",
    help="With TLS: also listen for plain HTTP here and redirect it to HTTPS (0: do not).",
)
@click.option(
    "--trusted-proxy",
    "trusted_proxy",
    multiple=True,
    envvar="HUB_TRUSTED_PROXIES",
    help="A reverse proxy in front of the hub (address or network; repeat; HUB_TRUSTED_PROXIES "
    "space-separated): only its X-Forwarded-For says who the client is. Default: none.",
)
@click.option("--timezone", "tz_name", default="Asia/Shanghai", show_default=True)
@click.option("--workers", default=1, show_default=True, help="Ingest workers sharing the uplink.")
@click.option(
    "--data-dir",
    "--data",
    "data_dir",
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
    tls_cert: Path | None,
    tls_key: Path | None,
    tls_hostnames: tuple[str, ...],
    redirect_port: int,
    trusted_proxy: tuple[str, ...],
    tz_name: str,
    workers: int,
    data_dir: Path,
    broker_dir: Path,
) -> None:
    """Ingest terminal events over MQTT and serve the dashboard over HTTP."""

    tz = ZoneInfo(tz_name)
    try:
        trusted = proxies.trusted_proxies(trusted_proxy)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--trusted-proxy") from exc
    tls = tls_files(tls_cert, tls_key, tls_hostnames, broker_dir / "tls")
    try:
        open_hub_database(db_url)
    except BackupUnavailable as exc:  # a migration is due and no backup could be taken first
        raise click.ClickException(str(exc)) from exc
    if summary.ensure(tz):  # sales booked before the report summary existed
        click.echo("hub: report summary rebuilt from the booked sales")
    configure_stores(StoreBook(data_dir))
    scheme = "https" if tls else "http"
    code = users.setup_code(data_dir)
    if code is not None:
        click.echo(
            f"hub: 还没有店主账号：打开 {scheme}://{http_host}:{http_port}/setup 并输入 {code} 中的设置码"
            f" / no owner yet: open /setup and enter the code in {code} (or `hub user add NAME --role owner`)"
        )
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
    # the scheduled jobs run here, checked every minute; a second hub process runs its own
    # scheduler and the job table lets only one of them run each period (docs/jobs.md)
    scheduler = Scheduler(job_catalog.jobs_with_fresh_rules, tz, data_dir)
    scheduler.start()
    rosters_sent = threading.Event()
    # the often-bought-together table, retained, to every terminal: at start and after each change
    together = TogetherPublisher(
        data_dir, broker_publish(mqtt_host, mqtt_port, mqtt_user, mqtt_password), lambda: dt.datetime.now(tz)
    )
    together.start()
    click.echo(f"hub: dashboard on {scheme}://{http_host}:{http_port}/ , broker {mqtt_host}:{mqtt_port}")
    try:
        publish = broker_publisher(mqtt_host, mqtt_port, mqtt_user, mqtt_password)
        publish_staff = roster_publisher(data_dir, mqtt_host, mqtt_port, mqtt_user, mqtt_password)
        # every terminal gets its store's roster at start (retained); each change on /staff sends it again
        start_publishing(publish_staff, rosters_sent)
        app = create_app(
            tz,
            device_auth=DeviceAuth(broker_dir / "passwd"),
            data_dir=data_dir,
            publish_catalog=publish,
            publish_staff=publish_staff,
            trusted_proxies=trusted,
        )
        if tls and redirect_port:
            plain = uvicorn.Server(
                uvicorn.Config(
                    redirect_to_https(http_port), host=http_host, port=redirect_port, log_level="warning"
                )
            )
            threading.Thread(target=plain.run, daemon=True, name="http-redirect").start()
        certfile, keyfile = tls if tls else (None, None)
        uvicorn.run(
            app,
            host=http_host,
            port=http_port,
            log_level="warning",
            ssl_certfile=certfile,
            ssl_keyfile=keyfile,
            proxy_headers=False,  # the app reads them from the owner's trusted proxies only (hub.web.proxies)
        )
    finally:
        rosters_sent.set()
        together.stop()
        scheduler.stop()
        for ingestor in ingestors:
            ingestor.stop()


def tls_files(
    cert: Path | None, key: Path | None, hostnames: tuple[str, ...], tls_dir: Path
) -> tuple[Path, Path] | None:
    """The certificate and key to serve HTTPS with, or None for plain HTTP.

    The owner's own pair when given; else, with ``hostnames``, one issued by the hub's CA (kept in
    ``tls_dir`` and issued again when the names change).
    """
    if (cert is None) != (key is None):
        raise click.UsageError("--tls-cert and --tls-key go together / 证书和私钥需同时提供")
    if cert is not None and key is not None:
        return cert, key
    names = [n for raw in hostnames for n in raw.split()]
    if not names:
        return None
    if not (tls_dir / "ca.key").exists():
        raise click.UsageError(
            f"no hub CA in {tls_dir}: run `hub broker-config --tls-port 8883` first, or give --tls-cert"
            f" / {tls_dir} 中没有总部 CA"
        )
    made, made_key = tls_dir / "web.pem", tls_dir / "web.key"
    if not made.exists() or not made_key.exists() or served_names(made) != sorted(names):
        issue_server_cert(tls_dir, names, dt.datetime.now(dt.UTC))
    return made, made_key


def served_names(cert: Path) -> list[str]:
    """The names and addresses a certificate is for, sorted."""
    parsed = x509.load_pem_x509_certificate(cert.read_bytes())
    alt = parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return sorted(
        [*alt.get_values_for_type(x509.DNSName), *map(str, alt.get_values_for_type(x509.IPAddress))]
    )


@click.command("db-migrate")
@click.option("--db", "db_url", default=DEFAULT_DB, show_default=True)
@click.option(
    "--backup-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where a PostgreSQL dump goes before migrating [default: $HUB_BACKUP_DIR or /var/lib/hub/backups]"
    " (SQLite: beside the database file).",
)
def db_migrate(db_url: str, backup_dir: Path | None) -> None:
    """Create or upgrade the hub's tables; say which migrations ran (after a backup)."""

    db = connect_hub_database(db_url)
    try:
        names = migrate_database(db, backup_dir or default_backup_dir())
    except BackupUnavailable as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        db.close()
    at = head()
    if not names:
        click.echo(f"already at {at}: {db_url} / 数据库已是最新版本 {at}")
        return
    for name in names:
        click.echo(f"applied {name} / 已执行迁移")
    click.echo(f"hub database at schema {at}: {db_url} / 数据库结构版本 {at}")
