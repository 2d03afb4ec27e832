"""Faults end to end: real Mosquitto, real SQLite, real processes killed with SIGKILL.

After every fault the hub's totals must equal what the terminal sold, to the
fen, with each event booked exactly once.
"""

import datetime as dt
import json
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from hub.db.schema import open_hub_database
from hub.fleet import presence as fleet
from hub.ingest.batch import MAX_MESSAGE_BYTES
from hub.ingest.models import Event, Gap, Quarantine
from hub.ingest.worker import HubIngestor
from hub.reports import queries as reports
from kiosk.devtools.broker import MosquittoBroker
from kiosk.store import outbox
from kiosk.store.connection import database
from kiosk.store.db import open_database
from kiosk.store.models import Outbox
from kiosk.store.models import Sale as KioskSale
from kiosk.sync.agent import AgentSettings
from kiosk.sync.schema import GENESIS, batch
from kiosk.sync.topics import ack_topic, events_topic
from tests.sync.harness import (
    TZ,
    AgentThread,
    hub_totals,
    hub_worker_cmd,
    kill9,
    kiosk_totals,
    kiosk_unsent,
    sell,
    spawn,
    stop,
    sync_agent_cmd,
    wait_until,
)


@pytest.fixture
def hub_url(tmp_path: Path) -> str:
    """A hub SQLite database, opened in this process for reading totals."""
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    open_hub_database(url)
    return url


@pytest.fixture
def hub_thread(hub_url: str) -> Iterator[Callable[[int], HubIngestor]]:
    """Start in-process ingest workers on a port; stopped at the end."""
    started: list[HubIngestor] = []

    def start(port: int) -> HubIngestor:
        ingestor = HubIngestor("127.0.0.1", port, TZ, worker=f"t{len(started)}")
        ingestor.start()
        started.append(ingestor)
        assert ingestor.connected.wait(10)
        return ingestor

    yield start
    for ingestor in started:
        ingestor.stop()


def assert_books_match() -> None:
    sales, fen = kiosk_totals()
    assert hub_totals() == (sales, fen, Outbox.select().count())
    assert kiosk_unsent() == 0


def test_kiosk_agent_killed_mid_publish_delivers_every_sale_once(
    tmp_path: Path,
    kiosk_db,
    own_broker: MosquittoBroker,
    hub_thread,  # type: ignore[no-untyped-def]
) -> None:
    own_broker.start()
    fen = sell(1000)
    hub_thread(own_broker.port)
    db = Path(database.database)
    cmd = sync_agent_cmd(db, own_broker.port, "K01", "--batch-size", "10", "--max-inflight", "1")
    agent = spawn(cmd, tmp_path / "agent.log")
    try:
        wait_until(lambda: hub_totals()[0] >= 100, what="first sales at the hub")
        kill9(agent)
        booked_at_kill = hub_totals()[0]
        assert 100 <= booked_at_kill < 1000  # killed in the middle of the stream
        agent = spawn(cmd, tmp_path / "agent.log")
        wait_until(lambda: kiosk_unsent() == 0, what="outbox drained after restart")
    finally:
        stop(agent)
    assert hub_totals() == (1000, fen, 1000)
    assert_books_match()
    assert all(not g.missing for g in fleet.open_gaps())


def test_broker_killed_and_restarted_while_sales_continue(
    kiosk_db,
    own_broker: MosquittoBroker,
    hub_thread,  # type: ignore[no-untyped-def]
) -> None:
    own_broker.start()
    hub_thread(own_broker.port)
    agent = AgentThread(own_broker.port)
    try:
        fen = sell(100)
        wait_until(lambda: hub_totals()[0] >= 50, what="sales flowing")
        own_broker.kill()
        fen += sell(100)  # the shop keeps selling while the broker is gone
        assert kiosk_unsent() >= 100
        own_broker.start()
        fen += sell(100)
        wait_until(lambda: kiosk_unsent() == 0, timeout=40, what="outbox drained after broker restart")
    finally:
        agent.close()
    assert hub_totals() == (300, fen, 300)
    assert_books_match()


