"""The hub's numbered schema migrations, on SQLite and PostgreSQL alike.

Every hub process opens its database through :func:`hub.db.schema.open_hub_database`,
which runs the migrations not yet in ``schema_version``, in order:

- under one lock, so two hub processes starting at once never both apply one
  (SQLite: ``BEGIN IMMEDIATE``, waiting for the other writer; PostgreSQL: a
  transaction-scoped advisory lock); all pending migrations run in that one
  transaction, so a failing one leaves the database as it was;
- after a consistent backup (:mod:`hub.db.backup`) when the database already
  holds tables: a SQLite file beside the database, a ``pg_dump`` file in the
  backup directory, or a clear refusal (nothing changed) when ``pg_dump`` is missing.

Migration 1 is the schema the hub had before migrations existed, frozen as SQL
(``sql/0001_initial.<dialect>.sql``) so that "a database at the first schema" stays
exactly that. How to add one: docs/development.md, "Hub migrations".
"""

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from peewee import (
    CharField,
    Database,
    DateTimeField,
    Field,
    IntegerField,
    Model,
    OperationalError,
    SqliteDatabase,
    TextField,
)
from playhouse.migrate import SchemaMigrator, make_index_name, migrate

from hub.accounts.audit import chain_unchained
from hub.accounts.models import MODELS as ACCOUNT_MODELS
from hub.accounts.models import LoginFailure
from hub.campaigns.flash import FlashSale
from hub.catalog.models import ProductImage, StorePrice
from hub.db.backup import backup_database, backup_name
from hub.db.connection import database
from hub.jobs.models import MODELS as JOB_MODELS
from hub.members.models import CampaignMember, OwnerAudit
from hub.members.tag_rules import MODELS as TAG_RULE_MODELS
from hub.messaging.models import MODELS as MESSAGING_MODELS
from hub.messaging.templates import MODELS as TEMPLATE_MODELS
from hub.reports.money import MODELS as SETTLEMENT_MODELS
from hub.reports.ratings import MODELS as RATING_MODELS
from hub.reports.summary import (
    TOGETHER_DAY_MODELS,
    SalesHour,
    SalesPaymentDay,
    SalesProductDay,
    SalesProductMonth,
    SalesSkuDay,
    SalesSkuMonth,
)
from hub.reports.together import MODELS as TOGETHER_MODELS
from hub.reports.together_downlink import MODELS as TOGETHER_RELEASE_MODELS
from hub.staff.accounts import MODELS as STAFF_ACCOUNT_MODELS
from hub.staff.attendance import MODELS as ATTENDANCE_MODELS
from hub.staff.shifts import MODELS as SHIFT_MODELS
from hub.staff.shifts import X_MODELS as SHIFT_X_MODELS
from hub.stock.models import MODELS as STOCK_MODELS

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).parent / "sql"

# any fixed 64-bit number; every hub process agrees on it (PostgreSQL advisory lock key)
PG_LOCK_KEY = 0x48554244424D4947

# how long a hub process waits for another one that is migrating the same SQLite file
SQLITE_LOCK_WAIT_S = 600.0

Migration = Callable[[Database], None]


class SchemaVersion(Model):
    """One row per migration applied to this database."""

    number = IntegerField(primary_key=True)
    name = CharField()
    applied_at = CharField()  # UTC, ISO 8601

    class Meta:
        database = database
        table_name = "schema_version"


def add_index(db: Database, table: str, columns: tuple[str, ...], unique: bool = False) -> None:
    """Add an index named like peewee names a model's (``table_col1_col2``) unless it is there.

    A table created after migration 1 was created from its model, on a fresh database
    with today's indexes already: that is why every change skips what exists.
    """
    name = make_index_name(table, columns)
    if any(index.name == name for index in db.get_indexes(table)):
        return
    migrate(SchemaMigrator.from_database(db).add_index(table, columns, unique))


def add_column(db: Database, table: str, column: str, field: Field) -> None:
    """Add a column (a non-null one needs a default, written into existing rows) unless it is there."""
    if any(existing.name == column for existing in db.get_columns(table)):
        return
    migrate(SchemaMigrator.from_database(db).add_column(table, column, field))


def _0001_initial(db: Database) -> None:
    dialect = "sqlite" if isinstance(db, SqliteDatabase) else "postgresql"
    for line in (SQL_DIR / f"0001_initial.{dialect}.sql").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("--"):
            db.execute_sql(line.rstrip(";"))
    # the member feed's one counter row (hub.members.feed.MemberFeed)
    db.execute_sql(
        "INSERT INTO member_feed (id, version, published) SELECT 1, 0, 0"
        " WHERE NOT EXISTS (SELECT 1 FROM member_feed WHERE id = 1)"
    )


