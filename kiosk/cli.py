"""``kiosk`` command line: run the app, run the sync agent, manage the database."""

import importlib
import json
import logging
import os
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from kiosk.app import KioskApp
    from kiosk.config import KioskConfig

DEFAULT_DB = Path("/var/lib/kiosk/kiosk.db")

#: The command groups defined in other modules (``module:attribute``), imported when used: `kiosk
#: run` then never loads the update, hardware and configuration tools (memory, docs/perf.md).
GROUPS = {
    "config": "kiosk.config_cli:config",
    "hw": "kiosk.hw.cli:hw_group",
    "update": "kiosk.updates.cli:update",
}


class KioskGroup(click.Group):
    """The ``kiosk`` group: the commands defined here, and :data:`GROUPS` loaded when named."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command's name, for ``kiosk --help``."""
        return sorted({*super().list_commands(ctx), *GROUPS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command ``cmd_name``; a group of :data:`GROUPS` is imported now."""
        if cmd_name not in GROUPS:
            return super().get_command(ctx, cmd_name)
        module, attribute = GROUPS[cmd_name].split(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command


@click.group(cls=KioskGroup)
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
def main(verbose: bool) -> None:
    """Member Kiosk terminal."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _window_size(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """``--size`` as ``WxH`` (e.g. 800x480), or a clear zh/en error instead of a traceback."""
    if not re.fullmatch(r"[1-9][0-9]{2,4}x[1-9][0-9]{2,4}", value.lower()):
        raise click.BadParameter(f"{value!r}: use WxH, e.g. 800x480 / 窗口大小应为 宽x高，如 800x480")
    return value


def _db_file(must_exist: bool) -> Callable[[click.Context, click.Parameter, Path], Path]:
    """A ``--db`` check: a file, not a directory; with ``must_exist``, one that is there."""

    def check(ctx: click.Context, param: click.Parameter, value: Path) -> Path:
        if value.is_dir():
            raise click.BadParameter(
                f"{value} is a directory: name the database file / {value} 是目录，请指定数据库文件"
            )
        if must_exist and not value.exists():
            raise click.BadParameter(
                f"no terminal database at {value}: run `kiosk db migrate --db {value}` first"
                f" / {value} 没有终端数据库"
            )
        return value

    return check


@main.command()
@click.option(
    "--db",
    "db_path",
    type=click.Path(path_type=Path),
    default=DEFAULT_DB,
    show_default=True,
    callback=_db_file(False),
)
@click.option("--store", default="S01", show_default=True)
@click.option("--device", default="K01", show_default=True)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--demo", is_flag=True, help="Seed the demo catalog and show demo scan buttons.")
@click.option(
    "--script",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="JSON shopper script: barcodes, bad_barcodes, screenshots, report.",
)
@click.option("--size", default="800x480", show_default=True, help="Window size WxH.", callback=_window_size)
@click.option("--gateway-url", default=None, help="Payment gateway; --demo starts a local simulator.")
@click.option("--voice/--no-voice", default=False, show_default=True, help="Spoken prompts (espeak-ng).")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="kiosk.toml: store, device, data path and devices (overrides --db/--store/--device).",
)
def run(
    db_path: Path,
    store: str,
    device: str,
    lang: str,
    demo: bool,
    script: Path | None,
    size: str,
    gateway_url: str | None,
    voice: bool,
    config_path: Path | None,
) -> None:
    """Run the self-checkout app (Kivy)."""
    provisioned = None
    if config_path is not None:
        from kiosk.config import ConfigError, config_warnings, load_config

        try:
            provisioned = load_config(config_path)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from exc
        for warning in config_warnings(provisioned, config_path):  # a missing logo never stops a sale
            logging.getLogger("kiosk").warning("%s", warning.render(str(config_path)))
        db_path, store, device = Path(provisioned.data.path), provisioned.store.id, provisioned.device.id
        if gateway_url is None and provisioned.payments is not None:
            gateway_url = provisioned.payments.gateway_url
    width, height = (int(v) for v in size.lower().split("x"))
    # the layouts are drawn for 800x480: larger screens scale them up rather than spread them out
    os.environ.setdefault("KIVY_METRICS_DENSITY", f"{min(width / 800, height / 480):.3f}")
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    from kivy.config import Config

    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("kivy", "exit_on_escape", "0")
    Config.set("input", "mouse", "mouse,disable_multitouch")
    from kiosk.app import AppSettings, KioskApp
    from kiosk.payments import HttpGatewayProvider

    spec = json.loads(script.read_text()) if script is not None else {}
    simulator = None
    if gateway_url is None and demo:
        from kiosk.payments.gateway_sim import PaymentGatewaySimulator

        simulator = PaymentGatewaySimulator(hang_seconds=spec.get("gateway_hang_s", 3.0)).start()
        gateway_url = simulator.url
    settings = AppSettings(
        db_path=db_path,
        store=store,
        device=device,
        lang=lang,
        demo_mode=demo,
        gateway_url=gateway_url,
        voice=voice,
        voice_player=[] if script is not None else None,  # scripted runs render prompts, play nothing
        **(_provisioned_settings(provisioned) if provisioned is not None else _unprovisioned_settings(demo)),
        **spec.get("settings", {}),
    )
    payments = HttpGatewayProvider(gateway_url, timeout=settings.gateway_timeout_s) if gateway_url else None
    app = KioskApp(settings, payments=payments)
    if script is not None:
        from kiosk.devtools.scripted import ScriptedShopper, ShopperScript

        ScriptedShopper(
            ShopperScript(
                barcodes=spec.get("barcodes", []),
                steps=spec.get("steps"),
                bad_barcodes=spec.get("bad_barcodes", []),
                screenshots=Path(spec["screenshots"]) if spec.get("screenshots") else None,
                report=Path(spec["report"]) if spec.get("report") else None,
                pay=spec.get("pay", True),
            )
        ).attach(app)
    readers = _start_devices(provisioned, app)
    try:
        app.run()
    finally:
        for reader in readers:
            reader.stop()
        if simulator is not None:
            simulator.stop()


def _unprovisioned_settings(demo: bool) -> dict[str, object]:
    """Without kiosk.toml: the e-receipt link's hub and key from the environment (``make demo`` sets
    KIOSK_HUB_URL and KIOSK_RECEIPT_KEY from its hub); a bare demo signs with a key no hub knows."""
    import base64

    from kiosk.config import DEMO_RECEIPT_KEY

    key = os.environ.get("KIOSK_RECEIPT_KEY") or (DEMO_RECEIPT_KEY if demo else None)
    settings: dict[str, object] = {"receipt_key": base64.b64decode(key) if key else None}
    if os.environ.get("KIOSK_HUB_URL"):
        settings["hub_url"] = os.environ["KIOSK_HUB_URL"]
    return settings


def _provisioned_settings(config: "KioskConfig") -> dict[str, object]:
    from kiosk.hw.peripherals import hardware_from

    printer = hardware_from(config).printer
    return {
        "timezone": config.store.timezone,
        "shop_name": config.store.name,
        "logo": config.store.logo if config.store.logo_problem() is None else None,  # else the name alone
        "printer_url": printer.url if printer else None,
        "printer_width": printer.width if printer else 576,  # the printer and the receipts: one width
        "encryption_key": config.data.key_bytes(),  # members' cards and QR codes are recognised
        "receipt_key": config.device.receipt_key_bytes(),  # the receipt QR's signed e-receipt link
        "receipt_link_days": config.device.receipt_link_days,
        **({"hub_url": config.broker.hub_url} if config.broker.hub_url else {}),  # what that link opens
        "offline_points_cap": config.limits.offline_points_per_member,
        "offline_stored_value_cap_fen": config.limits.offline_stored_value_fen_per_member,
        **({"gateway_timeout_s": config.payments.timeout_s} if config.payments else {}),
    }


def _start_devices(config: "KioskConfig | None", app: "KioskApp") -> list:  # type: ignore[type-arg]
    """Readers for the provisioned scanner and card reader, and systemd's ready/watchdog pings.

    The pings run on the Kivy Clock, so a hung UI thread stops them and systemd restarts the app.
    """
    from kivy.clock import Clock

    from kiosk.system import sdnotify

    Clock.schedule_once(lambda _dt: sdnotify.ready(), 0)
    interval = sdnotify.watchdog_interval()
    if interval:
        Clock.schedule_interval(lambda _dt: sdnotify.watchdog(), interval)
    if config is None:
        return []
    from kiosk.hw.peripherals import start_readers

    return start_readers(config, app.hardware)


@main.command()
@click.option("--db", "db_path", type=click.Path(path_type=Path), default=DEFAULT_DB, show_default=True)
@click.option("--device", default="K01", show_default=True)
@click.option("--broker-host", default="127.0.0.1", show_default=True)
@click.option("--broker-port", default=1883, show_default=True, type=int)
@click.option("--username", default=None)
@click.option("--password", default=None, envvar="KIOSK_MQTT_PASSWORD")
@click.option("--ca-file", default=None, help="CA certificate that signed the broker's (TLS).")
@click.option("--client-cert", default=None, help="Client certificate (PEM file) if the broker asks.")
@click.option("--client-key", default=None, help="Private key of --client-cert (PEM file).")
@click.option("--batch-size", default=50, show_default=True, help="Events per message at most (N).")
@click.option("--linger-ms", default=200, show_default=True, help="Wait this long for a full batch (T).")
@click.option("--max-inflight", default=4, show_default=True, help="Batches awaiting the hub's ack.")
@click.option("--resend-after", default=5.0, show_default=True, help="First ack deadline, seconds.")
@click.option("--heartbeat", default=30.0, show_default=True, help="Status interval, seconds.")
@click.option(
    "--hub-url",
    default=None,
    envvar="KIOSK_HUB_URL",
    help="Hub HTTP address for the member snapshot (signs in as --username/--password).",
)
@click.option("--member-gap-patience", default=5.0, show_default=True, help="Seconds before a re-snapshot.")
def sync(
    db_path: Path,
    device: str,
    broker_host: str,
    broker_port: int,
    username: str | None,
    password: str | None,
    ca_file: str | None,
    client_cert: str | None,
    client_key: str | None,
    batch_size: int,
    linger_ms: int,
    max_inflight: int,
    resend_after: float,
    heartbeat: float,
    hub_url: str | None,
    member_gap_patience: float,
) -> None:
    """Run the MQTT agent: publish the outbox, apply the hub's acks, downlink config and members."""
    import signal

    from kiosk.store import open_database
    from kiosk.sync.agent import AgentSettings, BrokerSettings, OutboxAgent
    from kiosk.sync.members import HubEndpoint

    open_database(db_path)
    settings = AgentSettings(
        batch_size=batch_size,
        batch_linger=linger_ms / 1000,
        max_inflight=max_inflight,
        resend_after=resend_after,
        heartbeat_interval=heartbeat,
        member_gap_patience=member_gap_patience,
    )
    broker = BrokerSettings(
        broker_host,
        broker_port,
        username,
        password,
        ca_file=ca_file,
        client_cert=client_cert,
        client_key=client_key,
    )
    hub = HubEndpoint(hub_url, username or device, password or "", ca_file=ca_file) if hub_url else None
    agent = OutboxAgent(device, broker, settings, hub=hub)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_a: stop.set())
    signal.signal(signal.SIGINT, lambda *_a: stop.set())
    agent.run(until=stop)


