"""``hub audit verify [--anchor ID:HASH]`` and ``hub audit anchor``: check the owner's audit log (a hash
chain) from end to end, and against an anchor of its newest row kept outside the hub."""

import datetime as dt
from pathlib import Path

import click

from hub.accounts import audit as owner_audit
from hub.db import DEFAULT_DB
from hub.db.schema import open_hub_database

__all__ = ["audit"]


@click.group("audit")
def audit() -> None:
    """The owner's audit log: who changed prices, rules, campaigns, members, accounts, devices."""


DB = click.option(
    "--db", "db_url", default=DEFAULT_DB, show_default=True, help="sqlite:///path or postgresql://..."
)


@audit.command("anchor")
@DB
@click.option(
    "--append",
    "append_to",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also append a dated line to this file (on a USB stick or another machine: not on the hub).",
)
def anchor(db_url: str, append_to: Path | None) -> None:
    """Print the newest row's id and hash: keep it outside the hub for `hub audit verify --anchor`."""
    open_hub_database(db_url, create=False)
    newest = owner_audit.anchor()
    if newest is None:
        raise click.ClickException("审计日志为空 / the audit log is empty: nothing to anchor yet")
    click.echo(str(newest))
    if append_to is not None:
        try:
            with append_to.open("a", encoding="utf-8") as out:
                out.write(f"{dt.datetime.now(dt.UTC).isoformat(timespec='seconds')} {newest}\n")
        except OSError as exc:
            raise click.ClickException(
                f"无法写入 {append_to} / cannot write {append_to}: {exc.strerror}"
            ) from exc


@audit.command("verify")
@DB
@click.option(
    "--anchor",
    "anchor_text",
    default=None,
    help="An anchor `hub audit anchor` printed earlier (<row id>:<hash>): the log must still hold it.",
)
def verify(db_url: str, anchor_text: str | None) -> None:
    """Recompute every row's hash; exit 1 naming each row that was changed, removed or inserted.

    With --anchor, also exit 1 if the anchored row is gone or has another hash: the newest rows
    were removed or the log was rewritten from some row on (which a chain alone cannot show).
    """
    try:
        kept = owner_audit.parse_anchor(anchor_text) if anchor_text is not None else None
    except owner_audit.BadAnchor as exc:
        raise click.UsageError(str(exc)) from exc
    open_hub_database(db_url, create=False)
    count, breaks = owner_audit.verify()
    found = owner_audit.check_anchor(kept) if kept is not None else None
    breaks = [*breaks, found] if found is not None else breaks
    if not breaks:
        zh, en = f"审计日志完整：{count} 条", f"audit log intact: {count} rows"
        if kept is not None:
            zh, en = f"{zh}，锚点行 {kept.row} 仍在", f"{en}, anchor row {kept.row} still there"
        click.echo(f"{zh} / {en}")
        return
    for found in breaks:
        click.echo(f"row {found.row}: {found.reason}", err=True)
    raise click.ClickException(
        f"审计日志被改动：{len(breaks)} 处 / audit log broken in {len(breaks)} place(s) of {count} rows"
    )
