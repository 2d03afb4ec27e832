"""End to end over a real Mosquitto: outbox -> agent -> broker -> hub -> ack -> outbox."""

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from hub.db.schema import open_hub_database
from hub.ingest.models import Sale
from hub.ingest.worker import HubIngestor
from hub.reports import queries as reports
from kiosk.devtools.broker import MosquittoBroker
from kiosk.domain.cart import Cart, Product
from kiosk.store import outbox
from kiosk.store.connection import database
from kiosk.store.db import open_database
from kiosk.store.sales import PaymentIntent, Terminal, commit_sale
from kiosk.sync.agent import AgentSettings, BrokerSettings, OutboxAgent
from kiosk.sync.schema import batch
from kiosk.sync.topics import events_topic

TZ = ZoneInfo("Asia/Shanghai")
TERMINAL = Terminal(store="S01", device="K01", boot="boot-1")
NOW = dt.datetime.now(TZ)
TODAY = NOW.date().isoformat()
TEA = Product("T1", "6901010370005", "绿茶", "Green tea", 300)
FAST = AgentSettings(batch_size=20, poll_interval=0.05, resend_after=1.0)


def wait_until(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


class RunningAgent:
    def __init__(self, port: int) -> None:
        self.agent = OutboxAgent("K01", BrokerSettings(port=port), FAST)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.agent.run, args=(self.stop,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Callable[[int], HubIngestor]]:
    open_hub_database(f"sqlite:///{tmp_path / 'hub.db'}")
    started: list[HubIngestor] = []

    def start(port: int) -> HubIngestor:
        ingestor = HubIngestor("127.0.0.1", port, TZ, worker=str(len(started)))
        ingestor.start()
        started.append(ingestor)
        assert ingestor.connected.wait(10)
        return ingestor

    yield start
    for ingestor in started:
        ingestor.stop()


def sell(n: int) -> None:
    for _ in range(n):
        commit_sale(Cart().add(TEA, 2), [PaymentIntent("cash", 600)], TERMINAL, NOW)


def test_sale_reaches_hub_and_is_marked_sent_only_after_ack(kiosk_db, broker: MosquittoBroker, hub) -> None:  # type: ignore[no-untyped-def]
    sell(3)
    assert outbox.depth() == 3
    hub(broker.port)
    agent = RunningAgent(broker.port)
    try:
        wait_until(lambda: outbox.depth() == 0)
    finally:
        agent.close()
    summary = reports.day_summary(TODAY)
    assert (summary.sales, summary.total_fen) == (3, 1800)


def test_broker_down_at_start_keeps_selling_and_delivers_later(
    kiosk_db, own_broker: MosquittoBroker, hub
) -> None:  # type: ignore[no-untyped-def]
    agent = RunningAgent(own_broker.port)  # nothing listens on this port yet
    try:
        sell(2)
        time.sleep(0.5)
        assert outbox.depth() == 2  # waiting, not lost
        own_broker.start()
        hub(own_broker.port)
        wait_until(lambda: outbox.depth() == 0, timeout=40)  # paho retries with backoff
    finally:
        agent.close()
    assert reports.day_summary(TODAY).sales == 2


def test_outbox_survives_kiosk_restart_and_is_delivered(tmp_path: Path, broker: MosquittoBroker, hub) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "restart.db"
    open_database(path)
    sell(2)
    database.close()  # the kiosk process ends with the events unsent

    open_database(path)  # a new process opens the same file
    assert outbox.depth() == 2
    hub(broker.port)
    agent = RunningAgent(broker.port)
    try:
        wait_until(lambda: outbox.depth() == 0)
    finally:
        agent.close()
    assert Sale.select().count() == 2


def test_same_batch_published_twice_is_counted_once(kiosk_db, broker: MosquittoBroker, hub) -> None:  # type: ignore[no-untyped-def]
    sell(2)
    events = outbox.pending()
    hub(broker.port)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="replayer", protocol=mqtt.MQTTv5)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    try:
        for _ in range(3):
            client.publish(events_topic("K01"), batch("K01", events), qos=1).wait_for_publish(5)
        client.publish(events_topic("K01"), b"not json at all", qos=1).wait_for_publish(5)
        wait_until(lambda: reports.quarantine_count() == 1)
    finally:
        client.loop_stop()
        client.disconnect()
    summary = reports.day_summary(TODAY)
    assert (summary.sales, summary.total_fen) == (2, 1200)