def _0002_report_summary(db: Database) -> None:
    # new tables: created from their models (hub serve fills them from the booked sales)
    db.create_tables([SalesHour, SalesProductDay, SalesPaymentDay], safe=True)


def _0003_jobs_and_messages(db: Database) -> None:
    # new tables: the job runner's claims, member messages, campaign target and holdout groups
    db.create_tables([*JOB_MODELS, *MESSAGING_MODELS, CampaignMember], safe=True)


def _0004_product_month(db: Database) -> None:
    # a new table, filled from the booked sales by hub serve (hub.reports.summary.ensure)
    db.create_tables([SalesProductMonth], safe=True)


def _0005_settlement_rules(db: Database) -> None:
    # a new table: every store is direct-run until the owner says otherwise
    db.create_tables(SETTLEMENT_MODELS, safe=True)


def _0006_message_email(db: Database) -> None:
    # the e-mail address a member gives with their marketing consent (encrypted), for the email channel
    add_column(db, "marketing_consent", "email_enc", TextField(default=""))


def _0007_accounts_and_audit_chain(db: Database) -> None:
    # new tables: dashboard accounts, sessions, API tokens; the owner's audit log becomes a hash
    # chain, and the rows already there are chained in their order, so `hub audit verify` covers them
    db.create_tables(ACCOUNT_MODELS, safe=True)
    add_column(db, "owner_audit", "prev", CharField(default=""))
    add_column(db, "owner_audit", "hash", CharField(default=""))
    with OwnerAudit.bind_ctx(db):
        chain_unchained()


def _0008_staff_accounts(db: Database) -> None:
    # new tables: staff accounts and the roster (version, permission matrix) sent to terminals
    db.create_tables(STAFF_ACCOUNT_MODELS, safe=True)


def _0009_shift_reports(db: Database) -> None:
    # new table: the terminals' Z reports (shift.closed events)
    db.create_tables(SHIFT_MODELS, safe=True)


def _0010_sku_day(db: Database) -> None:
    # a new table, filled from the booked sales by hub serve (hub.reports.summary.ensure)
    db.create_tables([SalesSkuDay], safe=True)


def _0011_close_after(db: Database) -> None:
    # a shift still open this many hours after it started is closed and flagged (default 12)
    add_column(db, "staff_roster", "close_after_h", IntegerField(default=12))


def _0012_stock(db: Database) -> None:
    # new tables: the stock ledger, its balances, documents and thresholds; stock starts at the
    # upgrade (sales booked before are not replayed: the owner's first stock-take sets the count)
    db.create_tables(STOCK_MODELS, safe=True)


def _0013_x_reports(db: Database) -> None:
    # new table: the terminals' X reports (shift.x_report events)
    db.create_tables(SHIFT_X_MODELS, safe=True)


def _0014_login_failures(db: Database) -> None:
    # new table: failed logins per client address, shared by every hub process
    db.create_tables([LoginFailure], safe=True)


def _0015_tag_rules(db: Database) -> None:
    # a new table: the owner's automatic behaviour-tag rules (hub.members.tag_rules)
    db.create_tables(TAG_RULE_MODELS, safe=True)


def _0016_attendance(db: Database) -> None:
    # new tables: schedules (late arrivals) and the hub's corrections of clockings
    db.create_tables(ATTENDANCE_MODELS, safe=True)


def _0017_key_ids(db: Database) -> None:
    # which business key each member's personal data is under ("": the key from before key ids),
    # and which one each terminal writes with: what a key rotation moves and waits for
    add_column(db, "hub_member", "key_id", CharField(default=""))
    add_column(db, "device_status", "key_id", CharField(default=""))


def _0018_receipt_ratings(db: Database) -> None:
    # a new table: the shoppers' e-receipt ratings (hub.reports.ratings)
    db.create_tables(RATING_MODELS, safe=True)


def _0019_flash_sales(db: Database) -> None:
    # new table: flash sales (秒杀) with their per-terminal shares
    db.create_tables([FlashSale], safe=True)


def _0020_resend_asked(db: Database) -> None:
    # the ranges the hub last asked a terminal to send again, and when (the fleet page shows them)
    add_column(db, "device_status", "resend_asked", CharField(default=""))
    add_column(db, "device_status", "resend_at", DateTimeField(null=True))


