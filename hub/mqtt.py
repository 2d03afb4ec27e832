"""The hub's MQTT side: subscribe to every terminal's uplink, ingest, ack after commit."""

import datetime as dt
import logging
import threading
from typing import Any
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hub.ingest import ingest_batch
from kiosk.sync import schema
from kiosk.sync.topics import EVENTS_WILDCARD, ack_topic, device_of

log = logging.getLogger(__name__)

SHARED_GROUP = "hub"


class HubIngestor:
    """One ingest worker. Several share the load through ``$share/hub/pos/+/up/events``."""

    def __init__(
        self,
        host: str,
        port: int,
        tz: ZoneInfo,
        worker: str = "1",
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.host, self.port, self.tz = host, port, tz
        self.connected = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"hub-ingest-{worker}", protocol=mqtt.MQTTv5
        )
        if username:
            self.client.username_pw_set(username, password)
        self.client.max_queued_messages_set(0)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *_a: self.connected.clear()
        self.client.on_message = self._on_message

    def start(self) -> None:
        """Connect with a persistent session and start paho's network thread."""
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 7 * 24 * 3600
        self.client.connect_async(self.host, self.port, clean_start=False, properties=props)
        self.client.loop_start()

    def stop(self) -> None:
        """Disconnect and stop the network thread."""
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.error("broker refused the hub: %s", reason)
            return
        client.subscribe(f"$share/{SHARED_GROUP}/{EVENTS_WILDCARD}", qos=1)
        self.connected.set()
        log.info("hub ingest connected to %s:%s", self.host, self.port)

    def _on_message(self, client: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        try:
            result = ingest_batch(message.topic, message.payload, dt.datetime.now(dt.UTC), self.tz)
        except Exception:
            # a database outage must not kill the network thread; the terminal resends
            log.exception("ingest failed for a message on %s; not acked", message.topic)
            return
        if result is None:
            return
        payload = schema.ack(result.acked, result.rejected)
        client.publish(ack_topic(device_of(message.topic)), payload, qos=1)
