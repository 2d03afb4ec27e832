"""``kiosk config ...``: check a provisioning file before it goes onto a card."""

from __future__ import annotations

from pathlib import Path

import click

from kiosk.config import ConfigError, load_config

__all__ = ["config"]


@click.group()
def config() -> None:
    """Work with kiosk.toml, the terminal's provisioning file. / 终端配置文件 kiosk.toml。"""


@config.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def validate(path: Path) -> None:
    """Check PATH; print OK or each problem with its line and fix (exit 1). / 校验配置文件。"""
    try:
        loaded = load_config(path)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        count = len(exc.problems)
        click.echo(f"{count} problem(s) in {path} / {path} 中有 {count} 处问题", err=True)
        raise SystemExit(1) from None
    click.echo(f"OK: {path} (store {loaded.store.id}, device {loaded.device.id}) / 配置有效")