def test_hub_killed_after_commit_before_ack_books_the_batch_once(
    tmp_path: Path,
    kiosk_db,
    own_broker: MosquittoBroker,
    hub_url: str,  # type: ignore[no-untyped-def]
) -> None:
    own_broker.start()
    fen = sell(400)
    log = tmp_path / "hub.log"
    hub = spawn(hub_worker_cmd(hub_url, own_broker.port, "crashy", "--crash-after-commits", "3"), log)
    agent = AgentThread(own_broker.port)
    try:
        assert hub.wait(timeout=30) == -9  # it committed batch 3 and died before acking it
        committed = hub_totals()[0]
        assert 0 < committed < 400
        hub = spawn(hub_worker_cmd(hub_url, own_broker.port, "crashy"), log)  # same session, restarted
        wait_until(lambda: kiosk_unsent() == 0, timeout=40, what="outbox drained after hub restart")
    finally:
        agent.close()
        stop(hub)
    assert hub_totals() == (400, fen, 400)
    assert_books_match()
    assert "fault injection: killed after commit 3" in log.read_text()


def test_two_workers_share_ingest_and_one_killed_mid_batch_loses_nothing(
    tmp_path: Path,
    kiosk_db,
    own_broker: MosquittoBroker,
    hub_url: str,  # type: ignore[no-untyped-def]
) -> None:
    own_broker.start()
    fen = sell(600)
    crash = ("--crash-after-commits", "4", "--session-expiry", "2")
    crashy = spawn(hub_worker_cmd(hub_url, own_broker.port, "w1", *crash), tmp_path / "w1.log")
    steady = spawn(hub_worker_cmd(hub_url, own_broker.port, "w2"), tmp_path / "w2.log")
    agent = AgentThread(own_broker.port)
    try:
        assert crashy.wait(timeout=30) == -9
        wait_until(lambda: kiosk_unsent() == 0, timeout=40, what="outbox drained by the surviving worker")
    finally:
        agent.close()
        stop(steady)
    assert hub_totals() == (600, fen, 600)
    assert_books_match()
    assert "hub ingest worker w2" in (tmp_path / "w2.log").read_text()


class AckListener:
    """A raw MQTT client replaying batches and collecting the hub's acks."""

    def __init__(self, port: int) -> None:
        self.acked: list[str] = []
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="replayer", protocol=mqtt.MQTTv5)
        self.client.on_message = lambda _c, _u, m: self.acked.extend(json.loads(m.payload)["ids"])
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.client.subscribe(ack_topic("K01"), qos=1)

    def publish(self, events: list[dict[str, object]]) -> None:
        self.client.publish(events_topic("K01"), batch("K01", events), qos=1).wait_for_publish(5)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def test_reordered_and_duplicated_batches_are_booked_once_and_gaps_close(
    kiosk_db,
    own_broker: MosquittoBroker,
    hub_thread,  # type: ignore[no-untyped-def]
) -> None:
    own_broker.start()
    fen = sell(60)
    events = outbox.pending(limit=100)
    hub_thread(own_broker.port)
    listener = AckListener(own_broker.port)
    try:
        chunks = [events[i : i + 10] for i in range(0, 60, 10)]
        for chunk in reversed(chunks):  # newest first: every batch but one arrives "early"
            listener.publish(chunk)
        for chunk in chunks:  # then everything again, in order
            listener.publish(chunk)
        wait_until(lambda: len(listener.acked) == 120, what="every delivery acked")
    finally:
        listener.close()
    assert sorted(set(listener.acked)) == sorted(e["id"] for e in events)
    assert hub_totals() == (60, fen, 60)
    gaps = fleet.open_gaps()
    assert [(g.expected, g.got) for g in gaps] == [(1, 51)]  # reported when seq 51 came first ...
    assert gaps[0].missing == []  # ... and closed by the late batches


