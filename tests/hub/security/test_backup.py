"""The owner's backups: sealed for the owner's key, kept by a rule, restored end to end.

Real pieces throughout: the hub database on SQLite and PostgreSQL (``pg_dump``/``pg_restore``),
a private Mosquitto, the hub's ingest worker and a terminal's sync agent on its own SQLite file.
"""

import contextlib
import datetime as dt
import io
from pathlib import Path

import pytest
from click.testing import CliRunner
from peewee import SqliteDatabase

from hub.cli import main as hub_cli
from hub.db.backup import BackupUnavailable, prune_backups, restore_backup, take_backup
from hub.db.schema import connect_hub_database, open_hub_database
from hub.db.sealing import CHUNK, MAGIC, SealError, load_private, load_public, make_keys, seal, unseal
from hub.fleet import presence as fleet
from hub.ingest.worker import HubIngestor
from kiosk.devtools.broker import MosquittoBroker
from kiosk.store.db import open_database
from tests.conftest import _postgres_database
from tests.sync.harness import TZ, AgentThread, hub_totals, kiosk_totals, kiosk_unsent, sell, wait_until

WHEN = dt.datetime(2026, 12, 7, 2, 0)


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    """The owner's key pair: (private, public)."""
    private, public = tmp_path / "owner" / "backup.key", tmp_path / "data" / "backup.pub"
    make_keys(private, public)
    return private, public


def started_ingest(port: int) -> HubIngestor:
    ingestor = HubIngestor("127.0.0.1", port, TZ, worker="backup-test")
    ingestor.start()
    assert ingestor.connected.wait(10)
    return ingestor


def test_restored_hub_gets_back_every_sale_from_the_terminal(  # type: ignore[no-untyped-def]
    hub_db, tmp_path: Path, own_broker: MosquittoBroker, keys: tuple[Path, Path]
) -> None:
    private, public = keys
    own_broker.start()
    open_database(tmp_path / "till.db")
    ingestor = started_ingest(own_broker.port)
    agent = AgentThread(own_broker.port)
    try:
        sell(3)
        wait_until(lambda: kiosk_unsent() == 0, what="first sales delivered")
        taken = take_backup(hub_db, tmp_path / "backups", public, WHEN, keep=7)
        sell(2)  # acked by the hub after the backup: the restored hub will lack them
        wait_until(lambda: kiosk_unsent() == 0 and hub_totals()[0] == 5, what="two more delivered")
    finally:
        agent.close()
        ingestor.stop()
    assert b"SQLite format" not in taken.path.read_bytes()[:4096]  # sealed, not a plain copy

    with contextlib.ExitStack() as stack:
        if isinstance(hub_db, SqliteDatabase):
            url = f"sqlite:///{tmp_path / 'restored' / 'hub.db'}"
        else:
            url = stack.enter_context(contextlib.contextmanager(_postgres_database)())
        restored = connect_hub_database(url)
        assert restore_backup(taken.path, load_private(private), restored) in ("sqlite", "postgresql")
        restored.close()
        open_hub_database(url)
        assert hub_totals() == (3, 3 * 600, 3)  # what the backup held

        ingestor = started_ingest(own_broker.port)
        agent = AgentThread(own_broker.port)
        try:
            sell(1)  # the next sale shows the restored hub the gap: the terminal resends 4 and 5
            wait_until(lambda: hub_totals()[0] == 6 and kiosk_unsent() == 0, what="restored hub caught up")
        finally:
            agent.close()
            ingestor.stop()
        sales, fen = kiosk_totals()
        assert (sales, fen) == (6, 3600)
        assert hub_totals() == (6, 3600, 6)
        assert [g.missing for g in fleet.open_gaps()] == [[]]  # the gap it saw is filled
        # the fleet page's row: what the restored hub asked the terminal for, now resent
        [row] = fleet.fleet(dt.datetime.now(dt.UTC))
        assert (row.resend_asked, row.open_gaps, row.resend_at is not None) == ("#4–#5", 0, True)


