"""The hub's schema: every model of every part of the hub, and how a process opens the database.

:func:`open_hub_database` is how every process of the hub opens its database: it
connects and runs the pending migrations (:mod:`hub.db.migrations`).
"""

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from peewee import Database, DatabaseError, Model, OperationalError, SqliteDatabase
from playhouse.db_url import connect

from hub.accounts.models import MODELS as ACCOUNT_MODELS
from hub.campaigns.flash import MODELS as FLASH_MODELS
from hub.catalog.models import MODELS as CATALOG_MODELS
from hub.db.connection import SQLITE_PRAGMAS, database
from hub.db.migrations import migrate_database
from hub.fleet.presence import MODELS as FLEET_MODELS
from hub.fleet.releases import MODELS as APP_RELEASE_MODELS
from hub.ingest.models import ALL_MODELS
from hub.jobs.models import MODELS as JOB_MODELS
from hub.members.feed import MODELS as FEED_MODELS
from hub.members.models import LOYALTY_MODELS
from hub.members.tag_rules import MODELS as TAG_RULE_MODELS
from hub.messaging.models import MODELS as MESSAGING_MODELS
from hub.messaging.templates import MODELS as TEMPLATE_MODELS
from hub.reports.money import MODELS as SETTLEMENT_MODELS
from hub.reports.ratings import MODELS as RATING_MODELS
from hub.reports.summary import MODELS as REPORT_MODELS
from hub.reports.summary import TOGETHER_DAY_MODELS
from hub.reports.together import MODELS as TOGETHER_MODELS
from hub.reports.together_downlink import MODELS as TOGETHER_RELEASE_MODELS
from hub.rules.store import MODELS as RULES_MODELS
from hub.staff.accounts import MODELS as STAFF_ACCOUNT_MODELS
from hub.staff.attendance import MODELS as ATTENDANCE_MODELS
from hub.staff.hours import MODELS as STAFF_MODELS
from hub.staff.shifts import MODELS as SHIFT_MODELS
from hub.staff.shifts import X_MODELS as SHIFT_X_MODELS
from hub.stock.models import MODELS as STOCK_MODELS

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
    *STAFF_ACCOUNT_MODELS,
    *SHIFT_MODELS,
    *SHIFT_X_MODELS,
    *ATTENDANCE_MODELS,
    *RULES_MODELS,
    *REPORT_MODELS,
    *SETTLEMENT_MODELS,
    *JOB_MODELS,
    *MESSAGING_MODELS,
    *TEMPLATE_MODELS,
    *ACCOUNT_MODELS,
    *STOCK_MODELS,
    *TAG_RULE_MODELS,
    *RATING_MODELS,
    *TOGETHER_MODELS,
    *TOGETHER_RELEASE_MODELS,
    *TOGETHER_DAY_MODELS,
    *FLASH_MODELS,
]

# where a PostgreSQL hub's pre-migration dumps go unless HUB_BACKUP_DIR says otherwise
DEFAULT_BACKUP_DIR = Path("/var/lib/hub/backups")


class HubDatabaseError(Exception):
    """A ``--db`` the hub cannot use (bad URL, missing file, server not answering); zh/en message."""


def open_hub_database(url: str, backup_dir: Path | None = None, create: bool = True) -> Database:
    """Connect to ``url`` (``sqlite:///path`` or ``postgresql://...``), migrate, and return it.

    ``backup_dir``: where PostgreSQL's pre-migration dump goes (default ``$HUB_BACKUP_DIR``
    or ``/var/lib/hub/backups``); SQLite's backup always lies beside the database file.
    ``create=False`` (commands that only read): a missing SQLite file is an error, not a new database.
    """
    db = connect_hub_database(url, create)
    migrate_database(db, backup_dir or default_backup_dir())
    return db


def default_backup_dir() -> Path:
    """Where a PostgreSQL hub's pre-migration dumps go: ``$HUB_BACKUP_DIR`` or /var/lib/hub/backups."""
    return Path(os.environ.get("HUB_BACKUP_DIR", DEFAULT_BACKUP_DIR))


def connect_hub_database(url: str, create: bool = True) -> Database:
    """Connect to ``url`` and bind the hub's models to it, without migrating (``hub db-migrate``).

    Raises :class:`HubDatabaseError` with one clear line for a URL of another kind, a directory,
    a missing file when ``create`` is False, or a server that does not answer.
    """
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if path.is_dir():
            raise HubDatabaseError(
                f"--db {url}: {path} is a directory; name a file, e.g. sqlite:///{path}/hub.db"
                f" / {path} 是目录，请指定数据库文件"
            )
        if not create and not path.exists():
            raise HubDatabaseError(
                f"no hub database at {path}; start `hub serve` or run `hub db-migrate --db {url}` first"
                f" / {path} 没有 hub 数据库，请先运行 hub serve 或 hub db-migrate"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        db: Database = SqliteDatabase(str(path), pragmas=SQLITE_PRAGMAS)
    elif url.partition("://")[0] in ("postgresql", "postgres"):
        db = connect(url)
    else:
        raise HubDatabaseError(
            f"--db {_shown(url)}: use sqlite:////var/lib/hub/hub.db (four slashes: an absolute path) or"
            " postgresql://user@host/dbname / 数据库地址应为 sqlite:////绝对路径 或 postgresql://…"
        )
    database.initialize(db)
    try:
        db.connect(reuse_if_open=True)
    except (OperationalError, DatabaseError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise HubDatabaseError(
            f"cannot open the hub database {_shown(url)}: {reason} / 无法打开 hub 数据库"
        ) from exc
    return db


def _shown(url: str) -> str:
    # a PostgreSQL URL may carry a password: never print it
    parts = urlsplit(url)
    if parts.password:
        return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")))
    return url
