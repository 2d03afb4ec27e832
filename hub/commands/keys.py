"""``hub keys rotate | status | retire``: replace the business key while the shop keeps selling.

How a rotation runs and what the owner does: docs/security.md, "Key rotation".
"""

import datetime as dt
import getpass
import time
from pathlib import Path

import click

from hub.accounts import audit as owner_audit
from hub.commands.device import data_option
from hub.db import DEFAULT_DB, transaction
from hub.db.schema import open_hub_database
from hub.members import business_keys, rotation
from hub.members.business_keys import KeyFileError
from hub.members.key_store import key_store_of

__all__ = ["keys"]

db_option = click.option(
    "--db", "db_url", default=DEFAULT_DB, show_default=True, help="sqlite:///path or postgresql://..."
)


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


@click.group("keys")
def keys() -> None:
    """The business key that encrypts members' personal data: rotate, see who uses which, retire the old."""


@keys.command("rotate")
@data_option
@db_option
@click.option("--batch", default=rotation.BATCH, show_default=True, help="Members per transaction.")
@click.option("--pause", default=0.05, show_default=True, help="Seconds between batches (the ingest's turn).")
def rotate(data_dir: Path, db_url: str, batch: int, pause: float) -> None:
    """Make a new business key and move every member's personal data to it, in batches.

    Sales go on meanwhile: the running hub reads the new key within a second, terminals get it with
    the member downlink, and data under the old key stays readable until `hub keys retire`.
    Run it again to finish a rotation that was interrupted.
    """
    if batch < 1:
        raise click.BadParameter("must be at least 1 / 至少为 1", param_hint="--batch")
    open_hub_database(db_url, create=False)
    try:
        old, new = business_keys.begin_rotation(data_dir)
    except KeyFileError as exc:
        raise click.ClickException(str(exc)) from exc
    now = dt.datetime.now(dt.UTC)
    with transaction():
        owner_audit.record(_actor(), "keys.rotate", f"key:{new}", now, previous=old)
    click.echo(
        f"新密钥 {new}（旧密钥 {old} 仍可读）/ new business key {new} (the previous, {old}, still read)"
    )
    ring = business_keys.load_ring(data_dir)
    assert ring is not None
    store = key_store_of(data_dir)
    if store is not None:  # members' data keys: re-wrapped, their personal data stays as it is
        ring = ring.with_data_keys(store.get)
    started = time.monotonic()
    progress, wrapped = rotation.Progress(), rotation.Progress()
    # a hub process that had not yet read the new key may book a registration under the old one:
    # a second pass a moment later moves (and re-wraps) those too
    for sweep in range(2):
        wrapped.after = progress.after = ""
        while store is not None and rotation.rewrap_batch(ring, store, wrapped, batch):
            time.sleep(pause)
        while rotation.move_batch(ring, progress, dt.datetime.now(dt.UTC), batch):
            time.sleep(pause)
        if sweep == 0:
            time.sleep(1.5)
    if store is not None:
        click.echo(
            f"已重新封装 {wrapped.moved} 个会员数据密钥 / re-wrapped {wrapped.moved} members' data keys"
        )
    took = time.monotonic() - started
    click.echo(
        f"已重新加密 {progress.moved} 位会员，合并重复 {progress.merged} 位，用时 {took:.1f} 秒"
        f" / re-encrypted {progress.moved} members, merged {progress.merged} duplicates, {took:.1f} s"
    )
    if progress.unreadable:
        click.echo(
            f"{len(progress.unreadable)} 位会员的数据无法用总部的密钥解密（例如 {progress.unreadable[0]}）"
            f" / {len(progress.unreadable)} members are under a key the hub does not hold"
            f" (e.g. {progress.unreadable[0]}): left as they are",
            err=True,
        )
    _print_status(data_dir)


@keys.command("status")
@data_option
@db_option
def status(data_dir: Path, db_url: str) -> None:
    """Which key is current, how many members are under each key, which key each terminal uses."""
    open_hub_database(db_url, create=False)
    _print_status(data_dir)


def _print_status(data_dir: Path) -> None:
    ring = business_keys.load_ring(data_dir)
    if ring is None:
        raise click.ClickException(f"no business key in {data_dir} / {data_dir} 中没有业务密钥")
    previous = ring.key_ids[1] if len(ring.key_ids) > 1 else None
    click.echo(f"current key / 当前密钥: {ring.key_id}")
    click.echo(f"previous key / 旧密钥: {previous or '-'}")
    for key_id, count in sorted(rotation.members_by_key().items()):
        click.echo(f"members under {key_id or '(before key ids)'}: {count} / 会员数")
    store = key_store_of(data_dir)
    for key_id, count in sorted((store.count_by_key() if store is not None else {}).items()):
        click.echo(f"members' data keys wrapped under {key_id}: {count} / 会员数据密钥数")
    for device, key_id in rotation.terminals_by_key().items():
        mark = "ok" if key_id == ring.key_id else "waiting / 等待中"
        click.echo(f"terminal {device}: {key_id or '(not reported)'} {mark}")


@keys.command("retire")
@data_option
@db_option
@click.option("--force", is_flag=True, help="Retire even though terminals have not reported the new key.")
def retire(data_dir: Path, db_url: str, force: bool) -> None:
    """Delete the previous key once every member and terminal is on the current one."""
    open_hub_database(db_url, create=False)
    ring = business_keys.load_ring(data_dir)
    if ring is None or len(ring.key_ids) < 2:
        raise click.ClickException("no rotation to finish: there is no previous key / 没有需要停用的旧密钥")
    store = key_store_of(data_dir)
    by_key = (store.count_by_key() if store is not None else {}).items()
    left = sum(n for key_id, n in [*rotation.members_by_key().items(), *by_key] if key_id != ring.key_id)
    if left:
        raise click.ClickException(
            f"{left} members are not yet under the current key: run `hub keys rotate` again"
            f" / 还有 {left} 位会员未迁移到新密钥，请再次运行 hub keys rotate"
        )
    behind = [d for d, k in rotation.terminals_by_key().items() if k != ring.key_id]
    if behind and not force:
        raise click.ClickException(
            f"terminals not yet on key {ring.key_id}: {', '.join(behind)}; they get it with the next member"
            f" update (or re-provision them), or use --force: they then cannot read new members until"
            f" re-provisioned / 以下终端尚未使用新密钥：{', '.join(behind)}"
        )
    previous = business_keys.retire_previous(data_dir)
    with transaction():
        owner_audit.record(_actor(), "keys.retire", f"key:{previous}", dt.datetime.now(dt.UTC), forced=behind)
    click.echo(f"旧密钥 {previous} 已删除 / previous key {previous} deleted")