def test_a_sealed_backup_opens_only_with_the_owners_key_and_unchanged(tmp_path: Path, keys) -> None:  # type: ignore[no-untyped-def]
    private, public = keys
    plain = bytes(range(256)) * 9000  # over two chunks
    sealed = io.BytesIO()
    seal(io.BytesIO(plain), sealed, load_public(public))
    opened = io.BytesIO()
    unseal(io.BytesIO(sealed.getvalue()), opened, load_private(private))
    assert opened.getvalue() == plain

    other_private, other_public = tmp_path / "other.key", tmp_path / "other.pub"
    make_keys(other_private, other_public)
    data = sealed.getvalue()
    edited = data[:-5] + bytes([data[-5] ^ 1]) + data[-4:]
    last_chunk_dropped = data[: len(MAGIC) + 32 + 4 + CHUNK + 16]  # ends as if the first were the last
    for bad, key in [
        (data, other_private),
        (edited, private),
        (data[:-100], private),
        (last_chunk_dropped, private),
    ]:
        with pytest.raises(SealError):
            unseal(io.BytesIO(bad), io.BytesIO(), load_private(key))
    with pytest.raises(SealError, match="is not a backup private key"):
        load_private(public)
    with pytest.raises(SealError, match="already exists"):
        make_keys(private, tmp_path / "new.pub")
    assert private.stat().st_mode & 0o777 == 0o600


def test_retention_keeps_the_newest_and_the_first_of_each_month(tmp_path: Path) -> None:
    days = [dt.date(2026, 1, 1) + dt.timedelta(days=n) for n in range(0, 400, 5)]  # to 2027-01-31
    for day in days:
        (tmp_path / f"hub-{day:%Y%m%d}-020000.db.sealed").write_bytes(b"x")
    (tmp_path / "hub-20260101-0200.db").write_bytes(b"not ours")  # an older plain job copy stays
    removed = prune_backups(tmp_path, keep=3, monthly=4)
    kept = sorted(p.name for p in tmp_path.glob("hub-*.sealed"))
    assert kept == [
        "hub-20261003-020000.db.sealed",  # the first of each of the newest 4 months
        "hub-20261102-020000.db.sealed",
        "hub-20261202-020000.db.sealed",
        "hub-20270101-020000.db.sealed",
        "hub-20270121-020000.db.sealed",  # the newest 3
        "hub-20270126-020000.db.sealed",
        "hub-20270131-020000.db.sealed",
    ]
    assert len(removed) == 80 - 7
    assert (tmp_path / "hub-20260101-0200.db").exists()


def test_restore_refuses_a_hub_that_has_data(hub_db, tmp_path: Path, keys) -> None:  # type: ignore[no-untyped-def]
    private, public = keys
    taken = take_backup(hub_db, tmp_path / "backups", public, WHEN, keep=7)
    with pytest.raises(BackupUnavailable, match="restore only into an empty hub database"):
        restore_backup(taken.path, load_private(private), hub_db)


def test_backup_commands_say_what_is_wrong_without_a_traceback(tmp_path: Path) -> None:
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'hub.db'}"
    data = tmp_path / "data"
    no_key = runner.invoke(hub_cli, ["backup", "--db", db, "--data-dir", str(data)])
    assert (no_key.exit_code, no_key.exception.__class__) == (1, SystemExit)
    assert "Make one with `hub backup-key`" in no_key.output and "hub backup-key 生成" in no_key.output

    made = runner.invoke(
        hub_cli, ["backup-key", "--private", str(tmp_path / "owner.key"), "--data-dir", str(data)]
    )
    assert made.exit_code == 0, made.output
    taken = runner.invoke(hub_cli, ["backup", "--db", db, "--data-dir", str(data)])
    assert taken.exit_code == 0, taken.output
    [sealed] = (data / "backups").glob("hub-*.db.sealed")

    wrong_key = runner.invoke(hub_cli, ["restore", str(sealed), "--key", str(data / "backup.pub"),
                                        "--db", f"sqlite:///{tmp_path / 'new' / 'hub.db'}"])  # fmt: skip
    assert wrong_key.exit_code == 1 and "不是备份私钥" in wrong_key.output
    assert not (tmp_path / "new").exists()  # nothing created for a restore that cannot happen
    done = runner.invoke(hub_cli, ["restore", str(sealed), "--key", str(tmp_path / "owner.key"),
                                   "--db", f"sqlite:///{tmp_path / 'new' / 'hub.db'}"])  # fmt: skip
    assert done.exit_code == 0, done.output
    again = runner.invoke(hub_cli, ["restore", str(sealed), "--key", str(tmp_path / "owner.key"), "--db", db])
    assert again.exit_code == 1 and "只能恢复到空的中心数据库" in again.output
