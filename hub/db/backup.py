"""A consistent copy of the hub's database, taken while the hub may keep writing.

SQLite: the online backup API, page by page from one read snapshot, into a
single file (WAL folded in), openable as it is. PostgreSQL: ``pg_dump`` in its
custom format (one snapshot; restore with ``pg_restore``); without ``pg_dump`` on
PATH the hub refuses and says the command to run by hand. Migrations take one
before they change anything; ``hub backup`` is built on the same function.

The owner's backups (``hub backup``, the daily ``backup`` job) are that copy sealed for the
owner's key (:mod:`hub.db.sealing`), kept by a retention rule (:func:`prune_backups`), and
opened again only into an empty database (:func:`restore_backup`, ``hub restore``).
"""

import datetime as dt
import logging
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from peewee import Database, PostgresqlDatabase, SqliteDatabase

from hub.db import sealing
from hub.errors import HubError
from hub.members.key_store import MemberKeyStore

log = logging.getLogger(__name__)


class BackupUnavailable(HubError):
    """No backup could be taken; the message says why and what to run instead (zh/en)."""


def backup_database(db: Database, target: Path) -> Path:
    """Write a consistent copy of ``db`` to the file ``target`` and return it.

    ``target`` must not exist yet (a backup never overwrites another one). Raises
    :class:`BackupUnavailable` when it cannot be taken, with the command to run.
    """

    if target.exists():
        raise BackupUnavailable(f"{target} already exists: not overwritten / 备份文件已存在，不会覆盖")
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(db, SqliteDatabase):
        _sqlite_backup(db, target)
    elif isinstance(db, PostgresqlDatabase):
        _pg_dump(db, target)
    else:
        raise BackupUnavailable(f"no backup for {type(db).__name__} / 不支持备份此类数据库")
    log.info("database backed up to %s / 数据库已备份", target)
    return target


def backup_name(db: Database, label: str) -> str:
    """A backup file's name for ``db``: ``hub.db.bak-<label>`` or ``<dbname>.pgdump.bak-<label>``."""
    if isinstance(db, SqliteDatabase):
        return f"{Path(db.database).name}.bak-{label}"
    return f"{db.database}.pgdump.bak-{label}"


def _sqlite_backup(db: SqliteDatabase, target: Path) -> None:
    # a connection of its own: the caller's may sit in a write transaction (a migration holding
    # its lock), and a second reader sees exactly the committed state, WAL included
    source = sqlite3.connect(db.database, timeout=30)
    dest = sqlite3.connect(str(target))
    try:
        source.backup(dest)
    finally:
        dest.close()
        source.close()


def pg_dump_command(db: PostgresqlDatabase, target: Path) -> list[str]:
    """The ``pg_dump`` command line that writes ``db`` to ``target`` (password from PGPASSWORD)."""
    params = db.connect_params
    command = ["pg_dump", "--format=custom", f"--file={target}"]
    if params.get("host"):
        command.append(f"--host={params['host']}")
    if params.get("port"):
        command.append(f"--port={params['port']}")
    if params.get("user"):
        command.append(f"--username={params['user']}")
    return [*command, str(db.database)]


def _pg_dump(db: PostgresqlDatabase, target: Path) -> None:
    command = pg_dump_command(db, target)
    if shutil.which("pg_dump") is None:
        raise BackupUnavailable(
            "pg_dump is not installed, so no backup could be taken: nothing was changed. "
            f"Back the database up by hand, then run again: {' '.join(command)}"
            " / 未找到 pg_dump，无法备份，数据库未作任何改动。请先手动备份后重试：" + " ".join(command)
        )
    env = None
    if db.connect_params.get("password"):
        env = {**os.environ, "PGPASSWORD": str(db.connect_params["password"])}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        target.unlink(missing_ok=True)
        raise BackupUnavailable(
            f"pg_dump failed ({done.returncode}): {done.stderr.strip()}: nothing was changed"
            " / pg_dump 备份失败，数据库未作任何改动"
        )


# --- the owner's backups: sealed, kept by a rule, restorable into an empty hub -----------------

