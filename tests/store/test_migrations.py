"""Migration 4 on a database made before it: sync_config and device_status, nothing pending lost."""

import sqlite3
from pathlib import Path

import pytest

from kiosk.store import migrations
from kiosk.store.connection import database
from kiosk.store.db import open_database
from kiosk.store.member_models import Member
from kiosk.store.models import AppliedConfig, DeviceStatus, Outbox
from tests.sync.harness import sell


@pytest.fixture
def old_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A terminal database as migrations 1–3 left it, with 3 unsent sales."""
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:3])
    path = tmp_path / "kiosk.db"
    open_database(path)
    sell(3)
    database.close()
    monkeypatch.undo()
    return path


def test_an_old_database_gains_both_tables_and_keeps_its_unsent_events(old_database: Path) -> None:
    with sqlite3.connect(old_database) as conn:
        tables = {r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")}
    assert {"sync_config", "device_status"} & tables == set()
    db = open_database(old_database)
    try:
        assert migrations.applied(db) == {1, 2, 3, 4, 5, 6, 7, 8, 9}
        assert set(db.get_tables()) >= {
            "sync_config",
            "device_status",
            "pin_tries",
            "refund",
            "refund_line",
            "refund_payment",
            "wrapped_key",
            "staff",
            "staff_roster",
        }
        assert Outbox.select().where(Outbox.sent_at.is_null()).count() == 3
        assert (AppliedConfig.select().count(), DeviceStatus.select().count()) == (0, 0)
    finally:
        db.close()
    with sqlite3.connect(old_database.with_name("kiosk.db.bak-0004")) as backup:
        assert backup.execute("select number from schema_version").fetchall() == [(1,), (2,), (3,)]
        assert backup.execute("select count(*) from outbox where sent_at is null").fetchone() == (3,)


def test_a_sync_config_an_older_agent_created_keeps_its_release(old_database: Path) -> None:
    # before migration 4 the sync agent created sync_config itself when it applied a release
    with sqlite3.connect(old_database) as conn:
        conn.execute(
            "CREATE TABLE sync_config (id INTEGER NOT NULL PRIMARY KEY, version INTEGER NOT NULL,"
            " applied_at VARCHAR(255) NOT NULL, body TEXT NOT NULL)"
        )
        conn.execute("INSERT INTO sync_config VALUES (1, 7, '2026-11-24T09:00:00+08:00', '{}')")
    db = open_database(old_database)
    try:
        assert migrations.applied(db) == {1, 2, 3, 4, 5, 6, 7, 8, 9}
        row = AppliedConfig.get()
        assert (row.id, row.version, row.applied_at) == (1, 7, "2026-11-24T09:00:00+08:00")
        from kiosk.sync import config

        assert config.running_version() == 7
    finally:
        db.close()


def test_members_registered_before_data_keys_gain_an_empty_data_key_column(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.db"
    open_database(path)
    Member.create(id="m-0", phone_index="ix", phone_enc="k:c", created_at="then")
    database.close()
    with sqlite3.connect(path) as conn:  # the member table as it was before migration 9
        conn.execute("ALTER TABLE member DROP COLUMN data_key")
        conn.execute("DELETE FROM schema_version WHERE number = 9")
    db = open_database(path)
    try:
        row = db.execute_sql("SELECT id, phone_enc, data_key FROM member").fetchall()
        assert row == [("m-0", "k:c", "")]
        assert 9 in migrations.applied(db)
    finally:
        db.close()