@main.group()
def db() -> None:
    """The terminal's database."""


@db.command("migrate")
@click.option(
    "--db",
    "db_path",
    type=click.Path(path_type=Path),
    default=DEFAULT_DB,
    show_default=True,
    callback=_db_file(False),
)
@click.option("--demo-catalog", is_flag=True, help="Also load the demo shop's products when empty.")
def db_migrate(db_path: Path, demo_catalog: bool) -> None:
    """Create or upgrade the database (a backup is taken first)."""
    from kiosk.store import catalog
    from kiosk.store.db import open_database
    from kiosk.store.migrations import applied

    database = open_database(db_path)
    click.echo(f"{db_path}: migrations applied: {sorted(applied(database))}")
    if demo_catalog:
        click.echo(f"demo products added: {catalog.seed_demo_catalog()}")


@db.command("info")
@click.option(
    "--db",
    "db_path",
    type=click.Path(path_type=Path),
    default=DEFAULT_DB,
    show_default=True,
    callback=_db_file(True),
)
def db_info(db_path: Path) -> None:
    """Schema version, row counts and outbox depth."""
    from kiosk.store import outbox, together
    from kiosk.store.db import open_database
    from kiosk.store.members import hub_copy
    from kiosk.store.migrations import applied
    from kiosk.store.models import ALL_MODELS, ChainHead

    database = open_database(db_path)
    click.echo(f"database: {db_path}")
    click.echo(f"migrations: {sorted(applied(database))}")
    for model in ALL_MODELS:
        click.echo(f"  {model._meta.table_name}: {model.select().count()}")
    members = hub_copy.position()
    snapshot = "snapshot taken" if members.has_snapshot else "no snapshot yet"
    click.echo(f"member version: {members.version} ({snapshot})")
    rules = together.TogetherRule.select().count()
    click.echo(f"often bought together: version {together.table_version()}, rules: {rules}")
    head = ChainHead.get_or_none(ChainHead.id == 1)
    click.echo(f"event sequence: {head.seq if head else 0}")
    click.echo(f"outbox pending: {outbox.depth()}")


if __name__ == "__main__":
    main()
