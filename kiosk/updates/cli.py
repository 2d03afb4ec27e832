"""``kiosk update ...``: install the version the hub offered, or show what runs (终端软件更新)."""

from __future__ import annotations

import logging
import shlex
import sys
from pathlib import Path

import click

from kiosk import __version__
from kiosk.updates.runner import (
    DEFAULT_CHECK,
    DEFAULT_RESTART,
    DEFAULT_RESTARTS_COMMAND,
    DEFAULT_UNITS,
    UPDATE_DIR,
    CommandRestarts,
    DownloadError,
    HealthCheck,
    UpdatePaths,
    Updater,
)
from kiosk.updates.venvs import DEFAULT_ROOT, Releases, site_packages

__all__ = ["update"]

HEALTH_FILES = ("/var/lib/kiosk/health/kiosk.json", "/var/lib/kiosk/health/sync.json")
EXIT_TEMPFAIL = 75  # sysexits EX_TEMPFAIL: the hub was not reachable, try again later


@click.group()
def update() -> None:
    """Software updates offered by the hub (A/B venvs, rollback). / 由 hub 下发的软件更新。"""


@update.command("apply")
@click.option("--dir", "update_dir", type=click.Path(path_type=Path), default=UPDATE_DIR, show_default=True)
@click.option("--venvs", type=click.Path(path_type=Path), default=DEFAULT_ROOT, show_default=True)
@click.option("--health-file", "health_files", multiple=True, default=HEALTH_FILES, show_default=True)
@click.option("--health-timeout", default=180.0, show_default=True, help="Seconds to report ready.")
@click.option("--settle", default=60.0, show_default=True, help="Seconds the new version must then stay up.")
@click.option("--restart", default=shlex.join(DEFAULT_RESTART), show_default=True)
@click.option("--check", default=shlex.join(DEFAULT_CHECK), show_default=True, help="Run in the new venv.")
@click.option("--unit", "units", multiple=True, default=DEFAULT_UNITS, show_default=True,
              help="Units whose restart count must not grow after the switch.")  # fmt: skip
@click.option(
    "--restarts-command",
    default=shlex.join(DEFAULT_RESTARTS_COMMAND),
    show_default=True,
    help="Prints a unit's restart count ({unit} is replaced); empty: do not count restarts.",
)
def apply(
    update_dir: Path,
    venvs: Path,
    health_files: tuple[str, ...],
    health_timeout: float,
    settle: float,
    restart: str,
    check: str,
    units: tuple[str, ...],
    restarts_command: str,
) -> None:
    """Install the offered version beside the running one, switch, and roll back if it is unhealthy.

    Exit 0: nothing to do, installed, or rolled back with the old version healthy again (the
    failure is reported to the hub); 1: refused, or the old version did not come back after the
    rollback; 75: the hub was not reachable.
    """

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    updater = Updater(
        UpdatePaths(update_dir),
        Releases(venvs),
        image_version=__version__,
        health=HealthCheck(
            tuple(Path(p) for p in health_files),
            timeout=health_timeout,
            settle=settle,
            units=units,
            restarts=CommandRestarts(tuple(shlex.split(restarts_command))) if restarts_command else None,
        ),
        restart=shlex.split(restart),
        check=shlex.split(check),
        base=site_packages(),
    )
    try:
        outcome = updater.apply()
    except DownloadError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_TEMPFAIL)
    if outcome is None:
        click.echo(f"nothing to do: running {updater.running_version()} / 无需更新")
        return
    if outcome.outcome == "installed":
        click.echo(f"installed {outcome.version} (was {outcome.from_version}) / 已更新到 {outcome.version}")
        return
    click.echo(f"{outcome.outcome} {outcome.version}: {outcome.reason}", err=True)
    status = updater.exit_status(outcome)
    if status == 0:  # rolled back and the old version runs again: reported to the hub, not a unit failure
        click.echo(f"running {updater.running_version()} again / 已回退到 {updater.running_version()}")
    sys.exit(status)


@update.command("status")
@click.option("--venvs", type=click.Path(path_type=Path), default=DEFAULT_ROOT, show_default=True)
def status(venvs: Path) -> None:
    """Which version runs, which is kept for a rollback, and what is installed."""

    releases = Releases(venvs)
    click.echo(f"current: {releases.current or f'image ({__version__})'}")
    click.echo(f"previous: {releases.previous or '-'}")
    click.echo(f"installed: {' '.join(releases.installed()) or '-'}")
