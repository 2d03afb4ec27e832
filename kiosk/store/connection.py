"""The terminal's SQLite handle, deferred: every table of the kiosk is bound to it.

:func:`kiosk.store.db.open_database` points it at a file and runs the migrations.
"""

from peewee import SqliteDatabase

__all__ = ["PRAGMAS", "database"]

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
