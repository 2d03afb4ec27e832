"""The hub's MQTT side: subscribe to every terminal's uplink and status, ingest, ack after commit."""

import datetime as dt
import logging
import os
import signal
import threading
from typing import Any
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hub.fleet import broker_client
from hub.fleet import presence as fleet
from hub.ingest.batch import ingest_batch
from hub.members import downlink as member_downlink
from kiosk.sync import schema
from kiosk.sync.topics import EVENTS_WILDCARD, STATUS_WILDCARD, ack_topic, device_of

log = logging.getLogger(__name__)

SHARED_GROUP = "hub"
# Short on purpose: the broker keeps handing an offline worker's session its share of the
# shared subscription, so a crashed worker that stays away must lose its session soon.
# Nothing is lost with it: terminals resend every event until it is acked.
SESSION_EXPIRY_S = 60
DOWNLINK_POLL_S = 0.2  # how soon a member change (from any process) leaves for the terminals


class HubIngestor:
    """One ingest worker. Several share the load through ``$share/hub/pos/+/up/events``.

    paho sends the PUBACK for a batch only after :meth:`_on_message` returns, i.e.
    after the database commit: a worker killed mid-batch leaves the batch with
    the broker, which delivers it again (to this worker's session or another one).
    """

    def __init__(
        self,
        host: str,
        port: int,
        tz: ZoneInfo,
        worker: str = "1",
        username: str | None = None,
        password: str | None = None,
        ca_file: str | None = None,
        crash_after_commits: int | None = None,
        session_expiry: int = SESSION_EXPIRY_S,
        member_downlink: bool = True,
    ) -> None:
        self.host, self.port, self.tz = host, port, tz
        # fault injection for tests: die by SIGKILL after this many commits, before their ack
        self.crash_after_commits = crash_after_commits
        self.session_expiry = session_expiry
        self.member_downlink = member_downlink
        self._halt = threading.Event()
        self._downlink_thread: threading.Thread | None = None
        self.connected = threading.Event()
        self.batches = 0
        self.broker = broker_client.hub_broker(host, port, username, password, ca_file)
        self.client = broker_client.session_client(self.broker, f"hub-ingest-{worker}")
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    def start(self) -> None:
        """Connect with a persistent session and start paho's network thread."""
        broker_client.start_session(self.client, self.broker, self.session_expiry)
        if self.member_downlink:
            self._downlink_thread = threading.Thread(target=self._downlink_loop, daemon=True)
            self._downlink_thread.start()

    def _downlink_loop(self) -> None:
        """Send member deltas while connected (every 0.2 s at most; the check is one query)."""
        while not self._halt.wait(DOWNLINK_POLL_S):
            if not self.connected.is_set():
                continue
            try:
                member_downlink.publish_due(self._publish_member_delta)
            except Exception:
                log.exception("member downlink failed; retrying")
                self._halt.wait(5.0)

    def _publish_member_delta(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1)

    def stop(self) -> None:
        """Disconnect, ending the session (no batches stranded with it), and stop the network thread."""
        self._halt.set()
        if self._downlink_thread is not None:
            self._downlink_thread.join(timeout=10)
        props = Properties(PacketTypes.DISCONNECT)
        props.SessionExpiryInterval = 0
        self.client.disconnect(properties=props)
        self.client.loop_stop()

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if broker_client.refused(reason, self.broker):
            return
        client.subscribe([(f"$share/{SHARED_GROUP}/{EVENTS_WILDCARD}", 1), (STATUS_WILDCARD, 1)])
        log.info("hub ingest connected to %s:%s", self.host, self.port)

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self.connected.clear()
        broker_client.dropped(reason, self.broker)

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _mid: int, codes: list[Any], _p: Any) -> None:
        # ``connected`` means "batches reach us": set only once the broker confirmed the subscriptions
        if all(not code.is_failure for code in codes):
            self.connected.set()
        else:
            log.error("broker refused the hub's subscriptions: %s", [str(c) for c in codes])

    def _on_message(self, client: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        now = dt.datetime.now(dt.UTC)
        try:
            if message.topic.endswith("/status"):
                fleet.record_status(message.topic, bytes(message.payload), now)
                return
            result = ingest_batch(message.topic, bytes(message.payload), now, self.tz)
        except Exception:
            # a database outage must not kill the network thread; the terminal resends
            log.exception("ingest failed for a message on %s; not acked", message.topic)
            return
        self.batches += 1
        if self.crash_after_commits is not None and self.batches >= self.crash_after_commits:
            log.critical("fault injection: killed after commit %d, before its ack", self.batches)
            os.kill(os.getpid(), signal.SIGKILL)
        if result is None:
            return
        payload = schema.ack(result.acked, result.rejected, result.resend)
        client.publish(ack_topic(device_of(message.topic)), payload, qos=1)
