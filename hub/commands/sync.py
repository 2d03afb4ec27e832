"""``hub`` commands of the sync side: quarantine, config, broker config, simulation (``hub ingest``
is :mod:`hub.commands.ingest`, apart so a worker imports only what ingest needs).

:data:`hub.cli.COMMANDS` names them for the ``hub`` group.
"""

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from hub.campaigns import promotions as promos
from hub.catalog import csvfile
from hub.catalog import releases as cat
from hub.db import DEFAULT_DB
from hub.db.schema import open_hub_database
from hub.devtools.simulate import run
from hub.fleet.broker_config import BrokerLayout, write_broker_files
from hub.fleet.devices import StoreBook
from hub.ingest import quarantine as q


@click.group()
def quarantine() -> None:
    """Messages and events the hub could not apply (隔离区)."""


@quarantine.command("list")
@click.option("--db", "db_url", default=DEFAULT_DB, show_default=True)
@click.option("--all", "show_all", is_flag=True, help="Also show entries already resolved.")
def quarantine_list(db_url: str, show_all: bool) -> None:
    """List quarantined entries (open ones by default)."""

    open_hub_database(db_url, create=False)
    for row in q.entries(include_resolved=show_all):
        state = "resolved" if row.resolved_at else "open"
        click.echo(f"{row.id}\t{state}\t{row.device or '-'}\t{row.event_id or '-'}\t{row.reason}")


@quarantine.command("replay")
@click.argument("entry_id", type=int)
@click.option("--db", "db_url", default=DEFAULT_DB, show_default=True)
@click.option("--timezone", "tz_name", default="Asia/Shanghai", show_default=True)
def quarantine_replay(entry_id: int, db_url: str, tz_name: str) -> None:
    """Apply quarantined entry ENTRY_ID again, after the cause has been fixed."""

    open_hub_database(db_url)
    try:
        outcome = q.replay(entry_id, dt.datetime.now(dt.UTC), ZoneInfo(tz_name))
    except q.ReplayError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(outcome.describe())
    if not outcome.resolved:
        raise SystemExit(1)


@click.group()
def catalog() -> None:
    """The products terminals sell (商品目录)."""


@catalog.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--db", "db_url", default=DEFAULT_DB, show_default=True)
def catalog_load(path: str, db_url: str) -> None:
    """Insert or update products from a JSON list (sku, barcode, name_zh, name_en, price_fen, ...)."""
    import json
    from pathlib import Path

    from pydantic import ValidationError

    open_hub_database(db_url)
    try:
        count = cat.load_catalog(json.loads(Path(path).read_text(encoding="utf-8")))
    except (ValueError, ValidationError) as exc:
        raise click.ClickException(f"商品文件无效 / invalid product file {path}: {exc}") from exc
    click.echo(f"{count} products loaded / 已导入 {count} 个商品")


@catalog.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--db", "db_url", default=DEFAULT_DB, show_default=True)
@click.option("--check", is_flag=True, help="Only check the file; change nothing. / 只校验，不导入。")
def catalog_import(path: Path, db_url: str, check: bool) -> None:
    """Add or update products from a CSV (sku, barcode, name_zh, name_en, price, category, active).

    Every problem is printed with its line (exit 1) and nothing is imported. / 从 CSV 导入商品。
    """
    open_hub_database(db_url)
    try:
        text = csvfile.decode(path.read_bytes())
        if check:
            count = len(csvfile.check(text))
            click.echo(f"OK: {path} ({count} products) / 文件有效（{count} 个商品）")
            return
        added, changed = csvfile.import_text(text, dt.datetime.now(dt.UTC), "cli")
    except csvfile.CsvRefused as refused:
        click.echo(refused.render(str(path)), err=True)
        raise SystemExit(1) from None
    click.echo(f"{added} added, {changed} changed / 新增 {added} 个，修改 {changed} 个")


@catalog.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--db", "db_url", default=DEFAULT_DB, show_default=True)
def catalog_export(path: Path, db_url: str) -> None:
    """Write every product to PATH as CSV (UTF-8 with BOM, opens right in Excel). / 导出商品目录。"""
    open_hub_database(db_url, create=False)
    path.write_text(csvfile.export_text(), encoding="utf-8", newline="")
    click.echo(str(path))


@click.group()
def config() -> None:
    """Versioned config for terminals: catalog, prices, rules, settings (终端配置)."""


