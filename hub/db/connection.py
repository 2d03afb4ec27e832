"""The hub's database: SQLite by default, PostgreSQL for chains, same models.

``database`` is a proxy bound at start by :func:`open_hub_database`.
"""

from peewee import Database, DatabaseProxy, SqliteDatabase

database = DatabaseProxy()

# where `hub serve` and every `hub` command keep the database unless told otherwise
# (absolute: four slashes; the unit's database, whatever the current directory)
DEFAULT_DB = "sqlite:////var/lib/hub/hub.db"

SQLITE_PRAGMAS = {
    # first: the pragmas after it wait for another process's write instead of failing "locked"
    # (two hubs starting at once: one migrates while the other connects)
    "busy_timeout": 10000,
    "journal_mode": "wal",
    "synchronous": "full",
    "foreign_keys": 1,
}


def transaction(db: Database | None = None):  # type: ignore[no-untyped-def]
    """A write transaction: IMMEDIATE on SQLite so two writers queue instead of failing."""
    target = db or database.obj
    if isinstance(target, SqliteDatabase):
        return target.atomic("IMMEDIATE")
    return target.atomic()
