"""Device security against a real Mosquitto running the config ``hub broker-config`` writes.

Passwords and ACL patterns from hub/fleet/broker_config.py, MQTT v5 reason codes,
TLS with a CA made by the hub.
"""

import datetime as dt
import getpass
import logging
import os
import shutil
import signal
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from hub.db.schema import open_hub_database
from hub.fleet.broker_config import BrokerLayout, generate_tls, password_line, write_broker_files
from hub.ingest.models import Quarantine, Sale
from hub.ingest.worker import HubIngestor
from kiosk.devtools.ports import free_port, wait_for_port
from kiosk.sync.agent import AgentSettings, BrokerSettings, OutboxAgent
from kiosk.sync.schema import batch
from kiosk.sync.topics import config_topic, events_topic
from tests.events import sale_chain
from tests.sync.harness import TZ, kiosk_unsent, sell, wait_until

PASSWORDS = {"hub": "hub-secret", "KA": "pw-a", "KB": "pw-b"}


@dataclass
class SecureBroker:
    layout: BrokerLayout
    process: subprocess.Popen[bytes]

    def reload(self) -> None:
        """SIGHUP: Mosquitto re-reads its password and ACL files."""
        os.kill(self.process.pid, signal.SIGHUP)


@pytest.fixture(scope="module")
def secure_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureBroker]:
    root = tmp_path_factory.mktemp("secure-broker")
    layout = BrokerLayout(
        broker_dir=root / "etc", data_dir=root / "data", port=free_port(), bind="127.0.0.1",
        tls_port=free_port(), run_as=getpass.getuser(), log_dest="stderr",
    )  # fmt: skip
    layout.data_dir.mkdir()
    write_broker_files(layout, ["localhost", "127.0.0.1"], hub_password=PASSWORDS["hub"])
    with layout.passwd.open("a") as out:
        out.write(password_line("KA", PASSWORDS["KA"]) + "\n" + password_line("KB", PASSWORDS["KB"]) + "\n")
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    with (root / "mosquitto.log").open("wb") as log:
        process = subprocess.Popen(
            [binary, "-c", str(layout.broker_dir / "mosquitto.conf")], stdout=log, stderr=log
        )
    assert layout.port and layout.tls_port
    wait_for_port(layout.port)
    wait_for_port(layout.tls_port)
    yield SecureBroker(layout, process)
    process.terminate()
    process.wait(timeout=10)


class Client:
    """A v5 client that records reason codes of CONNACK, SUBACK and PUBACK."""

    def __init__(self, broker: SecureBroker, user: str | None, password: str | None = None) -> None:
        self.connack: int | None = None
        self.suback: list[int] = []
        self.puback: dict[int, int] = {}
        self.received: list[str] = []
        self.done = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{user}", protocol=mqtt.MQTTv5)
        if user:
            self.client.username_pw_set(user, password if password is not None else PASSWORDS[user])
        self.client.on_connect = self._connected
        self.client.on_subscribe = lambda _c, _u, _m, codes, _p: self.suback.extend(c.value for c in codes)
        self.client.on_publish = lambda _c, _u, mid, code, _p: self.puback.__setitem__(mid, code.value)
        self.client.on_message = lambda _c, _u, m: self.received.append(m.topic)
        assert broker.layout.port
        self.client.connect("127.0.0.1", broker.layout.port)
        self.client.loop_start()
        wait_until(self.done.is_set, timeout=10, what="CONNACK")

    def _connected(self, _c: object, _u: object, _f: object, reason: mqtt.ReasonCode, _p: object) -> None:
        self.connack = reason.value
        self.done.set()

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> int:
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        wait_until(lambda: info.mid in self.puback, timeout=10, what="PUBACK")
        return self.puback[info.mid]

    def subscribe(self, topic: str) -> int:
        before = len(self.suback)
        self.client.subscribe(topic, qos=1)
        wait_until(lambda: len(self.suback) > before, timeout=10, what="SUBACK")
        return self.suback[-1]

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


NOT_AUTHORIZED = 135  # Mosquitto 2 answers a bad password with this too (not 134)
NO_SUBSCRIBERS = 16  # a success code: accepted, nobody subscribed yet


