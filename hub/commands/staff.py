"""``hub staff add|list|disable|publish``: staff accounts, sent to the terminals of their stores.

``add`` and ``disable`` publish the rosters right away through the broker (retained on
``pos/{d}/down/staff``); when the broker cannot be reached the change is saved and
``hub staff publish`` sends it later.
"""

import datetime as dt
import getpass
from pathlib import Path

import click

from hub.commands.options import Broker, broker_options
from hub.db import DEFAULT_DB
from hub.db.schema import open_hub_database
from hub.staff import accounts, attendance
from hub.staff.downlink import roster_publisher
from kiosk.domain.staff import ROLES, StaffError

db_option = click.option("--db", "db_url", default=DEFAULT_DB, show_default=True)
data_option = click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("/var/lib/hub"),
    envvar="HUB_DATA",
    show_default=True,
    help="Hub data directory (the device registry says which store each terminal is in).",
)


@click.group()
def staff() -> None:
    """Staff accounts: names, roles, stores, badges and PINs (员工账号)."""


def _publish(data_dir: Path, broker: Broker) -> None:
    try:
        count = roster_publisher(
            data_dir, broker.host, broker.port, broker.user, broker.password, broker.ca_file
        )()
    except (ConnectionError, OSError) as exc:
        click.echo(f"已保存，但未能发送到终端 / saved, not yet sent to the terminals: {exc}")
        click.echo("稍后运行 hub staff publish / run hub staff publish later")
        return
    click.echo(f"员工名单已发送到 {count} 台终端 / staff roster sent to {count} terminals")


@staff.command("add")
@click.option("--name", required=True, help="The name shown at the terminal (张三).")
@click.option("--role", type=click.Choice(ROLES), default="attendant", show_default=True)
@click.option("--store", "stores", multiple=True, required=True, help="Store id; repeat for several.")
@click.option("--badge", default=None, help="The badge card's UID as the reader gives it.")
@click.option("--pin", default=None, help="4-8 digits; asked for (hidden) when left out.")
@db_option
@data_option
@broker_options
def add(
    name: str,
    role: str,
    stores: tuple[str, ...],
    badge: str | None,
    pin: str | None,
    db_url: str,
    data_dir: Path,
    broker: Broker,
) -> None:
    """Add a staff member; their PIN is stored only as a salted slow hash."""
    open_hub_database(db_url)
    if pin is None:
        pin = click.prompt("PIN (4-8 digits)", hide_input=True, confirmation_prompt=True)
    try:
        person = accounts.add_staff(
            name, role, list(stores), pin, dt.datetime.now(dt.UTC), by=f"cli:{getpass.getuser()}", badge=badge
        )
    except StaffError as exc:
        raise click.ClickException(f"{exc.zh} / {exc.en}") from exc
    click.echo(f"{person.id} {person.name} {person.role} {' '.join(person.stores)}")
    _publish(data_dir, broker)


@staff.command("list")
@click.option("--store", default=None, help="Only this store's staff.")
@db_option
def list_(store: str | None, db_url: str) -> None:
    """Every staff account: id, name, role, stores, badge, active."""
    open_hub_database(db_url)
    for person in accounts.list_staff(store):
        state = "" if person.active else "  已停用 disabled"
        badge = person.badge or "-"
        click.echo(f"{person.id}  {person.name}  {person.role}  {','.join(person.stores)}  {badge}{state}")


@staff.command("disable")
@click.argument("staff_id")
@db_option
@data_option
@broker_options
def disable(
    staff_id: str,
    db_url: str,
    data_dir: Path,
    broker: Broker,
) -> None:
    """Switch a staff account off: their PIN and badge stop working at every terminal."""
    open_hub_database(db_url)
    try:
        person = accounts.disable_staff(staff_id, dt.datetime.now(dt.UTC), by=f"cli:{getpass.getuser()}")
    except StaffError as exc:
        raise click.ClickException(f"{exc.zh} / {exc.en}") from exc
    click.echo(f"{person.id} {person.name}: 已停用 / disabled")
    _publish(data_dir, broker)


@staff.command("publish")
@db_option
@data_option
@broker_options
def publish(
    db_url: str,
    data_dir: Path,
    broker: Broker,
) -> None:
    """Send every terminal its store's staff roster (retained)."""
    open_hub_database(db_url)
    _publish(data_dir, broker)


@staff.command("rule")
@click.option("--close-after-hours", type=int, required=True, help="A shift still open this long is closed.")
@db_option
def rule(close_after_hours: int, db_url: str) -> None:
    """The forgotten clock-out rule: close and flag a shift still open after this many hours (1-24)."""
    open_hub_database(db_url)
    try:
        hours = accounts.set_close_after_hours(
            close_after_hours, dt.datetime.now(dt.UTC), f"cli:{getpass.getuser()}"
        )
    except StaffError as exc:
        raise click.ClickException(f"{exc.zh} / {exc.en}") from exc
    click.echo(f"忘记下班打卡：{hours} 小时后自动结束 / forgotten clock-out: closed after {hours} hours")


@staff.command("schedule")
@click.argument("staff_id")
@click.option("--day", type=click.Choice(attendance.WEEKDAYS), default=None, help="The weekday to plan.")
@click.option("--start", default="", help="Planned start, HH:MM (with --end; both left out: clear the day).")
@click.option("--end", default="", help="Planned end, HH:MM.")
@db_option
def schedule(staff_id: str, day: str | None, start: str, end: str, db_url: str) -> None:
    """A person's planned hours per weekday (late arrivals on Staff hours); without --day, show them."""
    open_hub_database(db_url)
    if day is not None:
        try:
            attendance.set_schedule(
                staff_id, attendance.WEEKDAYS.index(day), start, end, dt.datetime.now(dt.UTC),
                f"cli:{getpass.getuser()}",
            )  # fmt: skip
        except StaffError as exc:
            raise click.ClickException(f"{exc.zh} / {exc.en}") from exc
    plan = attendance.schedules().get(staff_id, {})
    for weekday, name in enumerate(attendance.WEEKDAYS):
        start_end = plan.get(weekday)
        click.echo(f"{name}  {start_end[0]}-{start_end[1]}" if start_end else f"{name}  -")
