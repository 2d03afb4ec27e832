"""The hub's database: one connection (SQLite or PostgreSQL) shared by every part of the hub.

Opening it (and creating or migrating its tables) is :func:`hub.db.schema.open_hub_database`.
"""

from hub.db.connection import DEFAULT_DB, database, transaction

__all__ = ["DEFAULT_DB", "database", "transaction"]
