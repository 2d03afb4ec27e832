"""The hub's database: SQLite by default, PostgreSQL for chains, same models.

``database`` is a proxy bound at start by :func:`open_hub_database`.
"""

from pathlib import Path

from peewee import Database, DatabaseProxy, SqliteDatabase
from playhouse.db_url import connect

database = DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "full",
    "foreign_keys": 1,
    "busy_timeout": 10000,
}


def open_hub_database(url: str) -> Database:
    """Connect to ``url`` (``sqlite:///path`` or ``postgresql://...``), migrate, and return it."""
    from hub.models import create_schema

    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        db: Database = SqliteDatabase(str(path), pragmas=SQLITE_PRAGMAS)
    else:
        db = connect(url)
    database.initialize(db)
    db.connect(reuse_if_open=True)
    create_schema(db)
    return db


def transaction(db: Database | None = None):  # type: ignore[no-untyped-def]
    """A write transaction: IMMEDIATE on SQLite so two writers queue instead of failing."""
    target = db or database.obj
    if isinstance(target, SqliteDatabase):
        return target.atomic("IMMEDIATE")
    return target.atomic()
