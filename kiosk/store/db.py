"""The terminal's SQLite database: one deferred handle, opened with safe pragmas.

The kiosk app and the sync agent are two processes sharing this file; WAL lets
one write while the other reads, and busy_timeout makes a writer wait for the
other instead of failing.
"""

from pathlib import Path

from peewee import SqliteDatabase

PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "full",  # a committed sale survives power loss
    "foreign_keys": 1,
    "busy_timeout": 5000,
    # SQLite's page cache, per connection: 512 KiB instead of the default 2 MB. The OS caches the
    # file anyway; a smaller bound is reached within the first sales, so the kiosk's memory stops
    # growing early instead of creeping for ~600 sales (docs/perf.md, "Memory")
    "cache_size": -512,
}

database = SqliteDatabase(None)


def open_database(path: str | Path) -> SqliteDatabase:
    """Point the shared handle at ``path``, apply the pragmas, run pending migrations."""
    from kiosk.store.migrations import migrate

    if not database.is_closed():
        database.close()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    database.init(str(path), pragmas=PRAGMAS)
    database.connect(reuse_if_open=True)
    migrate(database)
    return database
