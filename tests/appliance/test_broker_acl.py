"""A real Mosquitto with the files `hub device` writes: a device reaches only its own topics."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hub.fleet.broker_config import BrokerLayout, render_conf
from hub.fleet.devices import DeviceRecord
from hub.fleet.provision import BrokerFiles
from kiosk.devtools.ports import free_port, wait_for_port

DEVICE = DeviceRecord("d-00aa01", "s-001", "Till", "2026-11-24T00:00:00+00:00")
PASSWORD = "device-password-0123456789"


@pytest.fixture
def broker() -> Iterator[tuple[int, BrokerFiles, subprocess.Popen[bytes]]]:
    # Mosquitto drops to its own user: pytest's 0700 tmp dirs would be unreadable to it.
    base = Path(tempfile.mkdtemp(prefix="kiosk-broker-", dir="/tmp"))
    os.chmod(base, 0o755)
    files = BrokerFiles(base / "broker")
    files.set_password(DEVICE.id, PASSWORD)
    files.write_acl([DEVICE])
    persistence = base / "persist"
    persistence.mkdir()
    shutil.chown(persistence, user="mosquitto")
    port = free_port()
    conf = base / "mosquitto.conf"
    layout = BrokerLayout(
        broker_dir=files.directory, data_dir=persistence, port=port, bind="127.0.0.1", tls_port=None,
        log_dest="stderr",
    )  # fmt: skip
    conf.write_text(render_conf(layout))
    process = subprocess.Popen(["mosquitto", "-c", str(conf)], stderr=subprocess.DEVNULL)
    wait_for_port(port)
    yield port, files, process
    process.terminate()
    process.wait(timeout=10)
    shutil.rmtree(base)


class Probe:
    """A paho v5 client that records CONNACK and PUBACK reason codes."""

    def __init__(self, port: int, username: str, password: str) -> None:
        self.connected = threading.Event()
        self.connect_code: int | None = None
        self.acks: dict[int, int] = {}
        self.acked = threading.Condition()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"probe-{username}", protocol=mqtt.MQTTv5
        )
        self.client.username_pw_set(username, password)
        self.client.on_connect = self._on_connect
        self.client.on_publish = self._on_publish
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self.connected.wait(10)

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        self.connect_code = reason_code.value
        self.connected.set()

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        with self.acked:
            self.acks[mid] = reason_code.value
            self.acked.notify_all()

    def publish(self, topic: str) -> int:
        """PUBACK reason code of a QoS 1 publish (16 accepted with no subscriber, 135 denied)."""
        props = Properties(PacketTypes.PUBLISH)
        info = self.client.publish(topic, b"{}", qos=1, properties=props)
        with self.acked:
            assert self.acked.wait_for(lambda: info.mid in self.acks, timeout=10)
            return self.acks[info.mid]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def connect_code(port: int, password: str) -> int | None:
    probe = Probe(port, DEVICE.id, password)
    probe.close()
    return probe.connect_code


def test_device_may_publish_only_under_its_own_prefix(broker) -> None:
    port, _, _ = broker
    probe = Probe(port, DEVICE.id, PASSWORD)
    try:
        assert probe.connect_code == 0
        # 16 = "no matching subscribers": accepted by the ACL, nobody listening yet.
        assert probe.publish(f"pos/{DEVICE.id}/up/events") == 16
        assert probe.publish(f"pos/{DEVICE.id}/status") == 16
        assert probe.publish("pos/d-other/up/events") == 135
        assert probe.publish(f"pos/{DEVICE.id}/down/ack") == 135
    finally:
        probe.close()


def test_wrong_password_and_revoked_device_are_refused(broker) -> None:
    port, files, process = broker
    # Mosquitto 2.0 answers a bad password with 135 "not authorized".
    assert connect_code(port, "wrong-password-000000") == 135
    assert connect_code(port, PASSWORD) == 0
    files.remove_user(DEVICE.id)
    files.write_acl([])
    process.send_signal(signal.SIGHUP)  # what `systemctl reload mosquitto` does
    time.sleep(0.5)
    assert connect_code(port, PASSWORD) == 135