@config.command("publish")
@click.option("--db", "db_url", default=DEFAULT_DB, show_default=True)
@click.option("--device", "devices", multiple=True, help="Device id; default: every known device.")
@click.option("--mqtt-host", default="127.0.0.1", show_default=True)
@click.option("--mqtt-port", default=1883, show_default=True, type=int)
@click.option("--mqtt-user", default=None)
@click.option("--mqtt-password", default=None, envvar="HUB_MQTT_PASSWORD")
@click.option("--ca-file", default=None)
@click.option(
    "--data-dir",
    "hub_data",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("/var/lib/hub"),
    show_default=True,
    help="The hub's data directory: its device registry says which store's prices each terminal gets.",
)
@click.option(
    "--promotions",
    "promotions_file",
    type=click.Path(path_type=Path),
    default=None,
    help='JSON list of {"zh", "en"} attract-screen promotions; default: keep the last release\'s.',
)
def config_publish(
    db_url: str,
    devices: tuple[str, ...],
    mqtt_host: str,
    mqtt_port: int,
    mqtt_user: str | None,
    mqtt_password: str | None,
    ca_file: str | None,
    hub_data: Path,
    promotions_file: Path | None,
) -> None:
    """Freeze the catalog into a new release and publish it, retained, to the terminals (each at its
    store's own prices)."""

    try:
        promotions = promos.load_promotions(promotions_file) if promotions_file else None
    except promos.PromotionFileError as exc:
        raise click.ClickException(str(exc)) from exc
    open_hub_database(db_url)
    targets = list(devices) or cat.known_devices()
    if not targets:
        raise click.ClickException("还没有任何终端 / no terminal known yet: pass --device")
    settings = promos.next_settings(cat.latest_release(), promotions)
    release = cat.new_release(dt.datetime.now(dt.UTC), settings=settings)
    try:
        cat.publish_release(
            release, targets, mqtt_host, mqtt_port, mqtt_user, mqtt_password, ca_file,
            registry=[StoreBook(hub_data)],
        )  # fmt: skip
    except (ConnectionError, OSError, RuntimeError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"config version {release.version} published to {len(targets)} devices: {' '.join(targets)}")


@click.command("broker-config")
@click.option(
    "--broker-dir", type=click.Path(file_okay=False), default="/etc/mosquitto/kiosk", show_default=True
)
@click.option("--data-dir", type=click.Path(file_okay=False), default="/var/lib/mosquitto", show_default=True)
@click.option("--port", type=int, default=1883, show_default=True, help="Plain MQTT port; 0 disables it.")
@click.option("--tls-port", type=int, default=8883, show_default=True, help="MQTT over TLS; 0 disables it.")
@click.option("--bind", default="0.0.0.0", show_default=True)
@click.option("--host", "hosts", multiple=True, default=["localhost"], show_default=True,
              help="Name or IP kiosks use for the broker (certificate SAN); repeat for several.")  # fmt: skip
@click.option(
    "--hub-password", envvar="HUB_MQTT_PASSWORD", default=None, help="Set the hub's broker password."
)
@click.option("--run-as", default="mosquitto", show_default=True, help="User Mosquitto drops to.")
@click.option("--require-client-cert", is_flag=True, help="Kiosks must present a client certificate too.")
def broker_config(
    broker_dir: str,
    data_dir: str,
    port: int,
    tls_port: int,
    bind: str,
    hosts: tuple[str, ...],
    hub_password: str | None,
    run_as: str,
    require_client_cert: bool,
) -> None:
    """Write mosquitto.conf, the ACL, the hub's password and the TLS CA + broker certificate."""
    from pathlib import Path

    layout = BrokerLayout(
        broker_dir=Path(broker_dir),
        data_dir=Path(data_dir),
        port=port or None,
        bind=bind,
        tls_port=tls_port or None,
        run_as=run_as,
        require_certificate=require_client_cert,
    )
    try:
        written = write_broker_files(layout, list(hosts), hub_password)
    except OSError as exc:
        raise click.ClickException(f"无法写入 {broker_dir} / cannot write {broker_dir}: {exc}") from exc
    for path in written:
        click.echo(f"wrote {path}")
    click.echo("reload: systemctl reload mosquitto  (重新加载消息服务器)")


@click.command()
@click.option("--kiosks", default=3, show_default=True, help="Headless kiosks (till + sync agent each).")
@click.option("--sales", default=100, show_default=True, help="Sales per kiosk.")
@click.option("--workers", default=1, show_default=True, help="Hub ingest workers.")
@click.option("--db", "db_url", default=None, help="Hub database; default a fresh SQLite file in --workdir.")
@click.option("--mqtt-port", type=int, default=None, help="Use this broker; default a private Mosquitto.")
@click.option("--batch-size", default=50, show_default=True)
@click.option(
    "--workdir", type=click.Path(file_okay=False), default=None, help="Default: a temporary directory."
)
@click.option(
    "--secured",
    is_flag=True,
    help="Run on the shops' broker configuration: a private Mosquitto with the files `hub broker-config` "
    "and `hub device add` write (passwords, ACL, no anonymous login), the registry deciding stores.",
)
@click.option("--tls", is_flag=True, help="With --secured: every connection over TLS with the hub's CA.")
def simulate(
    kiosks: int,
    sales: int,
    workers: int,
    db_url: str | None,
    mqtt_port: int | None,
    batch_size: int,
    workdir: str | None,
    secured: bool,
    tls: bool,
) -> None:
    """Run N headless kiosks selling M sales each against the hub; print JSON; exit 1 unless exact."""
    import tempfile
    from pathlib import Path

    if (secured or tls) and mqtt_port is not None:
        raise click.UsageError(
            "--secured/--tls start their own broker: leave out --mqtt-port / 请去掉 --mqtt-port"
        )
    with tempfile.TemporaryDirectory(prefix="hub-simulate-") as scratch:
        where = Path(workdir) if workdir else Path(scratch)
        result = run(where, kiosks, sales, workers, db_url, mqtt_port, batch_size, secured=secured, tls=tls)
    click.echo(result.as_json())
    if not result.exact:
        raise SystemExit(1)
