"""``hub device ...``: terminals, their credentials and their cards.

``hub broker-config`` (hub/fleet/broker_config.py) writes the broker's own files; this
group adds and removes terminals in the same password and ACL files.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import click

from hub.db import DEFAULT_DB
from hub.db.schema import HubDatabaseError, open_hub_database
from hub.fleet.broker_config import issue_client_cert, revoke_client_cert
from hub.fleet.devices import REGISTRY_FILE, DeviceRegistry, RegistryError, new_password
from hub.fleet.provision import (
    BrokerFiles,
    ProvisionError,
    business_key,
    kiosk_config_for,
    render,
    validate_text,
    write_to_boot,
    write_to_image,
)
from hub.fleet.receipt_keys import device_receipt_key_text
from hub.staff.downlink import roster_publisher
from kiosk.config import ConfigError, WifiConfig
from kiosk.domain.receipt_link import DEFAULT_DAYS

__all__ = ["device"]

DEFAULT_DATA = Path("/var/lib/hub")
DEFAULT_BROKER_DIR = Path("/etc/mosquitto/kiosk")

data_option = click.option(
    "--data-dir",
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DATA,
    envvar="HUB_DATA",
    show_default=True,
    help="Hub data directory (device registry, issued kiosk.toml files).",
)
broker_dir_option = click.option(
    "--broker-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_BROKER_DIR,
    envvar="HUB_BROKER_DIR",
    show_default=True,
    help="Where Mosquitto's passwd and acl files live.",
)
reload_option = click.option(
    "--reload/--no-reload",
    default=True,
    show_default=True,
    help="Reload Mosquitto (systemctl reload mosquitto) so the change takes effect.",
)


def _issued_file(data_dir: Path, device_id: str) -> Path:
    return data_dir / "devices" / device_id / "kiosk.toml"


def _reload_broker(enabled: bool) -> None:
    if not enabled:
        click.echo("broker not reloaded: run `systemctl reload mosquitto` / 请重新加载 Mosquitto")
        return
    if shutil.which("systemctl") is None:
        raise click.ClickException("no systemctl: reload Mosquitto by hand / 请手动重载 Mosquitto")
    result = subprocess.run(
        ["systemctl", "reload", "mosquitto.service"], capture_output=True, text=True, check=False, timeout=30
    )
    if result.returncode != 0:
        raise click.ClickException(
            f"files written, but reloading Mosquitto failed: {result.stderr.strip()}; "
            f"run `systemctl reload mosquitto`\n文件已写入，但 Mosquitto 重载失败，请手动重载"
        )


# The form kiosk.toml's [payments] gateway_url takes (kiosk/config.py): checked here first, in both languages.
GATEWAY_URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")


@click.group()
def device() -> None:
    """Add, list, revoke terminals and put their kiosk.toml on a card. / 终端管理与开通。"""


@device.command("add")
@click.option("--store", required=True, help="Store id, e.g. s-001.")
@click.option("--name", required=True, help="Terminal name, e.g. 'Front till'.")
@click.option("--store-name", default=None, help="Store name on screen (default: the id).")
@click.option("--id", "device_id", default=None, help="Device id (default: a fresh d-xxxxxx).")
@click.option("--broker-host", required=True, envvar="HUB_BROKER_HOST", help="As terminals see it.")
@click.option("--broker-port", default=1883, type=int, envvar="HUB_BROKER_PORT", show_default=True)
@click.option(
    "--ca",
    "ca_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="CA certificate (PEM) of the broker; enables TLS.",
)
@click.option(
    "--client-cert",
    is_flag=True,
    help="Issue a client certificate from the CA in --broker-dir/tls (for `hub broker-config "
    "--require-client-cert`); implies TLS with that CA unless --ca is given.",
)
@click.option(
    "--hub-url",
    default=None,
    envvar="HUB_URL",
    help="Hub's HTTP address as terminals see it (member snapshot), e.g. http://hub.shop.lan:8080.",
)
@click.option(
    "--gateway-url",
    default=None,
    envvar="HUB_PAYMENT_GATEWAY_URL",
    help="Payment gateway for scanned WeChat/Alipay codes as terminals see it, e.g. "
    "http://pay.shop.lan:8765 (kiosk.toml [payments]); omit: cash and member payment only.",
)
@click.option(
    "--receipt-link-days",
    default=DEFAULT_DAYS,
    type=click.IntRange(1, 3650),
    show_default=True,
    help="Days the e-receipt link in the receipt's QR opens after the sale.",
)
@click.option("--timezone", default="Asia/Shanghai", show_default=True)
@click.option("--wifi-ssid", default=None)
@click.option("--wifi-psk", default=None, envvar="HUB_WIFI_PSK")
@click.option("--wifi-country", default="CN", show_default=True)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also copy the kiosk.toml here.",
)
@click.option(
    "--db",
    "db_url",
    default=DEFAULT_DB,
    envvar="HUB_DB",
    show_default=True,
    help="The hub's database: the new terminal's store's staff roster is sent from it.",
)
@click.option("--mqtt-host", default="127.0.0.1", show_default=True, help="The hub's own way to the broker.")
@click.option("--mqtt-port", default=1883, show_default=True, type=int)
@click.option("--mqtt-user", default=None, help="The hub's broker username.")
@click.option("--mqtt-password", default=None, envvar="HUB_MQTT_PASSWORD")
@click.option("--mqtt-ca-file", "ca_file_hub", default=None, help="CA the hub checks the broker with (TLS).")
@data_option
@broker_dir_option
@reload_option
def add(
    store: str,
    name: str,
    store_name: str | None,
    device_id: str | None,
    broker_host: str,
    broker_port: int,
    ca_file: Path | None,
    client_cert: bool,
    hub_url: str | None,
    gateway_url: str | None,
    receipt_link_days: int,
    timezone: str,
    wifi_ssid: str | None,
    wifi_psk: str | None,
    wifi_country: str,
    out: Path | None,
    db_url: str,
    mqtt_host: str,
    mqtt_port: int,
    mqtt_user: str | None,
    mqtt_password: str | None,
    ca_file_hub: str | None,
    data_dir: Path,
    broker_dir: Path,
    reload: bool,
) -> None:
    """Register a terminal, give it broker credentials, write its kiosk.toml, and send it its store's
    staff roster (retained: the terminal finds it when it first connects)."""
    if gateway_url is not None and not GATEWAY_URL.match(gateway_url):
        raise click.BadParameter(
            f"{gateway_url!r} is not an http(s)://host[:port][/path] address"
            f" / 不是 http(s)://主机[:端口][/路径] 形式的地址",
            param_hint="--gateway-url",
        )
    try:
        registry = DeviceRegistry(data_dir)
        record = registry.add(store, name, datetime.now(UTC), device_id)
        wifi = WifiConfig(ssid=wifi_ssid, psk=wifi_psk or "", country=wifi_country) if wifi_ssid else None
        password = new_password()
        tls_dir = broker_dir / "tls"
        if client_cert and ca_file is None:
            ca_file = tls_dir / "ca.pem"
        certificate = issue_client_cert(tls_dir, record.id, datetime.now(UTC)) if client_cert else None
        config = kiosk_config_for(
            record,
            encryption_key=business_key(data_dir),
            password=password,
            store_name=store_name or store,
            broker_host=broker_host,
            broker_port=broker_port,
            timezone=timezone,
            wifi=wifi,
            ca_pem=ca_file.read_text() if ca_file else None,
            client_cert=certificate,
            hub_url=hub_url,
            gateway_url=gateway_url,
            receipt_key=device_receipt_key_text(data_dir, record.id),
            receipt_link_days=receipt_link_days,
        )
        data = render(config)
    except FileNotFoundError as exc:
        raise click.ClickException(
            f"{exc.filename}: not found; run `hub broker-config` first"
            f" / 找不到 {exc.filename}，请先运行 hub broker-config"
        ) from exc
    except (RegistryError, ProvisionError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    issued = _issued_file(data_dir, record.id)
    issued.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    issued.write_bytes(data)
    os.chmod(issued, 0o600)
    if out is not None:
        out.write_bytes(data)
        os.chmod(out, 0o600)
    files = BrokerFiles(broker_dir)
    try:
        files.set_password(record.id, password)
        registry.save()
        files.write_acl(registry.active())
    except ProvisionError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"device {record.id} added; kiosk.toml: {issued} / 已添加终端 {record.id}")
    _reload_broker(reload)
    _send_roster(record.id, db_url, data_dir, mqtt_host, mqtt_port, mqtt_user, mqtt_password, ca_file_hub)


def _send_roster(
    device_id: str,
    db_url: str,
    data_dir: Path,
    host: str,
    port: int,
    user: str | None,
    password: str | None,
    ca: str | None,
) -> None:
    """The new terminal's store's staff roster, retained on its topic; what to do when it cannot go."""
    try:
        open_hub_database(db_url, create=False)
        count = roster_publisher(data_dir, host, port, user, password, ca, only=device_id)()
    except (HubDatabaseError, ConnectionError, OSError) as exc:
        click.echo(
            f"员工名单未发送：{exc}；hub serve 启动时会发送，或运行 hub staff publish"
            f" / staff roster not sent: {exc}; `hub serve` sends it at start, or run `hub staff publish`"
        )
        return
    if count:
        click.echo(f"员工名单已发送到终端 {device_id} / staff roster sent to {device_id}")


@device.command("list")
@data_option
def list_devices(data_dir: Path) -> None:
    """List terminals: id, store, name, state."""
    if not (data_dir / REGISTRY_FILE).exists():
        raise click.ClickException(
            f"no device registry in {data_dir}: no terminal added yet, or another --data-dir"
            f" / {data_dir} 中没有终端登记表"
        )
    for record in DeviceRegistry(data_dir).all():
        state = "active" if record.active else f"revoked {record.revoked_at}"
        click.echo(f"{record.id}\t{record.store}\t{record.name}\t{state}")


@device.command("receipt-key")
@click.argument("device_id")
@data_option
def receipt_key(device_id: str, data_dir: Path) -> None:
    """Print the [device] receipt_key line for a terminal provisioned before receipt keys."""
    try:
        record = DeviceRegistry(data_dir).get(device_id)
    except RegistryError as exc:
        raise click.ClickException(str(exc)) from exc
    if not record.active:
        raise click.ClickException(f"device {device_id} is revoked / 终端 {device_id} 已吊销")
    click.echo(
        f"# add under [device] in {device_id}'s /etc/kiosk/kiosk.toml, then restart kiosk.service\n"
        f"# 添加到终端 {device_id} 的 /etc/kiosk/kiosk.toml 的 [device] 段，然后重启 kiosk.service"
    )
    click.echo(f'receipt_key = "{device_receipt_key_text(data_dir, record.id)}"')


@device.command("revoke")
@click.argument("device_id")
@data_option
@broker_dir_option
@reload_option
def revoke(device_id: str, data_dir: Path, broker_dir: Path, reload: bool) -> None:
    """Stop DEVICE_ID from connecting: remove its broker login and ACL, delete its kiosk.toml."""
    try:
        registry = DeviceRegistry(data_dir)
        registry.revoke(device_id, datetime.now(UTC))
        files = BrokerFiles(broker_dir)
        files.remove_user(device_id)
        files.write_acl(registry.active())
        certificate = revoke_client_cert(broker_dir / "tls", device_id, datetime.now(UTC))  # read on reload
        registry.save()
    except (RegistryError, ProvisionError) as exc:
        raise click.ClickException(str(exc)) from exc
    _issued_file(data_dir, device_id).unlink(missing_ok=True)
    click.echo(f"device {device_id} revoked / 已吊销终端 {device_id}")
    if certificate:
        click.echo(f"client certificate listed in {broker_dir / 'tls/crl.pem'} / 客户端证书已列入吊销列表")
    _reload_broker(reload)


@device.command("write")
@click.argument("device_id", required=False)
@click.option(
    "--file",
    "toml_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A kiosk.toml to write instead of the one issued for DEVICE_ID.",
)
@click.option(
    "--image",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Terminal .img to write into (no root needed).",
)
@click.option(
    "--boot",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Mounted boot partition of the card.",
)
@data_option
def write(
    device_id: str | None, toml_file: Path | None, image: Path | None, boot: Path | None, data_dir: Path
) -> None:
    """Put a terminal's kiosk.toml onto an image (--image) or a mounted card (--boot)."""
    if (image is None) == (boot is None):
        raise click.UsageError("give exactly one of --image or --boot / 请指定 --image 或 --boot 之一")
    if (device_id is None) == (toml_file is None):
        raise click.UsageError("give DEVICE_ID or --file / 请指定终端编号或 --file")
    source = toml_file or _issued_file(data_dir, str(device_id))
    try:
        data = source.read_bytes()
        validate_text(data.decode("utf-8"), str(source))
        if image is not None:
            offset = write_to_image(image, data)
            where = f"{image} (boot partition at byte {offset})"
        else:
            assert boot is not None
            where = str(write_to_boot(boot, data))
    except FileNotFoundError as exc:
        raise click.ClickException(f"{source}: not found / 找不到文件 {source}") from exc
    except (ConfigError, ProvisionError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"kiosk.toml written to {where} / 已写入")