SEALED_SUFFIX = ".sealed"
BACKUP_PUBLIC_KEY = "backup.pub"  # the owner's public key, in the hub's data directory
KEEP_MONTHLY = 12  # besides the newest ``keep``: the first backup of each of the last 12 months
_SQLITE_MAGIC = b"SQLite format 3\x00"
_PGDUMP_MAGIC = b"PGDMP"


KEY_STORE_PREFIX = "member_keys-"  # the member key store's own sealed backups
KEY_STORE_KEEP = 2  # only the newest two: an erased member's key is gone from them two backups later


@dataclass(frozen=True)
class BackupTaken:
    """A sealed backup written, its size, and the older ones the retention rule removed; ``keys`` is
    the member key store's sealed backup taken with it (None: the hub has no key store)."""

    path: Path
    size: int
    removed: tuple[Path, ...]
    keys: Path | None = None


def take_backup(
    db: Database,
    folder: Path,
    public_key: Path,
    when: dt.datetime,
    keep: int,
    key_store: MemberKeyStore | None = None,
) -> BackupTaken:
    """Seal a consistent copy of ``db`` for the owner's ``public_key`` into ``folder``, then prune;
    with a ``key_store``, seal it too, into a file of its own (:data:`KEY_STORE_PREFIX`).

    The plain copy exists only in a private (0700) directory inside ``folder`` while it is
    sealed, and is deleted whatever happens. Raises :class:`BackupUnavailable` or
    :class:`hub.db.sealing.SealError` (nothing written) when it cannot be taken.
    """
    owner = sealing.load_public(public_key)
    kind = "db" if isinstance(db, SqliteDatabase) else "pgdump"
    target = folder / f"hub-{when:%Y%m%d-%H%M%S}.{kind}{SEALED_SUFFIX}"
    if target.exists():
        raise BackupUnavailable(f"{target} already exists: not overwritten / 备份文件已存在，不会覆盖")
    folder.mkdir(parents=True, exist_ok=True)
    keys = None
    with tempfile.TemporaryDirectory(dir=folder, prefix=".taking-") as private:
        plain = backup_database(db, Path(private) / f"plain.{kind}")
        _seal_file(plain, target, owner)
        if key_store is not None:
            key_store.copy_to(Path(private) / "keys.db")
            keys = folder / f"{KEY_STORE_PREFIX}{when:%Y%m%d-%H%M%S}.db{SEALED_SUFFIX}"
            _seal_file(Path(private) / "keys.db", keys, owner)
    removed = prune_backups(folder, keep)
    if keys is not None:
        found = sorted(folder.glob(f"{KEY_STORE_PREFIX}*{SEALED_SUFFIX}"), key=lambda p: p.name)
        for old in found[:-KEY_STORE_KEEP]:
            old.unlink()
            removed.append(old)
    return BackupTaken(target, target.stat().st_size, tuple(removed), keys)


def _seal_file(plain: Path, target: Path, owner: X25519PublicKey) -> None:
    partial = target.with_name(target.name + ".partial")
    with plain.open("rb") as source, partial.open("wb") as out:
        sealing.seal(source, out, owner)
        out.flush()
        os.fsync(out.fileno())
    partial.replace(target)  # a backup is either whole or absent


