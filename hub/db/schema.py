"""The hub's schema: every model of every part of the hub, and how a process opens the database.

:func:`open_hub_database` is how every process of the hub opens its database: it
connects and runs the pending migrations (:mod:`hub.db.migrations`).
"""

import os
from pathlib import Path

from peewee import Database, Model, SqliteDatabase
from playhouse.db_url import connect

from hub.accounts.models import MODELS as ACCOUNT_MODELS
from hub.catalog.models import MODELS as CATALOG_MODELS
from hub.db.connection import SQLITE_PRAGMAS, database
from hub.db.migrations import migrate_database
from hub.fleet.presence import MODELS as FLEET_MODELS
from hub.fleet.releases import MODELS as APP_RELEASE_MODELS
from hub.ingest.models import ALL_MODELS
from hub.jobs.models import MODELS as JOB_MODELS
from hub.members.feed import MODELS as FEED_MODELS
from hub.members.models import LOYALTY_MODELS
from hub.messaging.models import MODELS as MESSAGING_MODELS
from hub.reports.money import MODELS as SETTLEMENT_MODELS
from hub.reports.summary import MODELS as REPORT_MODELS
from hub.rules.store import MODELS as RULES_MODELS
from hub.staff.hours import MODELS as STAFF_MODELS

# every table the hub's code reads or writes: the migrations must give a database exactly these
# (tests/hub/db/test_migrations.py compares them column by column and index by index)
MODELS: list[type[Model]] = [
    *ALL_MODELS,
    *LOYALTY_MODELS,
    *FLEET_MODELS,
    *CATALOG_MODELS,
    *FEED_MODELS,
    *APP_RELEASE_MODELS,
    *STAFF_MODELS,
    *RULES_MODELS,
    *REPORT_MODELS,
    *SETTLEMENT_MODELS,
    *JOB_MODELS,
    *MESSAGING_MODELS,
    *ACCOUNT_MODELS,
]

# where a PostgreSQL hub's pre-migration dumps go unless HUB_BACKUP_DIR says otherwise
DEFAULT_BACKUP_DIR = Path("/var/lib/hub/backups")


def open_hub_database(url: str, backup_dir: Path | None = None) -> Database:
    """Connect to ``url`` (``sqlite:///path`` or ``postgresql://...``), migrate, and return it.

    ``backup_dir``: where PostgreSQL's pre-migration dump goes (default ``$HUB_BACKUP_DIR``
    or ``/var/lib/hub/backups``); SQLite's backup always lies beside the database file.
    """
    db = connect_hub_database(url)
    migrate_database(db, backup_dir or default_backup_dir())
    return db


def default_backup_dir() -> Path:
    """Where a PostgreSQL hub's pre-migration dumps go: ``$HUB_BACKUP_DIR`` or /var/lib/hub/backups."""
    return Path(os.environ.get("HUB_BACKUP_DIR", DEFAULT_BACKUP_DIR))


def connect_hub_database(url: str) -> Database:
    """Connect to ``url`` and bind the hub's models to it, without migrating (``hub db-migrate``)."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        db: Database = SqliteDatabase(str(path), pragmas=SQLITE_PRAGMAS)
    else:
        db = connect(url)
    database.initialize(db)
    db.connect(reuse_if_open=True)
    return db
