"""Hub schema migrations on SQLite and PostgreSQL: first schema to head, nothing lost, one lock."""

import datetime as dt
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from peewee import Database, SqliteDatabase, fn
from playhouse.db_url import connect

from hub.cli import main
from hub.db.backup import BackupUnavailable
from hub.db.connection import SQLITE_PRAGMAS, database
from hub.db.migrations import MIGRATIONS, SchemaVersion, applied, head, migrate_database
from hub.db.schema import MODELS, open_hub_database
from hub.ingest.models import Sale
from hub.members.models import HubLedgerEntry

ROWS = 3  # rows written into every table of the first schema


def _connect(url: str) -> Database:
    if url.startswith("sqlite:///"):
        db: Database = SqliteDatabase(url.removeprefix("sqlite:///"), pragmas=SQLITE_PRAGMAS)
    else:
        db = connect(url)
    database.initialize(db)
    db.connect(reuse_if_open=True)
    return db


# values that mean something to the code reading them after the migration (else: generic ones)
MEANINGFUL = {
    ("sale", "store"): lambda i: "S1",
    ("sale", "total_fen"): lambda i: 1000 * (i + 1),
    ("hub_ledger_entry", "member_id"): lambda i: "m1",
    ("hub_ledger_entry", "amount"): lambda i: 10 * (i + 1),
}


def _value(db: Database, table: str, column: Any, foreign: dict[str, str], i: int) -> Any:
    if (table, column.name) in MEANINGFUL:
        return MEANINGFUL[(table, column.name)](i)
    if column.name in foreign:  # the i-th row of the referenced table
        return f"{foreign[column.name]}.id.{i}"
    kind = column.data_type.lower()
    if "char" in kind or "text" in kind:
        return f"{table}.{column.name}.{i}"
    if "int" in kind or "serial" in kind:
        return 100 + i  # above member_feed's counter row (id 1), which migration 1 writes
    if "timestamp" in kind or "datetime" in kind:
        return dt.datetime(2026, 12, 1, 8, i)
    if "bool" in kind:
        return i % 2 == 0
    if "real" in kind or "double" in kind:
        return i + 0.5
    raise AssertionError(f"no test value for {table}.{column.name} ({kind}): add one")


def _fill(db: Database) -> None:
    """Write ROWS rows into every table (parents first), through SQL: no model of today involved."""
    tables = [t for t in db.get_tables() if t != "schema_version"]
    parents = {t: {fk.dest_table for fk in db.get_foreign_keys(t)} for t in tables}
    ordered: list[str] = []
    while len(ordered) < len(tables):
        ordered += [t for t in tables if t not in ordered and parents[t] <= {*ordered, t}]
    param = "?" if isinstance(db, SqliteDatabase) else "%s"
    for table in ordered:
        foreign = {fk.column: fk.dest_table for fk in db.get_foreign_keys(table)}
        columns = db.get_columns(table)
        names = ", ".join(f'"{c.name}"' for c in columns)
        for i in range(ROWS):
            values = [_value(db, table, c, foreign, i) for c in columns]
            db.execute_sql(
                f'INSERT INTO "{table}" ({names}) VALUES ({", ".join([param] * len(columns))})', values
            )


def _rows(db: Database, columns: dict[str, list[str]]) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    for table, names in columns.items():
        quoted = ", ".join(f'"{n}"' for n in names)
        out[table] = list(db.execute_sql(f'SELECT {quoted} FROM "{table}" ORDER BY {quoted}').fetchall())
    return out


def test_first_schema_to_head_keeps_every_row(hub_db_url: str, tmp_path: Path) -> None:
    db = _connect(hub_db_url)
    assert migrate_database(db, tmp_path, upto=1) == ["0001 initial: the hub schema before migrations"]
    _fill(db)
    first = {t: [c.name for c in db.get_columns(t)] for t in db.get_tables() if t != "schema_version"}
    before = _rows(db, first)
    assert sum(len(rows) for rows in before.values()) == ROWS * len(first) + 1  # + member_feed's row
    db.close()

    db = open_hub_database(hub_db_url, backup_dir=tmp_path)

    assert set(applied(db)) == {m[0] for m in MIGRATIONS}
    assert _rows(db, first) == before
    # today's models read the migrated rows: three sales of store S1, a member's ledger
    sales = Sale.select(fn.COUNT(Sale.id), fn.SUM(Sale.total_fen)).where(Sale.store == "S1")
    assert sales.scalar(as_tuple=True) == (3, 6000)
    balance = HubLedgerEntry.select(fn.SUM(HubLedgerEntry.amount)).where(HubLedgerEntry.member_id == "m1")
    assert balance.scalar() == 60
    # one backup, taken before migration 2, holding the first schema's rows
    where = Path(db.database).parent if isinstance(db, SqliteDatabase) else tmp_path
    (backup,) = where.glob("*.bak-0002-*")
    if isinstance(db, SqliteDatabase):
        with sqlite3.connect(backup) as copy:
            assert copy.execute("SELECT COUNT(*) FROM sale").fetchone() == (ROWS,)
            assert copy.execute("SELECT MAX(number) FROM schema_version").fetchone() == (1,)
    else:
        listing = subprocess.run(["pg_restore", "--list", str(backup)], capture_output=True, text=True)
        assert "TABLE DATA public sale " in listing.stdout