def restore_key_store(backups: Path, owner: X25519PrivateKey, live: Path) -> str:
    """Give a restored hub its members' data keys: the live key store ``live`` when it exists (an
    erasure since the backup stays an erasure), else the newest sealed key-store backup in
    ``backups``. Returns what was used, in both languages; BackupUnavailable when there is none."""
    if live.exists():
        return f"kept the live member key store {live} / 沿用现有的会员密钥库"
    found = sorted(backups.glob(f"{KEY_STORE_PREFIX}*{SEALED_SUFFIX}"), key=lambda p: p.name)
    if not found:
        raise BackupUnavailable(
            f"no member key store at {live} and no {KEY_STORE_PREFIX}*{SEALED_SUFFIX} in {backups}:"
            " members' personal data cannot be read (the ledger is whole)"
            " / 没有会员密钥库，会员个人信息无法读取（账目完整）"
        )
    live.parent.mkdir(parents=True, exist_ok=True)
    partial = live.with_name(live.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with found[-1].open("rb") as source, os.fdopen(fd, "wb") as out:
        sealing.unseal(source, out, owner)
    partial.replace(live)
    return f"member key store restored from {found[-1]} / 会员密钥库已从备份恢复"


def prune_backups(folder: Path, keep: int, monthly: int = KEEP_MONTHLY) -> list[Path]:
    """The retention rule: keep the newest ``keep`` sealed backups and the first one of each of
    the newest ``monthly`` calendar months; delete the rest and return them. ``keep`` 0 keeps all."""
    found = sorted(folder.glob(f"hub-*{SEALED_SUFFIX}"), key=lambda p: p.name)
    if not keep:
        return []
    kept = set(found[-keep:])
    firsts: dict[str, Path] = {}
    for path in found:
        firsts.setdefault(path.name[4:10], path)  # hub-YYYYMM...: the month's first backup
    kept.update(sorted(firsts.values(), key=lambda p: p.name)[-monthly:] if monthly else [])
    old = [path for path in found if path not in kept]
    for path in old:
        path.unlink()
    return old


def restore_backup(sealed: Path, owner: X25519PrivateKey, db: Database) -> str:
    """Open the owner's ``sealed`` backup with their key into the *empty* database ``db``.

    Returns the kind restored (``sqlite`` or ``postgresql``). Refuses (BackupUnavailable,
    nothing changed) when ``db`` already has tables, or when the backup is of the other kind.
    """
    if db.get_tables():
        raise BackupUnavailable(
            f"{db.database} already has tables: restore only into an empty hub database"
            " / 目标数据库不是空的：只能恢复到空的中心数据库"
        )
    holder = Path(db.database).parent if isinstance(db, SqliteDatabase) else None
    with tempfile.TemporaryDirectory(dir=holder, prefix=".restoring-") as private:
        plain = Path(private) / "plain"
        try:
            with sealed.open("rb") as source, plain.open("wb") as out:
                sealing.unseal(source, out, owner)
        except OSError as exc:
            raise BackupUnavailable(f"cannot read {sealed}: {exc.strerror} / 无法读取备份文件") from exc
        with plain.open("rb") as start:
            head = start.read(16)
        if isinstance(db, SqliteDatabase) and head.startswith(_SQLITE_MAGIC):
            _sqlite_restore(db, plain)
            return "sqlite"
        if isinstance(db, PostgresqlDatabase) and head.startswith(_PGDUMP_MAGIC):
            _pg_restore(db, plain)
            return "postgresql"
    made = "SQLite" if head.startswith(_SQLITE_MAGIC) else "PostgreSQL"
    raise BackupUnavailable(
        f"this backup was taken from a {made} hub: restore it into a {made} database"
        f" / 此备份来自 {made} 中心，请恢复到 {made} 数据库"
    )


def _sqlite_restore(db: SqliteDatabase, plain: Path) -> None:
    # through the backup API into the (empty) target: the target's open connections see it whole
    source = sqlite3.connect(str(plain))
    dest = sqlite3.connect(db.database, timeout=30)
    try:
        source.backup(dest)
    finally:
        dest.close()
        source.close()


def pg_restore_command(db: PostgresqlDatabase, dump: Path) -> list[str]:
    """The ``pg_restore`` command line that loads ``dump`` into ``db`` (password from PGPASSWORD)."""
    command = pg_dump_command(db, dump)
    options = command[3:-1]  # host, port, user as pg_dump had them
    return ["pg_restore", "--no-owner", "--exit-on-error", "--single-transaction", *options,
            f"--dbname={db.database}", str(dump)]  # fmt: skip


def _pg_restore(db: PostgresqlDatabase, dump: Path) -> None:
    command = pg_restore_command(db, dump)
    if shutil.which("pg_restore") is None:
        raise BackupUnavailable(
            "pg_restore is not installed (Debian: postgresql-client): nothing was changed"
            " / 未找到 pg_restore（Debian 软件包 postgresql-client），数据库未作任何改动"
        )
    env = None
    if db.connect_params.get("password"):
        env = {**os.environ, "PGPASSWORD": str(db.connect_params["password"])}
    db.close()  # pg_restore needs no session of ours holding locks on the empty database
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupUnavailable(
            f"pg_restore failed ({done.returncode}): {done.stderr.strip()}: nothing was restored"
            " / pg_restore 恢复失败，未恢复任何数据"
        )
