"""The outbox agent (``kiosk sync``): publishes pending events, applies acks and downlink config.

PUBACK is not an ack: paho's queue lives in memory only. An event is marked
sent when the hub's ack names it on ``pos/{device}/down/ack``.

Delivery is go-back-N over the outbox, per device and in sequence order:

* a batch goes out when ``batch_size`` events wait or the oldest waiting one
  has lingered ``batch_linger`` seconds (and never exceeds ``max_batch_bytes``);
* at most ``max_inflight`` batches await their ack at once;
* when the oldest in-flight batch is not acked within its deadline, every
  unacked event is sent again from the lowest sequence number, and the
  deadline doubles (``resend_after`` up to ``max_backoff``) until an ack arrives.

All database work happens on the agent's own thread: paho's callbacks only put
messages on a queue.
"""

import datetime as dt
import logging
import queue
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from kiosk.domain.staff import StaffError
from kiosk.store import business_keys, outbox, staff, together
from kiosk.store.connection import database
from kiosk.store.members import hub_copy
from kiosk.sync import config, connect, health, rebase, schema, updates
from kiosk.sync.connect import BrokerSettings
from kiosk.sync.members import HubEndpoint, MemberDownlink
from kiosk.sync.topics import (
    ack_topic,
    config_topic,
    events_topic,
    members_topic,
    staff_topic,
    status_topic,
    together_topic,
    update_topic,
)
from kiosk.system import sdnotify

log = logging.getLogger(__name__)

SESSION_EXPIRY_S = 7 * 24 * 3600

Clock = Callable[[], dt.datetime]


def system_clock() -> dt.datetime:
    """The terminal's wall clock, timezone-aware."""
    return dt.datetime.now(dt.UTC).astimezone()


@dataclass(frozen=True)
class AgentSettings:
    """Batching, retry and heartbeat behaviour of the outbox agent."""

    batch_size: int = 50  # N: events per message at most
    batch_linger: float = 0.2  # T: seconds a lone event may wait for company
    max_batch_bytes: int = 256 * 1024
    max_inflight: int = 4  # batches awaiting the hub's ack
    poll_interval: float = 0.05
    resend_after: float = 5.0  # first ack deadline; doubles per unanswered resend
    max_backoff: float = 120.0
    heartbeat_interval: float = 30.0
    status_check: float = 1.0  # how often the printer condition the app stored is looked at
    member_gap_patience: float = 5.0  # seconds a member delta waits for a missing one before a snapshot


@dataclass
class _Batch:
    ids: set[str]
    deadline: float


@dataclass
class _Delivery:
    """Go-back-N state: what is in flight and how patient to be."""

    inflight: list[_Batch] = field(default_factory=list)
    attempts: int = 0
    waiting_since: float | None = None

    def inflight_ids(self) -> set[str]:
        return set().union(*(b.ids for b in self.inflight)) if self.inflight else set()

    def acked(self, ids: set[str]) -> None:
        for batch in self.inflight:
            batch.ids -= ids
        self.inflight = [b for b in self.inflight if b.ids]
        if ids:
            self.attempts = 0


