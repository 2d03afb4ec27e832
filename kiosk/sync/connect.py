"""Connecting to the broker: the one place a paho client is built, for the terminal and the hub.

Every client speaks MQTT v5 with ``CallbackAPIVersion.VERSION2``, logs in with its
username and password and/or a TLS client certificate, verifies the broker against
a CA when given one, turns Nagle off, keeps no queue of its own (the outbox is the
queue) and retries with a backoff of 1 to 30 s. A connection that fails or that the
broker refuses is logged as one line in English and Chinese that says what to check;
before, ``kiosk sync --broker-port 1`` retried in silence.

The terminal's agent (:mod:`kiosk.sync.agent`) and the hub's clients
(:mod:`hub.fleet.broker_client`) only choose a client id, a session expiry and
their callbacks.
"""

import logging
import socket
import ssl
import sys
import threading
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from kiosk.sync.transport import no_delay

log = logging.getLogger(__name__)

RECONNECT_MIN_S = 1
RECONNECT_MAX_S = 30


@dataclass(frozen=True)
class BrokerSettings:
    """Where the broker is and who we are to it."""

    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    keepalive: int = 30
    ca_file: str | None = None  # verify the broker's TLS certificate against this CA
    client_cert: str | None = None  # our certificate (PEM file) when the broker requires one
    client_key: str | None = None  # its private key (PEM file)
    # where these settings come from, named in a failure's log line (what to check)
    source: str = "kiosk.toml [broker] host and port"


def make_client(client_id: str, broker: BrokerSettings) -> mqtt.Client:
    """A paho v5 client for ``broker``: credentials, TLS, backoff, Nagle off, failures logged."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    if broker.username:
        client.username_pw_set(broker.username, broker.password)
    if broker.ca_file:
        client.tls_set(ca_certs=broker.ca_file, certfile=broker.client_cert, keyfile=broker.client_key)
    client.max_queued_messages_set(0)
    client.reconnect_delay_set(min_delay=RECONNECT_MIN_S, max_delay=RECONNECT_MAX_S)
    client.on_socket_open = no_delay
    # paho calls it inside its ``except OSError``: the error is still sys.exc_info() there
    client.on_connect_fail = lambda _c, _u: log.error("%s", unreachable(broker, sys.exc_info()[1]))
    return client


def connect_persistent(client: mqtt.Client, broker: BrokerSettings, session_expiry: int) -> None:
    """Connect in the background with a persistent session (``clean_start=False``); paho keeps retrying."""
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = session_expiry
    client.connect_async(
        broker.host, broker.port, keepalive=broker.keepalive, clean_start=False, properties=props
    )
    client.loop_start()


def connect_now(client: mqtt.Client, broker: BrokerSettings, timeout: float) -> None:
    """Connect and start the network thread, or raise ``ConnectionError`` saying why (zh/en)."""
    accepted = threading.Event()
    answer: list[Any] = []

    def on_connect(_c: mqtt.Client, _u: object, _f: object, reason: Any, _p: object) -> None:
        answer.append(reason)
        accepted.set()

    client.on_connect = on_connect
    try:
        client.connect(broker.host, broker.port, keepalive=broker.keepalive)
    except OSError as exc:
        raise ConnectionError(unreachable(broker, exc)) from exc
    client.loop_start()
    if not accepted.wait(timeout):
        client.loop_stop()
        raise ConnectionError(unreachable(broker, TimeoutError(f"no answer in {timeout:g} s")))
    if answer[0].is_failure:
        client.loop_stop()
        raise ConnectionError(refusal(broker, answer[0]))


def refused(reason: Any, broker: BrokerSettings) -> bool:
    """In ``on_connect``: True, with one log line saying what to check, when the broker said no."""
    if not getattr(reason, "is_failure", False):
        return False
    log.error("%s", refusal(broker, reason))
    return True


def dropped(reason: Any, broker: BrokerSettings) -> None:
    """In ``on_disconnect``: one log line when a connection we had is lost (not when we closed it)."""
    if getattr(reason, "is_failure", False):
        where = f"{broker.host}:{broker.port}"
        log.warning(
            "lost the MQTT broker at %s: %s; reconnecting / 与消息服务器 %s 断开，正在重连",
            where,
            reason,
            where,
        )


def unreachable(broker: BrokerSettings, error: BaseException | None) -> str:
    """The line for a connection that failed before the broker answered: why, and what to check."""
    where = f"{broker.host}:{broker.port}"
    if isinstance(error, ssl.SSLError | ssl.CertificateError):
        check = (
            f"check the TLS files (CA {broker.ca_file}) and that {where} is the broker's TLS port",
            "请检查 TLS 证书文件和端口",
        )
    elif isinstance(error, socket.gaierror):
        check = (f"check the broker host name ({broker.source})", "请检查消息服务器地址")
    elif isinstance(error, ConnectionRefusedError):
        check = (
            f"is Mosquitto running there, and is the port right? ({broker.source})",
            "请确认 Mosquitto 正在运行、端口正确",
        )
    else:
        check = (
            f"check the network, a firewall and the address ({broker.source})",
            "请检查网络、防火墙和地址",
        )
    reason = str(error) if error is not None else "connection failed"
    return (
        f"cannot connect to the MQTT broker at {where}: {reason}; {check[0]}"
        f" / 无法连接消息服务器 {where}：{check[1]}（每 {RECONNECT_MIN_S}–{RECONNECT_MAX_S} 秒重试）"
    )


def refusal(broker: BrokerSettings, reason: Any) -> str:
    """The line for a CONNACK that refuses us: the broker's reason, and what to check."""
    name = str(reason)
    if name in ("Bad user name or password", "Not authorized"):
        check = (
            f"check the username and password{' (or client certificate)' if broker.client_cert else ''}"
            f" for user {broker.username!r} and the broker's password file",
            "请检查用户名和密码（终端的 kiosk.toml 与 Mosquitto 的 passwd）",
        )
    else:
        check = ("check the broker's log", "请查看消息服务器日志")
    where = f"{broker.host}:{broker.port}"
    english = f"the MQTT broker at {where} refused us: {name}; {check[0]}"
    return f"{english} / 消息服务器 {where} 拒绝连接：{check[1]}"
