"""``kiosk config ...``: check a provisioning file before it goes onto a card."""

from __future__ import annotations

from pathlib import Path

import click

from kiosk.config import ConfigError, config_warnings, load_config

__all__ = ["config"]


@click.group()
def config() -> None:
    """Work with kiosk.toml, the terminal's provisioning file. / 终端配置文件 kiosk.toml。"""


def _validate_hw(table: dict[str, object], path: Path) -> None:
    """Check the [hw] table with the hardware layer's model (needs the kiosk extra: evdev)."""
    try:
        from kiosk.hw.config import HardwareConfigError, parse_hw_config
    except ImportError:
        click.echo(f"{path}: [hw] not checked here (kiosk.hw is not installed) / 未检查 [hw]", err=True)
        return
    try:
        parse_hw_config(table)
    except HardwareConfigError as exc:
        click.echo(f"{exc.message['en']}\n{exc.message['zh']}", err=True)
        click.echo(f"1 problem(s) in {path} / {path} 中有 1 处问题", err=True)
        raise SystemExit(1) from None


@config.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def validate(path: Path) -> None:
    """Check PATH; print OK or each problem with its line and fix (exit 1). / 校验配置文件。

    Warnings (a logo file that cannot be shown) are printed with their line and fix, but the
    file is still valid: the terminal runs without that part (exit 0).
    """
    try:
        loaded = load_config(path)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        count = len(exc.problems)
        click.echo(f"{count} problem(s) in {path} / {path} 中有 {count} 处问题", err=True)
        raise SystemExit(1) from None
    if loaded.hw is not None:
        _validate_hw(loaded.hw, path)
    for warning in config_warnings(loaded, path):
        click.echo(f"warning / 警告: {warning.render(str(path))}", err=True)
    click.echo(f"OK: {path} (store {loaded.store.id}, device {loaded.device.id}) / 配置有效")
