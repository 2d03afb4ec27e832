"""``hub simulate --secured``: the scale run on the broker configuration shops run.

A real Mosquitto on the files `hub broker-config` and `hub device add` write: no anonymous
login, a password per terminal, the ACL keeping each terminal under its own prefix. The test
first proves the broker really is that strict (a stranger refused, a terminal refused on
another's topic), then drains the simulated terminals through it into the hub, to the fen.
"""

import json
import threading
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from click.testing import CliRunner
from paho.mqtt.enums import CallbackAPIVersion

from hub.cli import main as hub_main
from hub.db.schema import open_hub_database
from hub.devtools import simulate
from kiosk.sync.topics import events_topic
from tests.sync.harness import wait_until

NOT_AUTHORIZED = 135  # Mosquitto 2: bad credentials and ACL refusals under MQTT v5


def connect(port: int, user: str | None, password: str | None) -> tuple[mqtt.Client, dict[str, int]]:
    """A v5 client; the dict collects the CONNACK code and each PUBACK's code by message id."""
    codes: dict[str, int] = {}
    done = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"probe-{user}", protocol=mqtt.MQTTv5)
    if user:
        client.username_pw_set(user, password)

    def connected(_c: object, _u: object, _f: object, reason: mqtt.ReasonCode, _p: object) -> None:
        codes["connack"] = reason.value
        done.set()

    client.on_connect = connected
    client.on_publish = lambda _c, _u, mid, reason, _p: codes.__setitem__(str(mid), reason.value)
    client.connect("127.0.0.1", port)
    client.loop_start()
    wait_until(done.is_set, timeout=10, what="CONNACK")
    return client, codes


def publish(client: mqtt.Client, codes: dict[str, int], topic: str) -> int:
    info = client.publish(topic, b'{"v": 1, "device": "x", "events": []}', qos=1)
    wait_until(lambda: str(info.mid) in codes, timeout=10, what="PUBACK")
    return codes[str(info.mid)]


@pytest.mark.parametrize("hub_db_url", ["sqlite"], indirect=True)
def test_simulated_terminals_drain_through_the_secured_broker(tmp_path: Path, hub_db_url: str) -> None:
    pairs = simulate.prepare(tmp_path, 2, 15)
    (first, _), (second, _) = pairs
    broker = simulate.SecuredBroker(tmp_path).start([d for d, _ in pairs])
    try:
        acl = (broker.layout.broker_dir / "acl").read_text()
        assert (
            f"user {first}\ntopic write pos/{first}/up/#\n" in acl
        )  # written by the registry, as `hub device add`
        stranger, stranger_codes = connect(broker.port, None, None)
        assert stranger_codes["connack"] == NOT_AUTHORIZED  # no anonymous login
        stranger.loop_stop()
        wrong, wrong_codes = connect(broker.port, first, broker.passwords[second])
        assert wrong_codes["connack"] == NOT_AUTHORIZED  # another terminal's password
        wrong.loop_stop()
        probe, codes = connect(broker.port, first, broker.passwords[first])
        assert codes["connack"] == 0
        assert publish(probe, codes, events_topic(second)) == NOT_AUTHORIZED  # not under its prefix
        probe.loop_stop()
        probe.disconnect()
        open_hub_database(hub_db_url)
        simulate.drain(tmp_path, pairs, 1, hub_db_url, broker.port, 10, secured=broker)
    finally:
        broker.stop()
    hub_sales, hub_fen, hub_events = simulate._hub_counts()
    totals = [simulate.kiosk_totals(db) for _, db in pairs]
    assert (hub_sales, hub_events) == (30, 30)
    assert hub_fen == sum(t[1] for t in totals) > 0


@pytest.mark.parametrize("hub_db_url", ["sqlite"], indirect=True)
def test_hub_simulate_secured_over_tls_books_every_sale(tmp_path: Path, hub_db_url: str) -> None:
    args = ["simulate", "--kiosks", "2", "--sales", "10", "--db", hub_db_url, "--batch-size", "5",
            "--workdir", str(tmp_path), "--secured", "--tls"]  # fmt: skip
    result = CliRunner().invoke(hub_main, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["secured"], report["events"], report["hub_sales"], report["exact"]) == (
        "password+acl+tls",
        20,
        20,
        True,
    )
    conf = (tmp_path / "secured-broker/etc/mosquitto.conf").read_text()
    assert "allow_anonymous false" in conf and "cafile" in conf
    refused = CliRunner().invoke(hub_main, ["simulate", "--secured", "--mqtt-port", "1883"])
    assert refused.exit_code == 2 and "--mqtt-port" in refused.output
