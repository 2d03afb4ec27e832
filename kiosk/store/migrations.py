"""Numbered migrations, run at start. Each runs once, in order, in its own transaction.

Before running any migration on a database that already has data, a copy of
the file is taken next to it (``kiosk.db.bak-<n>``), so a failed migration never
loses a pending outbox event.
"""

import datetime as dt
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

from peewee import SqliteDatabase

from kiosk.store import models
from kiosk.store.business_keys import BUSINESS_KEY_MODELS
from kiosk.store.member_models import MEMBER_MODELS
from kiosk.store.members.hub_copy import HUB_COPY_MODELS
from kiosk.store.pin_tries import PIN_TRIES_MODELS
from kiosk.store.staff import STAFF_MODELS
from kiosk.store.together import TOGETHER_MODELS

log = logging.getLogger(__name__)

Migration = Callable[[SqliteDatabase], None]


def _0001_initial(db: SqliteDatabase) -> None:
    db.create_tables(models.ALL_MODELS)


def _0002_members_ledger(db: SqliteDatabase) -> None:

    db.create_tables(MEMBER_MODELS)


def _0003_member_feed(db: SqliteDatabase) -> None:

    db.create_tables(HUB_COPY_MODELS)


def _0004_sync_config_device_status(db: SqliteDatabase) -> None:
    # sync_config used to be created by the sync agent when missing: keep a table (and the
    # release it holds) that an older agent already made.
    db.create_tables([models.AppliedConfig, models.DeviceStatus], safe=True)


def _0005_pin_tries(db: SqliteDatabase) -> None:

    db.create_tables(PIN_TRIES_MODELS)


def _0006_refunds(db: SqliteDatabase) -> None:
    db.create_tables(models.REFUND_MODELS)


def _0007_staff(db: SqliteDatabase) -> None:
    db.create_tables(STAFF_MODELS)


def _0008_wrapped_keys(db: SqliteDatabase) -> None:
    db.create_tables(BUSINESS_KEY_MODELS)


def _0009_together(db: SqliteDatabase) -> None:
    db.create_tables(TOGETHER_MODELS)
    # a line the shopper added from the cart's suggestion says so; a new database has it from 0001
    if "source" not in {c.name for c in db.get_columns("sale_line")}:
        db.execute_sql("ALTER TABLE sale_line ADD COLUMN source VARCHAR(255) NOT NULL DEFAULT ''")


def _0010_staff_pin_tags(db: SqliteDatabase) -> None:
    # the roster's PIN lookup tags (kiosk.domain.staff.pin_tag); a new database has them from 0007
    if "pin_tag" not in {c.name for c in db.get_columns("staff")}:
        db.execute_sql("ALTER TABLE staff ADD COLUMN pin_tag VARCHAR(255) NOT NULL DEFAULT ''")
    if "pin_tag_key" not in {c.name for c in db.get_columns("staff_roster")}:
        db.execute_sql("ALTER TABLE staff_roster ADD COLUMN pin_tag_key VARCHAR(255) NOT NULL DEFAULT ''")


def _0011_pin_tries_by_member(db: SqliteDatabase) -> None:
    # wrong PINs were kept under the phone's blind index, which a business-key rotation changes:
    # now under the member's id (a phone of no member keeps its index); 0005 made a new database's
    # table from the current model already
    if "phone_index" not in {c.name for c in db.get_columns("pin_tries")}:
        return
    rows = db.execute_sql(
        "SELECT COALESCE(m.id, p.phone_index), p.wrong, p.locked_until FROM pin_tries p"
        " LEFT JOIN member m ON m.phone_index = p.phone_index"
    ).fetchall()
    held: dict[str, tuple[int, float]] = {}
    for holder, wrong, until in rows:  # two indexes of one member (mid-rotation): the stricter count
        before = held.get(holder, (0, 0.0))
        held[holder] = (max(before[0], wrong), max(before[1], until))
    db.execute_sql("DROP TABLE pin_tries")
    db.create_tables(PIN_TRIES_MODELS)
    for holder, (wrong, until) in held.items():
        db.execute_sql(
            "INSERT INTO pin_tries (holder, wrong, locked_until) VALUES (?, ?, ?)", (holder, wrong, until)
        )


def _0012_data_keys(db: SqliteDatabase) -> None:
    # a database made by migration 2 after this change already has the column
    if "data_key" not in {column.name for column in db.get_columns("member")}:
        db.execute_sql("ALTER TABLE member ADD COLUMN data_key TEXT NOT NULL DEFAULT ''")


MIGRATIONS: list[tuple[int, str, Migration]] = [
    (1, "initial: catalog, sales, payments, outbox", _0001_initial),
    (2, "members, cards, ledger, coupons, count cards", _0002_members_ledger),
    (3, "member downlink: the member copy's version, per-member hub versions", _0003_member_feed),
    (4, "sync_config (running config release), device_status (printer)", _0004_sync_config_device_status),
    (5, "pin_tries: wrong member PINs per phone survive a restart", _0005_pin_tries),
    (6, "refunds: refund, refund_line, refund_payment", _0006_refunds),
    (
        7,
        "staff roster from the hub: staff (PIN hashes, badges, roles), staff_roster (version, permissions)",
        _0007_staff,
    ),
    (
        8,
        "wrapped_key: business keys received during a key rotation, sealed under another",
        _0008_wrapped_keys,
    ),
    (
        9,
        "often bought together: together_rule, together_table from the hub; sale_line.source",
        _0009_together,
    ),
    (10, "staff PIN lookup tags: staff.pin_tag, staff_roster.pin_tag_key", _0010_staff_pin_tags),
    (
        11,
        "pin_tries: wrong PINs under the member's id, which a business-key rotation keeps",
        _0011_pin_tries_by_member,
    ),
    (
        12,
        "member.data_key: each member's own data key, wrapped under the business key",
        _0012_data_keys,
    ),
]


def applied(db: SqliteDatabase) -> set[int]:
    """Numbers of the migrations already run on ``db``."""
    if not db.table_exists("schema_version"):
        return set()
    return {row.number for row in models.SchemaVersion.select()}


def migrate(db: SqliteDatabase) -> list[int]:
    """Run every pending migration; return the numbers that ran."""
    db.create_tables([models.SchemaVersion])
    done = applied(db)
    pending = [m for m in MIGRATIONS if m[0] not in done]
    if pending and done:
        _backup(db, pending[0][0])
    for number, name, run in pending:
        with db.atomic("IMMEDIATE"):
            # kiosk run and kiosk sync start together: the other may have run it a moment ago
            if models.SchemaVersion.get_or_none(models.SchemaVersion.number == number) is not None:
                continue
            run(db)
            models.SchemaVersion.create(
                number=number, name=name, applied_at=dt.datetime.now(dt.UTC).isoformat()
            )
        log.info("migration %04d applied: %s", number, name)
    return [m[0] for m in pending]


def _backup(db: SqliteDatabase, number: int) -> None:
    path = Path(db.database)
    if path.exists():
        db.execute_sql("PRAGMA wal_checkpoint(FULL)")
        shutil.copy2(path, path.with_name(f"{path.name}.bak-{number:04d}"))
