"""``hub release ...``: add a version of the terminal software and offer it to terminals (软件版本)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from hub.catalog.releases import known_devices, publish_retained
from hub.commands.options import Broker, broker_options
from hub.db import DEFAULT_DB
from hub.db.schema import open_hub_database
from hub.fleet import releases as app_releases
from hub.fleet.devices import DeviceRegistry

__all__ = ["release"]

DATA_DIR = Path("/var/lib/hub")

_db = click.option(
    "--db", "db_url", default=DEFAULT_DB, show_default=True, help="sqlite:///path or postgresql://..."
)
_data = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DATA_DIR,
    show_default=True,
    help="The hub's data directory (the same as `hub serve --data-dir`); files go to releases/<version>/.",
)


@click.group()
def release() -> None:
    """Versions of the terminal software (终端软件版本): add, list, offer."""


@release.command("add")
@click.argument("source", type=click.Path(path_type=Path))
@_db
@_data
def release_add(source: Path, db_url: str, data_dir: Path) -> None:
    """Store SOURCE (member_kiosk-X.whl, or a directory of wheels holding one) as release X."""

    open_hub_database(db_url)
    try:
        added = app_releases.add_release(source, data_dir, dt.datetime.now(dt.UTC))
    except app_releases.ReleaseError as exc:
        raise click.ClickException(str(exc)) from exc
    for item in app_releases.release_files(added):
        click.echo(f"  {item['name']}  {item['size']} bytes  sha256 {item['sha256']}")
    click.echo(f"release {added.version} added / 已添加版本 {added.version}")


@release.command("list")
@_db
def release_list(db_url: str) -> None:
    """Every release, newest first, and which terminals run what."""

    open_hub_database(db_url)
    for item in app_releases.releases():
        files = app_releases.release_files(item)
        click.echo(f"{item.version}\t{len(files)} file(s)\t{files[0]['sha256'][:16]}…\t{item.added_at}")
    for row in app_releases.terminal_versions():
        outcome = f"{row.outcome} {row.outcome_version}".strip() or "-"
        running, offered = row.running or "?", row.offered or "-"
        click.echo(f"{row.device}\t{row.state}\trunning {running}\toffered {offered}\t{outcome}")


@release.command("offer")
@click.argument("version")
@click.option(
    "--base-url",
    required=True,
    help="The hub's web address as terminals reach it, e.g. http://hub.shop.lan:8080",
)
@click.option(
    "--device", "devices", multiple=True, help="Device id; default: every active registered device."
)
@_db
@_data
@broker_options
def release_offer(
    version: str,
    base_url: str,
    devices: tuple[str, ...],
    db_url: str,
    data_dir: Path,
    broker: Broker,
) -> None:
    """Offer release VERSION to terminals (retained on pos/{device}/down/update)."""

    open_hub_database(db_url)
    now = dt.datetime.now(dt.UTC)
    try:
        offer = app_releases.make_offer(version, base_url, now)
    except app_releases.ReleaseError as exc:
        raise click.ClickException(str(exc)) from exc
    targets = list(devices) or sorted(
        {d.id for d in DeviceRegistry(data_dir).active()} or set(known_devices())
    )
    if not targets:
        raise click.ClickException("no terminals to offer it to: add one with `hub device add` / 还没有终端")
    try:
        publish_retained(
            app_releases.offer_messages(offer, targets),
            broker.host,
            broker.port,
            broker.user,
            broker.password,
            broker.ca_file,
            client_id="hub-release-publisher",
        )
    except (ConnectionError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    app_releases.record_offer(version, targets, now)
    click.echo(f"release {version} offered to {len(targets)} terminal(s): {' '.join(targets)}")
