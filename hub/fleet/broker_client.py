"""The hub's connections to the broker: its ingest workers' sessions and its one-shot publishers.

Built on :mod:`kiosk.sync.connect` (the one place a paho client is made: credentials,
TLS, backoff, a refused or failed connection logged in zh/en with what to check);
here the hub picks its client ids, its session expiry and where its settings come from.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import paho.mqtt.client as mqtt

from kiosk.sync.connect import BrokerSettings, connect_now, connect_persistent, dropped, make_client, refused

__all__ = [
    "BrokerSettings",
    "connected",
    "dropped",
    "hub_broker",
    "refused",
    "session_client",
    "start_session",
]

# what a failure's log line tells the owner to check
SOURCE = "hub serve --mqtt-host/--mqtt-port"


def hub_broker(
    host: str,
    port: int,
    username: str | None = None,
    password: str | None = None,
    ca_file: str | None = None,
) -> BrokerSettings:
    """The broker as the hub's command line gives it."""
    return BrokerSettings(host, port, username, password, ca_file=ca_file, source=SOURCE)


def session_client(broker: BrokerSettings, client_id: str) -> mqtt.Client:
    """A client for a long-lived session (an ingest worker): set its callbacks, then :func:`start_session`."""
    return make_client(client_id, broker)


def start_session(client: mqtt.Client, broker: BrokerSettings, session_expiry: int) -> None:
    """Connect in the background with a persistent session; failures are logged and retried."""
    connect_persistent(client, broker, session_expiry)


@contextmanager
def connected(broker: BrokerSettings, client_id: str, timeout: float = 10.0) -> Iterator[mqtt.Client]:
    """A client connected now (or ``ConnectionError`` saying why, zh/en), disconnected on exit."""
    client = make_client(client_id, broker)
    connect_now(client, broker, timeout)
    try:
        yield client
    finally:
        client.disconnect()
        client.loop_stop()
