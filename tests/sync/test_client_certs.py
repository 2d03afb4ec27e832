"""TLS client certificates against a real Mosquitto run on the config ``hub broker-config
--require-client-cert`` writes: the device's certificate is its identity, others are refused."""

import datetime as dt
import getpass
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
from click.testing import CliRunner
from paho.mqtt.enums import CallbackAPIVersion

from hub.cli import main as hub_main
from hub.db.schema import open_hub_database
from hub.fleet.broker_config import (
    BrokerLayout,
    generate_tls,
    issue_client_cert,
    revoked_serials,
    write_broker_files,
)
from hub.ingest.models import Sale
from hub.ingest.worker import HubIngestor
from kiosk.config import load_config
from kiosk.devtools.ports import free_port, wait_for_port
from kiosk.launch import sync_command
from kiosk.sync.agent import AgentSettings, BrokerSettings, OutboxAgent
from tests.sync.harness import TZ, kiosk_unsent, sell, wait_until

HUB_PASSWORD = "hub-secret-for-tests"


@dataclass
class CertBroker:
    layout: BrokerLayout
    root: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        with (self.root / "mosquitto.log").open("ab") as log:
            conf = str(self.layout.broker_dir / "mosquitto.conf")
            self.process = subprocess.Popen([binary, "-c", conf], stdout=log, stderr=log)
        assert self.layout.port and self.layout.tls_port
        wait_for_port(self.layout.port)
        wait_for_port(self.layout.tls_port)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def add_device(self, device: str) -> Path:
        """``hub device add --client-cert``; returns the kiosk.toml it issued."""
        data = self.root / "hub-data"
        args = ["device", "add", "--store", "S01", "--name", device, "--id", device,
                "--broker-host", "localhost", "--broker-port", str(self.layout.tls_port), "--client-cert",
                "--data", str(data), "--broker-dir", str(self.layout.broker_dir), "--no-reload"]  # fmt: skip
        result = CliRunner().invoke(hub_main, args)
        assert result.exit_code == 0, result.output
        return data / "devices" / device / "kiosk.toml"


@pytest.fixture(scope="module")
def cert_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CertBroker]:
    root = tmp_path_factory.mktemp("cert-broker")
    layout = BrokerLayout(
        broker_dir=root / "etc", data_dir=root / "data", port=free_port(), tls_port=free_port(),
        run_as=getpass.getuser(), require_certificate=True, log_dest="stderr",
    )  # fmt: skip
    layout.data_dir.mkdir()
    write_broker_files(layout, ["localhost"], hub_password=HUB_PASSWORD)
    broker = CertBroker(layout, root)
    broker.start()
    yield broker
    broker.stop()