def test_malformed_and_oversized_messages_amid_real_sales_are_quarantined_and_totals_hold(
    kiosk_db,
    own_broker: MosquittoBroker,
    hub_thread,  # type: ignore[no-untyped-def]
) -> None:
    own_broker.start()
    hub_thread(own_broker.port)
    fen = sell(3)
    agent = AgentThread(own_broker.port)
    listener = AckListener(own_broker.port)
    try:
        wait_until(lambda: kiosk_unsent() == 0, what="first sales delivered")
        garbled = b'{"v": 1, "device": "K01", "events": [{"id": '  # cut off mid-message
        events = outbox.pending(limit=1) or [json.loads(Outbox.get().body)]
        padded = dict(
            events[0], id=str(uuid.uuid4()), data={**events[0]["data"], "padding": "x" * MAX_MESSAGE_BYTES}
        )
        oversized = batch("K01", [padded])
        for payload in (garbled, oversized):
            listener.client.publish(events_topic("K01"), payload, qos=1).wait_for_publish(5)
        wait_until(lambda: Quarantine.select().count() == 2, what="both bad messages quarantined")
        fen += sell(2)  # the terminal keeps selling and the hub keeps booking
        wait_until(lambda: kiosk_unsent() == 0, what="later sales delivered")
    finally:
        listener.close()
        agent.close()
    assert hub_totals() == (5, fen, 5)
    assert_books_match()
    reasons = [q.reason for q in Quarantine.select().order_by(Quarantine.id)]
    assert reasons[0].startswith("not JSON")
    assert reasons[1] == f"message of {len(oversized)} bytes exceeds {MAX_MESSAGE_BYTES}"
    assert padded["id"] not in listener.acked  # the oversized message was not acked
    assert set(listener.acked) <= {row.id for row in Outbox.select()}  # only real sales were


@pytest.mark.parametrize(
    ("terminal_now", "skew_hours"),
    [
        (lambda real: real + dt.timedelta(hours=5), -5.0),
        (lambda real: real.replace(year=1970), None),
        (lambda real: real.replace(year=2099), None),
    ],
    ids=["5h-ahead", "1970", "2099"],
)
def test_terminal_clock_off_books_by_event_time_and_reports_the_skew(
    kiosk_db,
    own_broker: MosquittoBroker,
    hub_thread,
    terminal_now,
    skew_hours,  # type: ignore[no-untyped-def]
) -> None:
    def clock() -> dt.datetime:
        return terminal_now(dt.datetime.now(TZ))

    own_broker.start()
    when = clock()
    fen = sell(5, now=when)
    hub_thread(own_broker.port)
    agent = AgentThread(own_broker.port, clock=clock)
    try:
        wait_until(lambda: kiosk_unsent() == 0, what="sales delivered")
    finally:
        agent.close()
    day = reports.day_summary(when.date().isoformat())
    assert (day.sales, day.total_fen) == (5, fen)
    [row] = fleet.fleet(dt.datetime.now(dt.UTC))
    expected = (dt.datetime.now(TZ) - clock()).total_seconds()
    assert row.clock_skew_s is not None and abs(row.clock_skew_s - expected) < 30
    if skew_hours is not None:
        assert round(row.clock_skew_s / 3600) == skew_hours
    assert row.skewed is True


def _chain_is_whole() -> bool:
    prev = GENESIS
    for seq, (row_seq, row_prev, row_hash) in enumerate(
        Outbox.select(Outbox.seq, Outbox.prev, Outbox.hash).order_by(Outbox.seq).tuples(), start=1
    ):
        if row_seq != seq or row_prev != prev:
            return False
        prev = row_hash
    return True