def _0021_sku_month(db: Database) -> None:
    # a new table, filled from the booked sales by hub serve (hub.reports.summary.ensure)
    db.create_tables([SalesSkuMonth], safe=True)


def _0022_store_prices(db: Database) -> None:
    # a store's own prices, and the ones each config release froze (empty for the releases before)
    db.create_tables([StorePrice], safe=True)
    add_column(db, "config_release", "store_prices", TextField(default="{}"))


def _0023_product_images(db: Database) -> None:
    # new table: one picture per product, shown on the dashboard
    db.create_tables([ProductImage], safe=True)


def _0024_bought_together(db: Database) -> None:
    # a new table: the "often bought together" rules (hub.reports.together), filled by its job
    db.create_tables(TOGETHER_MODELS, safe=True)


def _0025_sms_delivery(db: Database) -> None:
    # the gateway's delivery receipt on each SMS (hub.api.sms); messages sent before have none
    add_column(db, "member_message", "delivery", CharField(default=""))
    add_column(db, "member_message", "delivered_at", DateTimeField(null=True))


def _0026_together_releases(db: Database) -> None:
    # a new table: the versions of the "often bought together" table sent to the terminals
    db.create_tables(TOGETHER_RELEASE_MODELS, safe=True)


def _0027_campaign_stores(db: Database) -> None:
    # the stores a campaign may reach (a manager's campaign: their stores); campaigns before reach every store
    add_column(db, "campaign", "stores", CharField(default=""))


def _0028_together_day(db: Database) -> None:
    # a new summary table: the cart's suggestions shown and taken per store and day (sales before
    # it carried none, so it starts empty)
    db.create_tables(TOGETHER_DAY_MODELS, safe=True)


def _0029_staff_pin_tags(db: Database) -> None:
    # the roster's PIN lookup tag: one tag key per hub, a tag per account (kiosk.domain.staff.pin_tag);
    # accounts from before have none and are still found, by trying their hash like before
    add_column(db, "staff_roster", "pin_tag_key", CharField(default=""))
    add_column(db, "staff_account", "pin_tag", CharField(default=""))


def _0030_message_templates(db: Database) -> None:
    # the owner's message texts (hub.messaging.templates); each message says which version wrote it,
    # its English subject, and a member's consent the language they read messages in
    db.create_tables(TEMPLATE_MODELS, safe=True)
    add_column(db, "member_message", "subject_en", CharField(default=""))
    add_column(db, "member_message", "template_version", IntegerField(default=0))
    add_column(db, "marketing_consent", "lang", CharField(default="zh"))


def _0031_ledger_at(db: Database) -> None:
    # the sales API and the reports sum the ledger's entries of a range of days by their stamp
    # (hub.reports.queries): without the index each of them read every entry the hub ever booked
    add_index(db, "hub_ledger_entry", ("at",))


def _0032_store_templates(db: Database) -> None:
    # a store's own message texts (a manager's); the texts saved before are every store's
    add_column(db, "message_template", "store", CharField(default=""))


