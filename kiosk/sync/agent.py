"""The outbox agent (``kiosk sync``): publishes pending events, applies the hub's acks.

PUBACK is not an ack: paho's queue lives in memory only. An event is marked
sent when the hub's ack names it on ``pos/{device}/down/ack``. Until then the
agent re-publishes it every ``resend_after`` seconds; the hub dedupes by id.

All database work happens on the agent's own thread: paho's callbacks only put
acks on a queue.
"""

import datetime as dt
import json
import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from kiosk.store import outbox
from kiosk.sync import schema
from kiosk.sync.topics import ack_topic, events_topic, status_topic

log = logging.getLogger(__name__)

SESSION_EXPIRY_S = 7 * 24 * 3600


@dataclass(frozen=True)
class BrokerSettings:
    """Where the broker is and who we are to it."""

    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    keepalive: int = 30


@dataclass(frozen=True)
class AgentSettings:
    """Batching and retry behaviour of the outbox agent."""

    batch_size: int = 50
    poll_interval: float = 0.2
    resend_after: float = 5.0


class OutboxAgent:
    """Moves outbox events to the hub and acks back into the outbox."""

    def __init__(
        self,
        device: str,
        broker: BrokerSettings,
        settings: AgentSettings | None = None,
    ) -> None:
        self.device = device
        self.broker = broker
        self.settings = settings or AgentSettings()
        self._acks: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        self._inflight: dict[str, float] = {}
        self._connected = threading.Event()
        self._stop = threading.Event()
        self.client = self._make_client()

    def _make_client(self) -> mqtt.Client:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"kiosk-{self.device}",
            protocol=mqtt.MQTTv5,
        )
        if self.broker.username:
            client.username_pw_set(self.broker.username, self.broker.password)
        client.max_queued_messages_set(0)
        client.max_inflight_messages_set(100)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.will_set(status_topic(self.device), b'{"state":"offline"}', qos=1, retain=True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    # paho callbacks (network thread): no database work here
    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.warning("broker refused connection: %s", reason)
            return
        client.subscribe(ack_topic(self.device), qos=1)
        status = json.dumps({"state": "online", "device": self.device}).encode()
        client.publish(status_topic(self.device), status, qos=1, retain=True)
        self._inflight.clear()  # resend everything unacked after a reconnect
        self._connected.set()
        log.info("connected to broker %s:%s", self.broker.host, self.broker.port)

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self._connected.clear()
        log.warning("disconnected from broker: %s", reason)

    def _on_message(self, _c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        try:
            ack = json.loads(message.payload)
            if not isinstance(ack, dict) or ack.get("v") != schema.SCHEMA_VERSION:
                raise ValueError("not a version-1 ack")
        except ValueError as exc:
            log.error("ignored malformed ack on %s: %s", message.topic, exc)
            return
        self._acks.put(ack)

    # agent thread
    def start(self) -> None:
        """Connect in the background; the broker may be down, paho keeps retrying."""
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        self.client.connect_async(
            self.broker.host,
            self.broker.port,
            keepalive=self.broker.keepalive,
            clean_start=False,
            properties=props,
        )
        self.client.loop_start()

    def run(self, until: threading.Event | None = None) -> None:
        """Loop until ``until`` (or :meth:`stop`) is set."""
        until = until or self._stop
        self.start()
        try:
            while not until.is_set() and not self._stop.is_set():
                self.step()
                until.wait(self.settings.poll_interval)
        finally:
            self.close()

    def step(self) -> int:
        """Apply acks that arrived, then publish what is due; return events published."""
        self._apply_acks()
        if not self._connected.is_set():
            return 0
        now = time.monotonic()
        due = [
            event
            for event in outbox.pending(limit=self.settings.batch_size * 4)
            if now - self._inflight.get(event["id"], -1e9) >= self.settings.resend_after
        ][: self.settings.batch_size]
        if not due:
            return 0
        info = self.client.publish(events_topic(self.device), schema.batch(self.device, due), qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            log.warning("publish failed (rc=%s); will retry", info.rc)
            return 0
        for event in due:
            self._inflight[event["id"]] = now
        return len(due)

    def _apply_acks(self) -> None:
        while True:
            try:
                ack = self._acks.get_nowait()
            except queue.Empty:
                return
            ids = [i for i in ack.get("ids", []) if isinstance(i, str)]
            outbox.mark_acked(ids, dt.datetime.now(dt.UTC))
            rejected = {
                r["id"]: str(r.get("reason", ""))
                for r in ack.get("rejected", [])
                if isinstance(r, dict) and isinstance(r.get("id"), str)
            }
            if rejected:
                log.error("hub rejected %d events: %s", len(rejected), rejected)
                outbox.mark_rejected(rejected)
            for event_id in (*ids, *rejected):
                self._inflight.pop(event_id, None)

    def stop(self) -> None:
        """Ask :meth:`run` to return."""
        self._stop.set()

    def close(self) -> None:
        """Say ``offline`` (a clean disconnect sends no last will) and disconnect."""
        if self._connected.is_set():
            status = json.dumps({"state": "offline", "device": self.device}).encode()
            self.client.publish(status_topic(self.device), status, qos=1, retain=True).wait_for_publish(2)
        self.client.disconnect()
        self.client.loop_stop()
