"""The outbox agent against a real Mosquitto: batching, backoff, ordering, status and last will."""

import itertools
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from kiosk import __version__
from kiosk.devtools.broker import MosquittoBroker
from kiosk.store import outbox
from kiosk.store.connection import database
from kiosk.sync.agent import AgentSettings, BrokerSettings, OutboxAgent
from kiosk.sync.schema import ack
from kiosk.sync.topics import ack_topic, events_topic, status_topic
from tests.sync.harness import kill9, sell, spawn, sync_agent_cmd, wait_until


class Tap:
    """A raw subscriber recording what the agent publishes (time, payload)."""

    def __init__(self, port: int, *topics: str) -> None:
        self.messages: list[tuple[float, str, dict[str, object]]] = []
        self.lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_message = self._record
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *_a: subscribed.set()
        self.client.subscribe([(t, 1) for t in topics])
        assert subscribed.wait(5)

    def _record(self, _c: object, _u: object, message: mqtt.MQTTMessage) -> None:
        body = json.loads(message.payload) if message.payload else {}
        with self.lock:
            self.messages.append((time.monotonic(), message.topic, body))

    def batches(self) -> list[list[int]]:
        """The sequence numbers of each uplink batch seen, in arrival order."""
        with self.lock:
            bodies = [m[2]["events"] for m in self.messages if m[1].endswith("/events")]
            return [[e["seq"] for e in events] for events in bodies]  # type: ignore[union-attr]

    def statuses(self) -> list[dict[str, object]]:
        with self.lock:
            return [m[2] for m in self.messages if m[1].endswith("/status")]

    def ack(self, device: str, ids: list[str]) -> None:
        self.client.publish(ack_topic(device), ack(ids), qos=1).wait_for_publish(5)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def tap(broker: MosquittoBroker) -> Iterator[Tap]:
    watcher = Tap(broker.port, events_topic("KA"), status_topic("KA"))
    yield watcher
    watcher.close()


def first_seq(body: dict[str, object]) -> int:
    events = body["events"]
    assert isinstance(events, list)
    return int(events[0]["seq"])


def connected_agent(port: int, **settings: float) -> OutboxAgent:
    agent = OutboxAgent("KA", BrokerSettings(port=port), AgentSettings(heartbeat_interval=3600, **settings))  # type: ignore[arg-type]
    agent.start()
    wait_until(agent._connected.is_set, what="agent connected")
    return agent


def test_a_full_batch_leaves_at_once_and_a_partial_one_after_the_linger(
    kiosk_db,
    broker: MosquittoBroker,
    tap: Tap,  # type: ignore[no-untyped-def]
) -> None:
    sell(7, device="KA")
    agent = connected_agent(broker.port, batch_size=5, batch_linger=0.5, resend_after=60)
    try:
        started = time.monotonic()
        assert agent.step() == 5  # N reached: no waiting
        assert agent.step() == 0  # 2 left: they wait for company ...
        wait_until(lambda: agent.step() == 2, what="linger expiry")
        assert time.monotonic() - started >= 0.5  # ... for T
        wait_until(lambda: len(tap.batches()) == 2, what="two batches at the tap")
    finally:
        agent.close()
    assert tap.batches() == [[1, 2, 3, 4, 5], [6, 7]]


def test_batches_stay_under_the_byte_limit_in_sequence_order(
    kiosk_db,
    broker: MosquittoBroker,
    tap: Tap,  # type: ignore[no-untyped-def]
) -> None:
    sell(10, device="KA")
    event_size = len(json.dumps(outbox.pending(1)[0]))
    agent = connected_agent(broker.port, batch_size=50, batch_linger=0, max_batch_bytes=3 * event_size + 400)
    try:
        assert agent.step() == 10
        wait_until(lambda: sum(map(len, tap.batches())) == 10, what="all events at the tap")
    finally:
        agent.close()
    assert tap.batches() == [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10]]


def test_unacked_events_are_resent_from_the_oldest_with_growing_patience(
    kiosk_db,
    broker: MosquittoBroker,
    tap: Tap,  # type: ignore[no-untyped-def]
) -> None:
    sell(3, device="KA")
    agent = connected_agent(broker.port, batch_size=2, batch_linger=0, resend_after=0.15, max_backoff=0.6)
    try:
        deadline = time.monotonic() + 2.6
        while time.monotonic() < deadline:  # no hub: nothing is ever acked
            agent.step()
            time.sleep(0.01)
        batches = tap.batches()
        assert batches[:2] == [[1, 2], [3]]
        assert all(b in ([1, 2], [3]) for b in batches)  # every resend restarts at the oldest
        firsts = [t for t, topic, body in tap.messages if topic.endswith("/events") and first_seq(body) == 1]
        gaps = [b - a for a, b in itertools.pairwise(firsts)]
        assert 0.14 <= gaps[0] <= 0.45 and 0.29 <= gaps[1] <= 0.8  # 0.15 s, then 0.3 s (+ jitter) ...
        assert all(0.59 <= g <= 1.0 for g in gaps[2:])  # ... capped at 0.6 s
        tap.ack("KA", [e["id"] for e in outbox.pending()])  # the hub answers at last
        wait_until(lambda: (agent.step(), outbox.depth())[1] == 0, what="ack applied")
    finally:
        agent.close()


def test_status_reports_health_and_the_last_will_says_offline(
    tmp_path: Path,
    kiosk_db,
    broker: MosquittoBroker,
    tap: Tap,  # type: ignore[no-untyped-def]
) -> None:
    sell(4, device="KA")
    database.close()
    db = tmp_path / "kiosk.db"
    # no hub listens: the 4 events stay unsent, and the status says so
    agent = spawn(sync_agent_cmd(db, broker.port, "KA", "--resend-after", "60"), tmp_path / "agent.log")
    try:
        wait_until(lambda: any(s.get("state") == "online" for s in tap.statuses()), what="online status")
        kill9(agent)  # no clean disconnect: the broker publishes the last will
        wait_until(lambda: tap.statuses()[-1].get("state") == "offline", what="last will")
    finally:
        kill9(agent)
    online = next(s for s in tap.statuses() if s.get("state") == "online")
    assert (online["device"], online["app_version"], online["config_version"]) == ("KA", __version__, 0)
    assert (online["outbox_depth"], online["printer"]) == (4, "unknown")
    assert isinstance(online["oldest_unsent_s"], float) and online["oldest_unsent_s"] >= 0
    assert isinstance(online["disk_free_bytes"], int) and online["disk_free_bytes"] > 0
    assert isinstance(online["uptime_s"], float) and online["uptime_s"] < 30
    assert tap.statuses()[-1] == {"v": 1, "device": "KA", "state": "offline"}