def test_device_cannot_publish_as_another_device(secure_broker: SecureBroker) -> None:
    hub, device_a = Client(secure_broker, "hub"), Client(secure_broker, "KA")
    try:
        assert hub.subscribe("pos/+/up/events") == 1
        payload = batch("KB", sale_chain("KB", 1))
        assert device_a.publish(events_topic("KB"), payload) == NOT_AUTHORIZED  # refused, not dropped
        assert device_a.publish("pos/KB/status", b"{}") == NOT_AUTHORIZED
        assert device_a.publish(events_topic("KA"), batch("KA", sale_chain("KA", 1))) == 0
        wait_until(lambda: hub.received == [events_topic("KA")], what="only A's own batch at the hub")
    finally:
        hub.close()
        device_a.close()


def test_device_cannot_read_another_devices_downlink(secure_broker: SecureBroker) -> None:
    hub, device_a, device_b = (Client(secure_broker, u) for u in ("hub", "KA", "KB"))
    try:
        assert hub.publish(config_topic("KB"), b'{"v":1}', retain=True) == NO_SUBSCRIBERS
        assert hub.publish(config_topic("KA"), b'{"v":1}', retain=True) == NO_SUBSCRIBERS
        # Mosquitto grants the subscription and filters each message by the read ACL on delivery.
        assert device_a.subscribe("pos/KB/down/#") == 1
        assert device_a.subscribe("pos/+/down/config") == 1
        assert device_b.subscribe("pos/KB/down/#") == 1
        wait_until(lambda: device_b.received == [config_topic("KB")], what="B gets its own config")
        # retained messages arrive in subscription order: B's would have come before A's own
        wait_until(lambda: len(device_a.received) >= 1, what="A gets its own config")
        assert device_a.received == [config_topic("KA")]
        assert device_a.publish(config_topic("KA"), b"{}") == NOT_AUTHORIZED  # nor write any downlink
    finally:
        for client in (hub, device_a, device_b):
            client.close()


def test_events_of_another_device_replayed_on_its_own_topic_are_quarantined(
    tmp_path: Path, secure_broker: SecureBroker
) -> None:
    open_hub_database(f"sqlite:///{tmp_path / 'hub.db'}")
    assert secure_broker.layout.port
    ingestor = HubIngestor("127.0.0.1", secure_broker.layout.port, TZ, "sec", "hub", PASSWORDS["hub"])
    ingestor.start()
    device_a = Client(secure_broker, "KA")
    try:
        assert ingestor.connected.wait(10)
        stolen = batch("KB", sale_chain("KB", 2))  # B's real, well-hashed events
        assert device_a.publish(events_topic("KA"), stolen) == 0
        wait_until(lambda: Quarantine.select().count() == 1, what="replay quarantined")
    finally:
        device_a.close()
        ingestor.stop()
    assert Quarantine.get().reason == "batch device 'KB' differs from topic device 'KA'"
    assert Sale.select().count() == 0


def test_revoked_device_and_bad_passwords_are_refused(secure_broker: SecureBroker) -> None:
    wrong = Client(secure_broker, "KA", "guess")
    anonymous = Client(secure_broker, None)
    assert (wrong.connack, anonymous.connack) == (NOT_AUTHORIZED, NOT_AUTHORIZED)
    for client in (wrong, anonymous):
        client.close()
    passwd = secure_broker.layout.passwd
    before = passwd.read_text()
    try:
        passwd.write_text("".join(line + "\n" for line in before.splitlines() if not line.startswith("KB:")))
        secure_broker.reload()  # what `hub device revoke` does after editing the files
        wait_until(lambda: (c := Client(secure_broker, "KB"), c.close(), c.connack)[2] == NOT_AUTHORIZED,
                   timeout=10, what="KB refused after revocation")  # fmt: skip
        still = Client(secure_broker, "KA")
        assert still.connack == 0  # the others keep working
        still.close()
    finally:
        passwd.write_text(before)
        secure_broker.reload()