def _expected_indexes(model: Any) -> set[tuple[str, tuple[str, ...], bool]]:
    found = set()
    for index in model._meta.fields_to_index():
        columns = tuple(e.column_name for e in index._expressions)
        found.add((index._name, columns, bool(index._unique)))
    return found


def test_migrated_database_has_exactly_the_models_tables(hub_db: Database) -> None:
    """A model changed without a migration (or a migration without its model) fails here."""
    tables = {m._meta.table_name: m for m in MODELS}
    assert set(hub_db.get_tables()) == {*tables, "schema_version"}
    for name, model in tables.items():
        columns = {c.name: c.null for c in hub_db.get_columns(name)}
        assert columns == {f.column_name: f.null for f in model._meta.sorted_fields}, name
        indexes = {
            (ix.name, tuple(ix.columns), ix.unique)
            for ix in hub_db.get_indexes(name)
            if not ix.name.endswith("_pkey") and not ix.name.startswith("sqlite_autoindex")
        }
        assert indexes == _expected_indexes(model), name


def test_db_migrate_says_what_it_applied(tmp_path: Path) -> None:
    """On a hub database from before migrations: its tables as they are, then the rest."""
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    db = _connect(url)
    migrate_database(db, upto=1)
    _fill(db)
    db.execute_sql("DROP TABLE schema_version")
    db.close()
    runner = CliRunner()

    first = runner.invoke(main, ["db-migrate", "--db", url])
    again = runner.invoke(main, ["db-migrate", "--db", url])

    assert first.exit_code == 0, first.output
    assert first.output.splitlines() == [
        *(f"applied {n:04d} {name} / 已执行迁移" for n, name, _ in MIGRATIONS),
        f"hub database at schema {head()}: {url} / 数据库结构版本 {head()}",
    ]
    assert again.output.splitlines() == [f"already at {head()}: {url} / 数据库已是最新版本 {head()}"]
    assert len(list(tmp_path.glob("hub.db.bak-0001-*"))) == 1
    with sqlite3.connect(tmp_path / "hub.db") as migrated:
        assert migrated.execute("SELECT COUNT(*) FROM sale").fetchone() == (ROWS,)


# a hub process as far as migrating goes: it opens the database when told to go
_HUB_OPENING = """
import sys, time
from pathlib import Path
from hub.db.schema import open_hub_database
print("ready", flush=True)
while not Path(sys.argv[2]).exists():
    time.sleep(0.01)
open_hub_database(sys.argv[1])
"""


def test_two_hubs_starting_at_once_apply_each_migration_once(hub_db_url: str, tmp_path: Path) -> None:
    go = tmp_path / "go"
    command = [sys.executable, "-c", _HUB_OPENING, hub_db_url, str(go)]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    for run in runs:
        assert run.stdout is not None and run.stdout.readline() == "ready\n"
    go.touch()  # both imported: now they race for the database

    assert [run.wait(timeout=60) for run in runs] == [0, 0]
    db = _connect(hub_db_url)
    with SchemaVersion.bind_ctx(db):
        assert [(v.number, v.name) for v in SchemaVersion.select().order_by(SchemaVersion.number)] == [
            (n, name) for n, name, _ in MIGRATIONS
        ]


@pytest.mark.parametrize("hub_db_url", ["postgresql"], indirect=True)  # SQLite needs no tool
def test_postgresql_without_pg_dump_refuses_and_changes_nothing(
    hub_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _connect(hub_db_url)
    migrate_database(db, tmp_path, upto=1)
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump there

    with pytest.raises(BackupUnavailable) as refused:
        migrate_database(db, tmp_path)

    message = str(refused.value)
    assert "pg_dump --format=custom" in message and "请先手动备份后重试" in message
    assert db.database in message
    assert sorted(applied(db)) == [1]
    assert list(tmp_path.iterdir()) == []
