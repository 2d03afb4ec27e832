"""``hub backup-key``, ``hub backup`` and ``hub restore``: the owner's sealed backups.

``hub serve`` takes one every night by itself (the ``backup`` job, 02:00); these commands
are the same thing by hand, and the way back. See the owner guide, "Backups".
"""

import datetime as dt
from pathlib import Path

import click
from peewee import OperationalError

from hub.accounts import audit as owner_audit
from hub.db import DEFAULT_DB
from hub.db.backup import BACKUP_PUBLIC_KEY, BackupUnavailable, restore_backup, restore_key_store, take_backup
from hub.db.schema import connect_hub_database, open_hub_database
from hub.db.sealing import SealError, load_private, make_keys
from hub.jobs import settings as job_settings
from hub.members.key_store import KEY_STORE_FILE, key_store_of

DB = click.option(
    "--db", "db_url", default=DEFAULT_DB, show_default=True, help="sqlite:///path or postgresql://..."
)
DATA = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("/var/lib/hub"),
    show_default=True,
    help=f"The hub's data directory: {BACKUP_PUBLIC_KEY}, member_keys.db and backups/ are there.",
)


@click.command("backup-key")
@click.option(
    "--private",
    "private_path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where the owner's private key goes: keep it OFF the hub (USB stick, password manager).",
)
@DATA
def backup_key(private_path: Path, data_dir: Path) -> None:
    """Make the owner's backup keys: the private one for you, the public one for the hub."""
    public = data_dir / BACKUP_PUBLIC_KEY
    try:
        make_keys(private_path, public)
    except (SealError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"private key {private_path}: keep it away from the hub; without it no backup opens")
    click.echo(f"私钥 {private_path}：请离开中心保存；没有它，任何备份都无法打开")
    click.echo(f"public key {public}: the hub seals its backups with it / 公钥：中心用它加密备份")


@click.command("backup")
@DB
@DATA
@click.option(
    "--keep", type=click.IntRange(min=0), default=None, help="Newest backups kept [default: backup_keep]."
)
def backup(db_url: str, data_dir: Path, keep: int | None) -> None:
    """Take a sealed backup now into <data dir>/backups and apply the retention rule."""
    try:
        db = open_hub_database(db_url)
        kept = job_settings.get_int("backup_keep") if keep is None else keep
        done = take_backup(
            db,
            data_dir / "backups",
            data_dir / BACKUP_PUBLIC_KEY,
            dt.datetime.now(),
            kept,
            key_store_of(data_dir),
        )
    except (BackupUnavailable, SealError, OSError, OperationalError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"backed up to {done.path} ({done.size} bytes); removed {len(done.removed)} old")
    click.echo(f"已备份到 {done.path}（{done.size} 字节）；删除旧备份 {len(done.removed)} 个")
    if done.keys is not None:
        click.echo(f"member key store sealed to {done.keys} / 会员密钥库已备份到 {done.keys}")
    newest = owner_audit.anchor()
    if newest is not None:  # sealed into the backup; worth keeping elsewhere (hub audit verify --anchor)
        click.echo(f"audit anchor / 审计锚点: {newest}")


@click.command("restore")
@click.argument("sealed", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--key", "private_key", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The owner's private backup key (from `hub backup-key`).")  # fmt: skip
@click.option(
    "--db", "db_url", required=True, help="An EMPTY hub database: sqlite:///path or postgresql://..."
)
@DATA
def restore(sealed: Path, private_key: Path, db_url: str, data_dir: Path) -> None:
    """Restore a sealed backup into an empty hub database; terminals then resend what it lacks.

    Members' data keys come from the live key store in the data directory when it exists (members
    erased since the backup stay unreadable), else from the newest key-store backup beside SEALED.
    """
    try:
        owner = load_private(private_key)  # before anything is created
        db = connect_hub_database(db_url)
        kind = restore_backup(sealed, owner, db)
        db.close()
        open_hub_database(db_url)  # a backup from an older hub is migrated now
    except (BackupUnavailable, SealError, OSError, OperationalError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"restored {sealed} into {db_url} ({kind}); start the hub: terminals resend the newer sales")
    click.echo("已恢复；启动中心后，各终端会补发备份之后的交易")
    try:
        click.echo(restore_key_store(sealed.parent, owner, data_dir / KEY_STORE_FILE))
    except (BackupUnavailable, SealError, OSError) as exc:  # the ledger is restored: say what is missing
        click.echo(str(exc), err=True)