def tls_outcome(broker: CertBroker, ca: Path, cert: tuple[Path, Path] | None, user: str = "KC") -> str:
    """Connect over TLS with ``cert`` (or none): ``connack 0`` when let in, ``refused`` when the broker
    ends the TLS handshake or drops the connection before any CONNACK."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"probe-{user}", protocol=mqtt.MQTTv5)
    client.username_pw_set(user, "not-used-with-certificates")
    client.tls_set(
        ca_certs=str(ca), certfile=str(cert[0]) if cert else None, keyfile=str(cert[1]) if cert else None
    )
    done, outcome = threading.Event(), []
    client.on_connect = lambda _c, _u, _f, reason, _p: (outcome.append(f"connack {reason.value}"), done.set())
    client.on_disconnect = lambda *_a: (outcome.append("refused"), done.set())
    try:
        client.connect("localhost", broker.layout.tls_port)
    except (ssl.SSLError, ConnectionResetError):
        return "refused"  # TLS 1.2: the handshake itself fails
    client.loop_start()
    try:
        assert done.wait(10), "neither CONNACK nor disconnect"  # TLS 1.3: the broker closes after it
    finally:
        client.loop_stop()
        client.disconnect()
    return outcome[0]


def pem_files(where: Path, cert_pem: str, key_pem: str) -> tuple[Path, Path]:
    where.mkdir(parents=True, exist_ok=True)
    (where / "c.pem").write_text(cert_pem)
    (where / "c.key").write_text(key_pem)
    return where / "c.pem", where / "c.key"


def test_a_device_delivers_with_the_certificate_in_its_kiosk_toml(
    tmp_path: Path,
    kiosk_db,
    cert_broker: CertBroker,  # type: ignore[no-untyped-def]
) -> None:
    config = load_config(cert_broker.add_device("KC"))
    assert config.broker.tls is not None and "BEGIN CERTIFICATE" in str(config.broker.tls.client_cert)
    argv, _env = sync_command(config, "kiosk", tmp_path / "run")  # what the appliance's unit starts
    option = {name: argv[i + 1] for i, name in enumerate(argv) if name.startswith("--")}
    assert oct(os.stat(option["--client-key"]).st_mode & 0o777) == "0o600"
    open_hub_database(f"sqlite:///{tmp_path / 'hub.db'}")
    hub = HubIngestor(
        "127.0.0.1", cert_broker.layout.port, TZ, "certs", "hub", HUB_PASSWORD
    )  # loopback listener
    hub.start()
    fen = sell(3, device="KC")
    # no password: the broker takes the identity (and so the ACL's %u) from the certificate
    settings = BrokerSettings(
        "localhost", int(option["--broker-port"]), "KC", None, ca_file=option["--ca-file"],
        client_cert=option["--client-cert"], client_key=option["--client-key"],
    )  # fmt: skip
    agent = OutboxAgent("KC", settings, AgentSettings(batch_linger=0, heartbeat_interval=60))
    stop = threading.Event()
    thread = threading.Thread(target=agent.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_until(lambda: kiosk_unsent() == 0, what="sales delivered with a client certificate")
    finally:
        stop.set()
        thread.join(timeout=10)
        hub.stop()
    assert [s.total_fen for s in Sale.select()] == [fen // 3] * 3


def test_no_certificate_a_foreign_ca_or_a_revoked_certificate_is_refused(
    tmp_path: Path, cert_broker: CertBroker
) -> None:
    tls = cert_broker.layout.tls_dir
    ca = tls / "ca.pem"
    toml = load_config(cert_broker.add_device("KD"))
    assert toml.broker.tls is not None and toml.broker.tls.client_cert and toml.broker.tls.client_key
    own = pem_files(tmp_path / "own", toml.broker.tls.client_cert, toml.broker.tls.client_key)
    neighbour = load_config(cert_broker.add_device("KE")).broker.tls
    assert neighbour is not None and neighbour.client_cert and neighbour.client_key
    kept = pem_files(tmp_path / "kept", neighbour.client_cert, neighbour.client_key)
    assert tls_outcome(cert_broker, ca, own, "KD") == "connack 0"
    assert tls_outcome(cert_broker, ca, None, "KD") == "refused"  # a password alone opens nothing
    other = generate_tls(tmp_path / "other-ca", ["localhost"], dt.datetime.now(dt.UTC))
    foreign = pem_files(
        tmp_path / "foreign", *issue_client_cert(other.ca_cert.parent, "KD", dt.datetime.now(dt.UTC))
    )
    assert tls_outcome(cert_broker, ca, foreign, "KD") == "refused"  # same name, another CA

    args = ["device", "revoke", "KD", "--data", str(cert_broker.root / "hub-data"),
            "--broker-dir", str(cert_broker.layout.broker_dir), "--no-reload"]  # fmt: skip
    revoked = CliRunner().invoke(hub_main, args)
    assert revoked.exit_code == 0, revoked.output
    assert revoked.output.splitlines()[0] == "device KD revoked / 已吊销终端 KD"
    assert len(revoked_serials(tls)) == 1
    assert cert_broker.process is not None
    os.kill(cert_broker.process.pid, signal.SIGHUP)  # what `systemctl reload mosquitto` sends
    wait_until(lambda: tls_outcome(cert_broker, ca, own, "KD") == "refused", timeout=10, what="KD refused")
    assert tls_outcome(cert_broker, ca, own, "KD") == "refused"
    assert tls_outcome(cert_broker, ca, kept, "KE") == "connack 0"  # the others keep working
