"""``hub jobs list | run NAME [--dry-run] | run-due | set KEY VALUE``: the scheduled jobs by hand."""

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from hub.db import DEFAULT_DB
from hub.db.schema import open_hub_database
from hub.jobs import catalog, runner
from hub.jobs import settings as job_settings
from hub.members.settings import configure_loyalty
from hub.rules import store as rules_store

DB = click.option(
    "--db", "db_url", default=DEFAULT_DB, show_default=True, help="sqlite:///path or postgresql://..."
)
TZ = click.option("--timezone", "tz_name", default="Asia/Shanghai", show_default=True)
DATA = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("/var/lib/hub"),
    show_default=True,
    help="The business key (birthdays) and the backups folder.",
)


def _open(db_url: str, data_dir: Path) -> None:
    open_hub_database(db_url)
    configure_loyalty(data_dir)
    rules_store.refresh()  # the owner's rules in force: expiry months, tiers


@click.group("jobs")
def jobs() -> None:
    """Scheduled jobs (expiry, reminders, tiers, campaigns, retention, backup); `hub serve` runs them too."""


@jobs.command("list")
@DB
@TZ
def list_jobs(db_url: str, tz_name: str) -> None:
    """Every job: when it runs, its last run (period, result) and the next run."""
    tz = ZoneInfo(tz_name)
    open_hub_database(db_url, create=False)
    for item in runner.status(catalog.all_jobs(), dt.datetime.now(tz), tz):
        last = item.last
        done = f"{last.period} {last.status}: {last.summary}" if last else "never run / 从未运行"
        click.echo(f"{item.job.name:<18} next {item.next_run:%Y-%m-%d %H:%M}  last {done}")


def _echo(outcome: runner.Outcome) -> None:
    click.echo(f"{outcome.job} {outcome.period} {outcome.status}: {outcome.summary}")
    if outcome.result is not None and outcome.status == "dry-run":
        for line in outcome.result.lines:
            click.echo(f"  {line}")


@jobs.command("run")
@click.argument("name")
@click.option("--dry-run", is_flag=True, help="Say what it would do; change nothing.")
@DB
@TZ
@DATA
def run(name: str, dry_run: bool, db_url: str, tz_name: str, data_dir: Path) -> None:
    """Run one job now for today's period (once: a period already run is not run again)."""
    try:
        job = catalog.job_named(name)
    except KeyError as exc:
        raise click.ClickException(str(exc.args[0])) from exc
    _open(db_url, data_dir)
    tz = ZoneInfo(tz_name)
    now = dt.datetime.now(tz)
    outcome = runner.run_job(job, runner.JobContext(now, tz, dry_run, data_dir), now.date().isoformat())
    _echo(outcome)
    if outcome.status == "taken":
        click.echo("already run for this period / 本周期已运行")
    if outcome.status == "failed":
        raise SystemExit(1)


@jobs.command("run-due")
@DB
@TZ
@DATA
def run_due(db_url: str, tz_name: str, data_dir: Path) -> None:
    """Run every job whose period is due and not yet done (for a systemd timer or cron)."""
    _open(db_url, data_dir)
    tz = ZoneInfo(tz_name)
    outcomes = runner.run_due(
        catalog.all_jobs(), runner.JobContext(dt.datetime.now(tz), tz, data_dir=data_dir)
    )
    for outcome in outcomes:
        _echo(outcome)
    if any(o.status == "failed" for o in outcomes):
        raise SystemExit(1)


@jobs.command("set")
@click.argument("key")
@click.argument("value")
@DB
def set_setting(key: str, value: str, db_url: str) -> None:
    """Set a job setting: retention_months (0 = never anonymise), backup_keep, together_min_support
    (percent), together_min_lift, together_per_item (what the terminals suggest from)."""
    open_hub_database(db_url)
    try:
        job_settings.put(key, value)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{key} = {value}")
