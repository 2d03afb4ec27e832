"""The hub's schema: every table of every part of the hub, created on a new database.

:func:`open_hub_database` is how every process of the hub opens its database.
"""

from pathlib import Path

from peewee import Database, SqliteDatabase
from playhouse.db_url import connect

from hub.accounts.models import MODELS as ACCOUNT_MODELS
from hub.catalog.models import MODELS as CATALOG_MODELS
from hub.db.connection import SQLITE_PRAGMAS, database
from hub.fleet.presence import MODELS as FLEET_MODELS
from hub.fleet.releases import MODELS as APP_RELEASE_MODELS
from hub.ingest.models import ALL_MODELS
from hub.members.feed import create_feed_schema
from hub.members.models import create_loyalty_schema
from hub.rules.store import MODELS as RULES_MODELS
from hub.staff.hours import MODELS as STAFF_MODELS


def open_hub_database(url: str) -> Database:
    """Connect to ``url`` (``sqlite:///path`` or ``postgresql://...``), migrate, and return it."""

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


def create_schema(db: Database) -> None:
    """Create missing tables (the hub's migration 1)."""
    db.create_tables(ALL_MODELS, safe=True)
    create_loyalty_schema(db)
    db.create_tables([*FLEET_MODELS, *CATALOG_MODELS], safe=True)
    create_feed_schema(db)
    db.create_tables(APP_RELEASE_MODELS, safe=True)
    db.create_tables(STAFF_MODELS, safe=True)
    db.create_tables(RULES_MODELS, safe=True)
    db.create_tables(ACCOUNT_MODELS, safe=True)