def test_sales_committed_before_a_kill_9_are_in_the_outbox_and_delivered_once(
    tmp_path: Path,
    own_broker: MosquittoBroker,
    hub_thread,  # type: ignore[no-untyped-def]
) -> None:
    own_broker.start()
    db = tmp_path / "till.db"
    printed: list[str] = []
    for run in range(2):  # kill, restart the till on the same file, kill again
        with (tmp_path / f"till-{run}.out").open("wb") as out:
            till = subprocess.Popen(
                [*spawn_args(), str(db), "K01", "0"], cwd=Path(__file__).resolve().parents[2], stdout=out
            )
            out_path = tmp_path / f"till-{run}.out"
            wait_until(lambda p=out_path: p.read_text().count("\n") >= 150, what="sales committed")  # type: ignore[misc]
            kill9(till)
        printed += [line.split()[0] for line in out_path.read_text().splitlines() if line.strip()]
    open_database(db)
    try:
        assert database.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {s.id for s in KioskSale.select(KioskSale.id)}
        assert set(printed) <= stored  # every sale the till reported as committed survived
        events = {json.loads(o.body)["data"]["sale_id"] for o in Outbox.select(Outbox.body)}
        assert events == stored  # ... and each sale has exactly its one event, and no event lacks a sale
        assert Outbox.select().count() == len(stored)
        assert _chain_is_whole()
        hub_thread(own_broker.port)
        agent = AgentThread(own_broker.port)
        try:
            wait_until(lambda: kiosk_unsent() == 0, what="outbox drained")
        finally:
            agent.close()
        assert_books_match()
        assert Event.select().count() == len(stored) and Gap.select().count() == 0
    finally:
        database.close()


def spawn_args() -> list[str]:
    import sys

    return [sys.executable, "-m", "tests.sync.sell_loop"]


def test_kiosk_restored_from_an_old_backup_rechains_and_every_sale_is_booked_once(
    tmp_path: Path,
    own_broker: MosquittoBroker,
    hub_thread,  # type: ignore[no-untyped-def]
) -> None:
    own_broker.start()
    hub_thread(own_broker.port)
    db = tmp_path / "till.db"
    open_database(db)
    fen = sell(3)
    agent = AgentThread(own_broker.port)
    try:
        wait_until(lambda: kiosk_unsent() == 0, what="first sales delivered")
        database.execute_sql("PRAGMA wal_checkpoint(FULL)")
        shutil.copy(db, tmp_path / "backup.db")  # the owner's SD-card backup
        fen += sell(2)
        wait_until(lambda: hub_totals()[0] == 5, what="two more delivered")
    finally:
        agent.close()
    database.close()
    open_database(tmp_path / "backup.db")  # the card dies; the backup goes in
    try:
        fen += sell(4)  # numbered 4..7 again: the hub booked 4 and 5 from other sales
        agent = AgentThread(own_broker.port)
        try:
            wait_until(lambda: kiosk_unsent() == 0, what="re-chained sales delivered")
        finally:
            agent.close()
        assert hub_totals() == (9, fen, 9)  # 3 + 2 from before the restore + 4 after it, each once
        assert [e.seq for e in Event.select().order_by(Event.seq)] == list(range(1, 10))
        assert Quarantine.select().where(Quarantine.resolved_at.is_null()).count() == 0
        assert Quarantine.select().count() >= 1  # the fork was seen and is on record
        assert all(not g.missing for g in fleet.open_gaps())
    finally:
        database.close()


def test_a_day_offline_5000_sales_drain_exactly_once(
    kiosk_db,
    own_broker: MosquittoBroker,
    hub_thread,  # type: ignore[no-untyped-def]
) -> None:
    own_broker.start()
    fen = sell(5000)  # the network was down all day
    hub_thread(own_broker.port)
    agent = AgentThread(own_broker.port, settings=AgentSettings(batch_size=100, batch_linger=0.05))
    try:
        wait_until(lambda: kiosk_unsent() == 0, timeout=60, what="backlog drained")
    finally:
        agent.close()
    assert hub_totals() == (5000, fen, 5000)
    assert Gap.select().count() == 0
