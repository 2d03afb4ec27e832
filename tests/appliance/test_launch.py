"""kiosk-sync.service's launcher: kiosk.toml -> `kiosk sync` arguments, password via environment."""

from __future__ import annotations

import base64
from pathlib import Path

from kiosk.config import BrokerConfig, DataConfig, DeviceConfig, KioskConfig, StoreConfig, TlsConfig
from kiosk.launch import run_command, sync_command

PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def config(tls: TlsConfig | None = None) -> KioskConfig:
    return KioskConfig(
        store=StoreConfig(id="s-001", name="一号店"),
        device=DeviceConfig(id="d-7f3a", name="Till"),
        broker=BrokerConfig(host="hub.lan", port=8883, username="d-7f3a", password="p" * 20, tls=tls),
        data=DataConfig(path="/var/lib/kiosk/kiosk.db", encryption_key=base64.b64encode(b"k" * 32).decode()),
    )


def test_sync_arguments_and_password_in_environment(tmp_path: Path) -> None:
    argv, env = sync_command(config(), "/opt/kiosk/bin/kiosk", tmp_path)
    assert argv == [
        "/opt/kiosk/bin/kiosk",
        "sync",
        "--db",
        "/var/lib/kiosk/kiosk.db",
        "--device",
        "d-7f3a",
        "--broker-host",
        "hub.lan",
        "--broker-port",
        "8883",
        "--username",
        "d-7f3a",
    ]
    assert env == {"KIOSK_MQTT_PASSWORD": "p" * 20}
    assert "p" * 20 not in " ".join(argv)


def test_pem_text_ca_is_written_to_the_runtime_directory(tmp_path: Path) -> None:
    argv, _ = sync_command(config(TlsConfig(ca=PEM)), "kiosk", tmp_path / "run")
    assert argv[-2:] == ["--ca-file", str(tmp_path / "run/broker-ca.pem")]
    assert (tmp_path / "run/broker-ca.pem").read_text() == PEM
    argv, _ = sync_command(config(TlsConfig(ca="/etc/kiosk/ca.pem")), "kiosk", tmp_path)
    assert argv[-2:] == ["--ca-file", "/etc/kiosk/ca.pem"]


def test_run_arguments() -> None:
    assert run_command("/etc/kiosk/kiosk.toml", "/opt/kiosk/bin/kiosk") == [
        "/opt/kiosk/bin/kiosk",
        "run",
        "--config",
        "/etc/kiosk/kiosk.toml",
    ]


def test_hub_url_is_passed_for_the_member_snapshot(tmp_path: Path) -> None:
    with_hub = config().model_copy(deep=True)
    with_hub.broker.hub_url = "http://hub.lan:8080"
    argv, _ = sync_command(with_hub, "kiosk", tmp_path)
    assert argv[-2:] == ["--hub-url", "http://hub.lan:8080"]
