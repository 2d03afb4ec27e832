"""One way to connect, on both sides: a broker that cannot be reached is said, in zh and en."""

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from hub.catalog.releases import publish_retained
from hub.ingest.worker import HubIngestor
from kiosk.devtools.ports import free_port
from tests.sync.harness import TZ, wait_until


def _refused_line(port: int, source: str) -> str:
    return (
        f"cannot connect to the MQTT broker at 127.0.0.1:{port}: [Errno 111] Connection refused;"
        f" is Mosquitto running there, and is the port right? ({source})"
        f" / 无法连接消息服务器 127.0.0.1:{port}：请确认 Mosquitto 正在运行、端口正确（每 1–30 秒重试）"
    )


def test_kiosk_sync_says_it_cannot_reach_the_broker(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    command = [sys.executable, "-m", "kiosk.cli", "sync", "--db", str(tmp_path / "kiosk.db"), "--device", "K"]
    sync = subprocess.Popen([*command, "--broker-port", str(port)], stderr=subprocess.PIPE, text=True)
    try:
        assert sync.stderr is not None
        failures = []
        while len(failures) < 2:  # one line per failed attempt, the second after the 1 s backoff
            line = sync.stderr.readline()
            assert line, "kiosk sync ended without saying why"
            if "MQTT broker" in line:
                failures.append(line)
    finally:
        sync.terminate()
        sync.wait(timeout=30)
    expected = _refused_line(port, "kiosk.toml [broker] host and port")
    said = [line.rstrip("\n").partition("kiosk.sync.connect") for line in failures]
    assert [message.lstrip(": ") for _, _, message in said] == [expected, expected]
    assert all("ERROR" in prefix for prefix, _, _ in said)


def test_hub_ingest_says_it_cannot_reach_the_broker(caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    hub = HubIngestor("127.0.0.1", port, TZ, "t", member_downlink=False)
    with caplog.at_level(logging.ERROR, logger="kiosk.sync.connect"):
        hub.start()
        try:
            wait_until(lambda: caplog.records, timeout=10, what="the failure logged")
        finally:
            hub.stop()
    assert caplog.records[0].getMessage() == _refused_line(port, "hub serve --mqtt-host/--mqtt-port")


def test_a_publish_to_an_unreachable_broker_says_why() -> None:
    port = free_port()
    with pytest.raises(ConnectionError) as failed:
        publish_retained({"pos/K1/down/config": b"{}"}, "127.0.0.1", port, timeout=2)
    assert str(failed.value) == _refused_line(port, "hub serve --mqtt-host/--mqtt-port")
