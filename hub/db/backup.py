"""A consistent copy of the hub's database, taken while the hub may keep writing.

SQLite: the online backup API, page by page from one read snapshot, into a
single file (WAL folded in), openable as it is. PostgreSQL: ``pg_dump`` in its
custom format (one snapshot; restore with ``pg_restore``); without ``pg_dump`` on
PATH the hub refuses and says the command to run by hand. Migrations take one
before they change anything; ``hub backup`` is built on the same function.
"""

import logging
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from peewee import Database, PostgresqlDatabase, SqliteDatabase

from hub.errors import HubError

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
