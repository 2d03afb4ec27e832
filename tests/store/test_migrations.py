"""Migration 4 on a database made before it: sync_config and device_status, nothing pending lost."""

import json
import sqlite3
from pathlib import Path

import pytest

from kiosk.domain.staff import DEFAULT_PERMISSIONS, hash_pin
from kiosk.store import migrations, staff
from kiosk.store.connection import database
from kiosk.store.db import open_database
from kiosk.store.member_models import Member
from kiosk.store.models import AppliedConfig, DeviceStatus, Outbox
from kiosk.store.pin_tries import PinTryRow, StoredPinLockout
from tests.store.test_member_account import KEY, join
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
        assert migrations.applied(db) == {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
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
        assert migrations.applied(db) == {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
        row = AppliedConfig.get()
        assert (row.id, row.version, row.applied_at) == (1, 7, "2026-11-24T09:00:00+08:00")
        from kiosk.sync import config

        assert config.running_version() == 7
    finally:
        db.close()


def test_migration_9_gives_an_old_terminal_s_sale_lines_a_source(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:8])
        open_database(path)
        sell(2)
        database.close()
    with sqlite3.connect(path) as conn:  # as the terminals' databases are: made before the column
        conn.execute("ALTER TABLE sale_line DROP COLUMN source")
    db = open_database(path)
    try:
        assert migrations.applied(db) == {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
        assert {"together_rule", "together_table"} <= set(db.get_tables())
        sell(1)
    finally:
        db.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("select source, count(*) from sale_line group by source").fetchall() == [("", 3)]


def test_migration_10_keeps_an_old_terminals_roster_and_its_pins_still_work(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.db"
    people = [
        {
            "id": "st-wang",
            "name": "王芳",
            "role": "attendant",
            "pin_hash": hash_pin("1357", b"salt-for-wang-01"),
        }
    ]
    permissions = {role: list(actions) for role, actions in DEFAULT_PERMISSIONS.items()}
    old_roster = {"version": 3, "store": "S01", "permissions": permissions, "staff": people}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:9])
        open_database(path)
        database.close()
    with sqlite3.connect(path) as conn:  # as the terminals' databases are: made before the tags
        conn.execute("ALTER TABLE staff DROP COLUMN pin_tag")
        conn.execute("ALTER TABLE staff_roster DROP COLUMN pin_tag_key")
        conn.execute(
            "INSERT INTO staff VALUES ('st-wang', '王芳', 'attendant', NULL, ?)", (people[0]["pin_hash"],)
        )
        conn.execute(
            "INSERT INTO staff_roster VALUES (1, 3, 'S01', ?, '2026-12-01T09:00:00+00:00')",
            (json.dumps(old_roster["permissions"]),),
        )
    db = open_database(path)
    try:
        assert migrations.applied(db) == {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
        candidates = staff.pin_candidates()
        assert (candidates.tag_key, [(p.id, tag) for p, _h, tag in candidates.people]) == (
            "",
            [("st-wang", "")],
        )
        found = staff.staff_for_pin("1357")
        assert found is not None and found.name == "王芳" and staff.roster_version() == 3
    finally:
        db.close()


def test_migration_11_moves_wrong_pins_kept_by_blind_index_to_their_member(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:10])
        open_database(path)
        member = join(phone="138 1234 1234")
        database.close()
    stranger = KEY.blind_index("+8613900000000")
    with sqlite3.connect(path) as conn:  # the table as terminals before migration 11 keep it
        conn.execute("DROP TABLE pin_tries")
        conn.execute(
            "CREATE TABLE pin_tries (phone_index VARCHAR(255) PRIMARY KEY, wrong INTEGER, locked_until REAL)"
        )
        conn.execute("INSERT INTO pin_tries VALUES (?, 3, 0), (?, 2, 0)", (member.phone_index, stranger))
    db = open_database(path)
    try:
        assert 11 in migrations.applied(db)
        rows = PinTryRow.select().order_by(PinTryRow.wrong)
        assert [(r.holder, r.wrong) for r in rows] == [(stranger, 2), (member.id, 3)]
        assert StoredPinLockout().wrong(member.id, 1_795_000_000.0) == 1  # the count goes on
    finally:
        db.close()


def test_members_registered_before_data_keys_gain_an_empty_data_key_column(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.db"
    open_database(path)
    Member.create(id="m-0", phone_index="ix", phone_enc="k:c", created_at="then")
    database.close()
    with sqlite3.connect(path) as conn:  # the member table as it was before migration 12
        conn.execute("ALTER TABLE member DROP COLUMN data_key")
        conn.execute("DELETE FROM schema_version WHERE number = 12")
    db = open_database(path)
    try:
        row = db.execute_sql("SELECT id, phone_enc, data_key FROM member").fetchall()
        assert row == [("m-0", "k:c", "")]
        assert 12 in migrations.applied(db)
    finally:
        db.close()