MIGRATIONS: list[tuple[int, str, Migration]] = [
    (1, "initial: the hub schema before migrations", _0001_initial),
    (2, "reports: summary rows (sales_hour, sales_product_day, sales_payment_day)", _0002_report_summary),
    (3, "jobs, member messages, campaign groups (target and holdout)", _0003_jobs_and_messages),
    (4, "reports: products per month (sales_product_month)", _0004_product_month),
    (5, "finance: the owner's cross-store settlement rules (settlement_store_rule)", _0005_settlement_rules),
    (6, "messages: the member's e-mail address beside the marketing consent", _0006_message_email),
    (
        7,
        "accounts, sessions, API tokens; the owner's audit log as a hash chain",
        _0007_accounts_and_audit_chain,
    ),
    (8, "staff accounts (PIN hashes, badges, stores) and the role permission matrix", _0008_staff_accounts),
    (9, "shift reports: the terminals' Z reports", _0009_shift_reports),
    (10, "reports: products per day for all stores (sales_sku_day)", _0010_sku_day),
    (11, "staff: the owner's rule for a forgotten clock-out (hours)", _0011_close_after),
    (12, "stock: ledger of movements, balances, documents, low-stock thresholds", _0012_stock),
    (13, "shift reports: the terminals' X reports (mid-shift figures)", _0013_x_reports),
    (
        14,
        "accounts: failed logins per client address (login_failure), shared by all hub processes",
        _0014_login_failures,
    ),
    (15, "members: automatic behaviour-tag rules (tag_rule)", _0015_tag_rules),
    (16, "staff: planned hours per weekday, clocking corrections with their reason", _0016_attendance),
    (17, "business key ids: of each member's personal data and of each terminal", _0017_key_ids),
    (18, "e-receipts: the shoppers' satisfaction ratings (receipt_rating)", _0018_receipt_ratings),
    (19, "campaigns: flash sales (秒杀) and their per-terminal shares", _0019_flash_sales),
    (20, "fleet: the ranges the hub last asked each terminal to resend, and when", _0020_resend_asked),
    (21, "reports: products per month for all stores (sales_sku_month)", _0021_sku_month),
    (22, "catalog: per-store prices, frozen with each config release", _0022_store_prices),
    (23, "catalog: product images", _0023_product_images),
    (24, "reports: often bought together (bought_together)", _0024_bought_together),
    (25, "messages: SMS delivery receipts (delivery, delivered_at)", _0025_sms_delivery),
    (26, "reports: versions of the bought-together table sent to terminals", _0026_together_releases),
    (27, "campaigns: the stores a campaign may reach (campaign.stores)", _0027_campaign_stores),
    (28, "reports: bought-together suggestions shown and taken per store and day", _0028_together_day),
    (29, "staff: PIN lookup tags (staff_roster.pin_tag_key, staff_account.pin_tag)", _0029_staff_pin_tags),
    (
        30,
        "messages: owner-edited templates (message_template), template version and language",
        _0030_message_templates,
    ),
    (31, "members: ledger entries found by their time stamp (index on hub_ledger_entry.at)", _0031_ledger_at),
    (32, "messages: a store's own message templates (message_template.store)", _0032_store_templates),
]


def applied(db: Database) -> dict[int, str]:
    """The migrations already applied to ``db``: number → name."""
    if not db.table_exists(SchemaVersion._meta.table_name):
        return {}
    with SchemaVersion.bind_ctx(db):
        return {row.number: row.name for row in SchemaVersion.select()}


def head() -> int:
    """The number of the newest migration this code knows."""
    return MIGRATIONS[-1][0]


def migrate_database(db: Database, backup_dir: Path | None = None, upto: int | None = None) -> list[str]:
    """Apply every pending migration (up to ``upto``); return ``"0002 name"`` for each applied.

    ``backup_dir``: where a PostgreSQL dump goes (a SQLite backup always goes beside
    its file). Raises :class:`hub.db.backup.BackupUnavailable` (nothing changed) when
    the database has tables and no backup could be taken.
    """
    last = head() if upto is None else upto
    with _migration_lock(db), SchemaVersion.bind_ctx(db):
        done = applied(db)
        pending = [m for m in MIGRATIONS if m[0] not in done and m[0] <= last]
        if not pending:
            return []
        if [t for t in db.get_tables() if t != SchemaVersion._meta.table_name]:
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
            name = backup_name(db, f"{pending[0][0]:04d}-{stamp}")
            where = Path(db.database).parent if isinstance(db, SqliteDatabase) else backup_dir
            if where is None:
                where = Path.cwd()
            backup_database(db, where / name)
        db.create_tables([SchemaVersion], safe=True)
        names = []
        for number, name, run in pending:
            run(db)
            SchemaVersion.create(number=number, name=name, applied_at=dt.datetime.now(dt.UTC).isoformat())
            names.append(f"{number:04d} {name}")
    for line in names:
        log.info("hub migration applied: %s / 已执行数据库迁移", line)
    return names


@contextmanager
def _migration_lock(db: Database) -> Iterator[None]:
    """One transaction that only one hub process at a time holds on this database."""
    with ExitStack() as stack:
        if isinstance(db, SqliteDatabase):
            _begin_immediate(db, stack)
        else:
            stack.enter_context(db.atomic())
            db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (PG_LOCK_KEY,))
        yield


def _begin_immediate(db: SqliteDatabase, stack: ExitStack) -> None:
    # busy_timeout waits 10 s at a time; a long migration in another process may take longer
    deadline = time.monotonic() + SQLITE_LOCK_WAIT_S
    while True:
        try:
            stack.enter_context(db.atomic("IMMEDIATE"))
            return
        except OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            log.info("another hub process is migrating %s: waiting / 另一进程正在迁移，等待中", db.database)