def test_a_refused_login_is_said_with_what_to_check(
    secure_broker: SecureBroker,
    kiosk_db,  # type: ignore[no-untyped-def]
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = secure_broker.layout.port
    assert port
    agent = OutboxAgent("KA", BrokerSettings("127.0.0.1", port, "KA", "guess"), AgentSettings())
    with caplog.at_level(logging.ERROR, logger="kiosk.sync.connect"):
        agent.start()
        try:
            wait_until(lambda: caplog.records, timeout=10, what="the refusal logged")
        finally:
            agent.close()
    assert caplog.records[0].getMessage() == (
        f"the MQTT broker at 127.0.0.1:{port} refused us: Not authorized; check the username and password"
        " for user 'KA' and the broker's password file / 消息服务器 127.0.0.1:"
        f"{port} 拒绝连接：请检查用户名和密码（终端的 kiosk.toml 与 Mosquitto 的 passwd）"
    )


def test_kiosk_delivers_over_tls_and_will_not_talk_to_an_unknown_broker(
    tmp_path: Path,
    kiosk_db,
    secure_broker: SecureBroker,  # type: ignore[no-untyped-def]
) -> None:
    layout = secure_broker.layout
    assert layout.tls_port
    ca = str(layout.tls_dir / "ca.pem")
    open_hub_database(f"sqlite:///{tmp_path / 'hub.db'}")
    hub = HubIngestor("localhost", layout.tls_port, TZ, "tls", "hub", PASSWORDS["hub"], ca_file=ca)
    hub.start()
    fen = sell(3, device="KA")
    broker = BrokerSettings("localhost", layout.tls_port, "KA", PASSWORDS["KA"], ca_file=ca)
    agent = OutboxAgent("KA", broker, AgentSettings(batch_linger=0, heartbeat_interval=60))
    stop = threading.Event()
    thread = threading.Thread(target=agent.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_until(lambda: kiosk_unsent() == 0, what="sales delivered over TLS")
    finally:
        stop.set()
        thread.join(timeout=10)
        hub.stop()
    assert [s.total_fen for s in Sale.select()] == [fen // 3] * 3

    impostor = generate_tls(tmp_path / "other", ["localhost"], dt.datetime.now(dt.UTC))
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.tls_set(ca_certs=str(impostor.ca_cert))
    with pytest.raises(ssl.SSLCertVerificationError):
        client.connect("localhost", layout.tls_port)


def test_broker_config_command_writes_every_file_once(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from hub.cli import main as hub_main

    args = ["broker-config", "--broker-dir", str(tmp_path / "etc"), "--data-dir", str(tmp_path / "data"),
            "--host", "hub.local", "--host", "192.168.1.10", "--hub-password", "s3cret"]  # fmt: skip
    first = CliRunner().invoke(hub_main, args)
    assert first.exit_code == 0, first.output
    etc = tmp_path / "etc"
    assert first.output.splitlines() == [
        f"wrote {etc / 'mosquitto.conf'}", f"wrote {etc / 'acl'}", f"wrote {etc / 'passwd'}",
        f"wrote {etc / 'tls/ca.pem'}", f"wrote {etc / 'tls/broker.pem'}",
        "reload: systemctl reload mosquitto  (重新加载消息服务器)",
    ]  # fmt: skip
    assert oct((etc / "tls/broker.key").stat().st_mode & 0o777) == "0o600"
    conf = (etc / "mosquitto.conf").read_text()
    expected = [
        "allow_anonymous false", f"password_file {etc / 'passwd'}", "max_queued_messages 0",
        "listener 1883 0.0.0.0", "listener 8883 0.0.0.0", f"keyfile {etc / 'tls/broker.key'}",
    ]  # fmt: skip
    assert set(expected) <= set(conf.splitlines())
    again = CliRunner().invoke(hub_main, args)  # a rerun keeps the CA and any device ACL edits
    assert again.output.splitlines()[:2] == [f"wrote {etc / 'mosquitto.conf'}", f"wrote {etc / 'passwd'}"]
    assert [line.split(":")[0] for line in (etc / "passwd").read_text().splitlines()] == ["hub"]