class OutboxAgent:
    """Moves outbox events to the hub, acks back into the outbox, config into the store."""

    def __init__(
        self,
        device: str,
        broker: BrokerSettings,
        settings: AgentSettings | None = None,
        clock: Clock = system_clock,
        printer: health.PrinterStatus = health.stored_printer,
        hub: HubEndpoint | None = None,
    ) -> None:
        self.device = device
        self.broker = broker
        self.settings = settings or AgentSettings()
        self.clock = clock
        self.printer = printer
        self._inbox: queue.SimpleQueue[mqtt.MQTTMessage] = queue.SimpleQueue()
        self._delivery = _Delivery()
        self._connected = threading.Event()
        self._reconnected = threading.Event()
        self._stop = threading.Event()
        self._wake = threading.Event()  # set by paho when an ack or config arrives
        self._started = time.monotonic()
        self._next_heartbeat = 0.0
        self._next_printer_check = 0.0
        self._reported_printer: str | None = None
        self.members = MemberDownlink(hub, gap_patience=self.settings.member_gap_patience)
        self.boot = str(uuid.uuid4())  # this agent process, for the events it writes itself
        self.client = self._make_client()

    def _make_client(self) -> mqtt.Client:
        client = connect.make_client(f"kiosk-{self.device}", self.broker)
        client.max_inflight_messages_set(100)
        client.will_set(status_topic(self.device), health.offline_status(self.device), qos=1, retain=True)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    # paho callbacks (network thread): no database work here
    def _on_connect(self, client: mqtt.Client, _u: object, _f: object, reason: object, _p: object) -> None:
        if connect.refused(reason, self.broker):
            return
        topics = [ack_topic(self.device), config_topic(self.device), members_topic(self.device)]
        topics += [update_topic(self.device), staff_topic(self.device), together_topic(self.device)]
        client.subscribe([(topic, 1) for topic in topics])
        self._reconnected.set()
        self._connected.set()
        log.info("connected to broker %s:%s", self.broker.host, self.broker.port)

    def _on_subscribe(
        self, _c: mqtt.Client, _u: object, _mid: int, codes: list[ReasonCode], _p: Properties
    ) -> None:
        # a snapshot taken before the broker holds our delta subscription could miss a delta
        if all(not code.is_failure for code in codes):
            self.members.ready = True
            self._wake.set()
        else:
            log.error("broker refused the downlink subscriptions: %s", [str(c) for c in codes])

    def _on_disconnect(self, _c: object, _u: object, _f: object, reason: object, _p: object) -> None:
        self._connected.clear()
        connect.dropped(reason, self.broker)

    def _on_message(self, _c: object, _u: object, message: mqtt.MQTTMessage) -> None:
        self._inbox.put(message)
        self._wake.set()

    # agent thread
    def start(self) -> None:
        """Connect in the background; the broker may be down, paho keeps retrying."""
        connect.connect_persistent(self.client, self.broker, SESSION_EXPIRY_S)

    def run(self, until: threading.Event | None = None) -> None:
        """Loop until ``until`` (or :meth:`stop`) is set."""
        until = until or self._stop
        self.start()
        # systemd (Type=notify, WatchdogSec): ready once the loop runs, then a ping per turn,
        # so a hung loop (not just a dead process) gets the agent restarted
        sdnotify.ready()
        try:
            while not until.is_set() and not self._stop.is_set():
                sdnotify.watchdog()
                try:
                    self.step()
                except Exception:
                    # a locked or full disk must not end the agent: log it and try again later
                    log.exception("sync step failed; retrying in %.0f s", self.settings.resend_after)
                    until.wait(self.settings.resend_after)
                if not self.members.busy:  # a snapshot goes on page after page
                    self._wake.wait(self.settings.poll_interval)
                self._wake.clear()
        finally:
            self.close()

    def step(self) -> int:
        """Apply what arrived, send a heartbeat when due, publish what is due; return events sent."""
        self._drain_inbox()
        if self.members.step(dt.datetime.now(dt.UTC)):
            self._next_heartbeat = 0.0  # report the new member version now
        if not self._connected.is_set():
            return 0
        now = time.monotonic()
        if self._reconnected.is_set():
            self._reconnected.clear()
            self._delivery.inflight.clear()  # the session may hold them, but resend to be sure
            self._next_heartbeat = 0.0
        heartbeat = now >= self._next_heartbeat
        if heartbeat or self._printer_changed(now):
            if heartbeat:
                updates.report_outcomes(updates.update_paths(), self.device, self.boot)
            self.publish_status()
            self._next_heartbeat = now + self.settings.heartbeat_interval
        return self._publish_due(now)

    def _printer_changed(self, now: float) -> bool:
        """True (at most once a ``status_check`` interval) when the printer's condition changed."""
        if now < self._next_printer_check:
            return False
        self._next_printer_check = now + self.settings.status_check
        return self.printer() != self._reported_printer

    def _publish_due(self, now: float) -> int:
        delivery = self._delivery
        if delivery.inflight and now >= delivery.inflight[0].deadline:
            log.warning("no ack within %.1f s; resending from the oldest unacked event", self._patience())
            delivery.inflight.clear()
            delivery.attempts += 1
        free = self.settings.max_inflight - len(delivery.inflight)
        if free <= 0:
            return 0
        busy = delivery.inflight_ids()
        limit = len(busy) + free * self.settings.batch_size
        due = [e for e in outbox.pending_bodies(limit=limit) if e[0] not in busy]
        if not due:
            delivery.waiting_since = None
            return 0
        chunks = self._chunks(due[: free * self.settings.batch_size])
        if len(chunks[-1]) < self.settings.batch_size and not self._lingered_enough(now):
            chunks.pop()  # a partial batch waits up to T for company
        else:
            delivery.waiting_since = None
        sent = 0
        for chunk in chunks:
            if not self._publish_batch(chunk, now):
                break
            sent += len(chunk)
        return sent

    def _lingered_enough(self, now: float) -> bool:
        if self._delivery.attempts:
            return True  # resending: no reason to wait
        if self._delivery.waiting_since is None:
            self._delivery.waiting_since = now
        return now - self._delivery.waiting_since >= self.settings.batch_linger

    def _chunks(self, events: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
        chunks: list[list[tuple[str, str]]] = [[]]
        size = 0
        for event in events:
            event_size = len(event[1].encode()) + 1
            full = len(chunks[-1]) >= self.settings.batch_size or size + event_size > self._byte_budget()
            if chunks[-1] and full:
                chunks.append([])
                size = 0
            chunks[-1].append(event)
            size += event_size
        return chunks

    def _byte_budget(self) -> int:
        return self.settings.max_batch_bytes - 200  # the envelope around the events

    def _patience(self) -> float:
        backoff = self.settings.resend_after * 2 ** min(self._delivery.attempts, 16)
        return min(backoff, self.settings.max_backoff) * random.uniform(1.0, 1.2)

    def _publish_batch(self, events: list[tuple[str, str]], now: float) -> bool:
        sent_at = self.clock().isoformat(timespec="milliseconds")
        payload = schema.batch_of_bodies(self.device, [body for _id, body in events], sent_at)
        info = self.client.publish(events_topic(self.device), payload, qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            log.warning("publish failed (rc=%s); will retry", info.rc)
            return False
        ids = {event_id for event_id, _body in events}
        self._delivery.inflight.append(_Batch(ids, now + self._patience()))
        return True

    def publish_status(self) -> None:
        """Publish the retained ``online`` status with current health figures."""
        printer = self._reported_printer = self.printer()
        payload = health.online_status(
            self.device,
            now=dt.datetime.now(dt.UTC),
            uptime_s=time.monotonic() - self._started,
            config_version=config.running_version(),
            member_version=hub_copy.position().version,
            key_id=business_keys.reported_key(),
            data_dir=Path(database.database).parent,
            printer=lambda: printer,
        )
        self.client.publish(status_topic(self.device), payload, qos=1, retain=True)

    def _drain_inbox(self) -> None:
        for _ in range(1000):
            try:
                message = self._inbox.get_nowait()
            except queue.Empty:
                return
            if message.topic == config_topic(self.device):
                self._apply_config(bytes(message.payload))
            elif message.topic == members_topic(self.device):
                self.members.receive(bytes(message.payload))
            elif message.topic == update_topic(self.device):
                updates.store_offer(bytes(message.payload), updates.update_paths())
            elif message.topic == staff_topic(self.device):
                self._apply_staff(bytes(message.payload))
            elif message.topic == together_topic(self.device):
                self._apply_together(bytes(message.payload))
            else:
                self._apply_ack(bytes(message.payload))

    def _apply_ack(self, payload: bytes) -> None:
        try:
            ack = schema.parse_ack(payload)
        except schema.SchemaError as exc:
            log.error("ignored malformed ack: %s", exc)
            return
        outbox.mark_acked(ack["ids"], dt.datetime.now(dt.UTC))
        forks = [r["rebase"] for r in ack["rejected"] if "rebase" in r]
        rejected = {r["id"]: r["reason"] for r in ack["rejected"] if "rebase" not in r}
        if rejected:
            log.error("hub rejected %d events: %s", len(rejected), rejected)
            outbox.mark_rejected(rejected)
        self._delivery.acked({*ack["ids"], *rejected})
        if ack["resend"] and outbox.mark_unsent(ack["resend"]):
            log.warning("the hub lacks sequence numbers %s (restored from a backup?): sending them again",
                        ack["resend"])  # fmt: skip
        if forks:
            head = max(forks, key=lambda h: h["seq"])
            rebase.rebase_unsent(head["seq"], head["hash"])
            self._delivery.inflight.clear()  # resend everything, renumbered, from the lowest
            self._delivery.attempts = 0

    def _apply_config(self, payload: bytes) -> None:
        if not payload:
            return  # the hub cleared the retained config; keep running the current one
        try:
            release = config.parse_release(payload)
        except schema.SchemaError as exc:
            log.error("ignored a config message: %s", exc)
            return
        if config.apply_release(release, dt.datetime.now(dt.UTC)):
            log.info("config version %d applied (%d products)", release.version, len(release.catalog))
            self._next_heartbeat = 0.0  # report the new version now

    def _apply_staff(self, payload: bytes) -> None:
        if not payload:
            return  # the hub cleared the retained roster; keep the one held
        try:
            applied = staff.apply_roster(payload, dt.datetime.now(dt.UTC))
        except StaffError as exc:
            log.error("ignored a staff roster: %s", exc)
            return
        if applied:
            log.info("staff roster version %d applied", staff.roster_version())

    def _apply_together(self, payload: bytes) -> None:
        if not payload:
            return  # the hub cleared the retained table; keep the one held
        try:
            applied = together.apply_table(payload, dt.datetime.now(dt.UTC))
        except together.TableError as exc:
            log.error("ignored an often-bought-together table: %s", exc)
            return
        if applied:
            log.info("often-bought-together table version %d applied", together.table_version())

    def stop(self) -> None:
        """Ask :meth:`run` to return."""
        self._stop.set()
        self._wake.set()

    def close(self) -> None:
        """Say ``offline`` (a clean disconnect sends no last will) and disconnect."""
        if self._connected.is_set():
            offline = health.offline_status(self.device)
            self.client.publish(status_topic(self.device), offline, qos=1, retain=True).wait_for_publish(2)
        self.client.disconnect()
        self.client.loop_stop()
