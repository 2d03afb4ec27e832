"""The terminal's SQLite database: one deferred handle, opened with safe pragmas.

The kiosk app and the sync agent are two processes sharing this file; WAL lets
one write while the other reads, and busy_timeout makes a writer wait for the
other instead of failing.
"""

from pathlib import Path

from peewee import SqliteDatabase

from kiosk.store.connection import PRAGMAS, database
from kiosk.store.migrations import migrate


def open_database(path: str | Path) -> SqliteDatabase:
    """Point the shared handle at ``path``, apply the pragmas, run pending migrations."""
    if not database.is_closed():
        database.close()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    database.init(str(path), pragmas=PRAGMAS)
    database.connect(reuse_if_open=True)
    migrate(database)
    return database
