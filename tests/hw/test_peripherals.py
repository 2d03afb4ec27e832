"""kiosk.toml's [hardware] names reach the hardware layer; missing devices are reported, not faked."""

import socket
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from kiosk.cli import main
from kiosk.config import KioskConfig
from kiosk.devtools.broker import MosquittoBroker
from kiosk.hw.events import EventQueue, HardwareEventKind
from kiosk.hw.peripherals import hardware_from, start_readers
from kiosk.sync.agent import AgentSettings, BrokerSettings, OutboxAgent
from kiosk.system import sdnotify


def provisioned(**hardware: object) -> KioskConfig:
    config = KioskConfig.demo()
    return config.model_copy(update={"hardware": config.hardware.model_copy(update=hardware)})


def test_hardware_names_map_to_the_readers_model() -> None:
    hw = hardware_from(
        provisioned(
            scanner="/dev/input/by-id/usb-Honeywell_Scanner-event-kbd",
            card_reader="ffff:0035",
            printer="tcp://192.0.2.10:9100",
            paper_width=384,
        )
    )
    assert hw.scanner is not None and hw.scanner.path == "/dev/input/by-id/usb-Honeywell_Scanner-event-kbd"
    assert hw.card_reader is not None and (hw.card_reader.vendor, hw.card_reader.product) == (0xFFFF, 0x35)
    assert hw.card_reader.uid_form == "dec10" and hw.card_reader.debounce_ms == 1500
    assert hw.printer is not None and (hw.printer.url, hw.printer.width) == ("tcp://192.0.2.10:9100", 384)
    named = hardware_from(provisioned(scanner="Newland NLS-HR22", card_reader=None, printer=None))
    assert named.scanner is not None and named.scanner.name == "Newland NLS-HR22"
    assert named.card_reader is None and named.printer is None


def test_a_missing_scanner_is_reported_on_the_queue(tmp_path: Path) -> None:
    queue = EventQueue()
    readers = start_readers(provisioned(scanner=str(tmp_path / "by-id" / "absent-event-kbd")), queue)
    try:
        deadline = time.monotonic() + 5
        events = []
        while not events and time.monotonic() < deadline:
            events = [e for e in queue.drain() if e.kind is HardwareEventKind.STATUS]
            time.sleep(0.05)
    finally:
        for reader in readers:
            reader.stop()
    assert [(e.code, e.source) for e in events[:1]] == [("missing", "scanner")]


def test_kiosk_run_with_a_broken_config_says_where_and_does_not_start(tmp_path: Path) -> None:
    broken = tmp_path / "kiosk.toml"
    broken.write_text('[stor]\nid = "s-001"\n')
    result = CliRunner().invoke(main, ["run", "--config", str(broken)])
    assert result.exit_code == 1
    assert "did you mean `store`?" in result.output


def test_sync_agent_tells_systemd_it_is_ready_and_alive(
    tmp_path: Path, kiosk_db, monkeypatch: pytest.MonkeyPatch, broker: MosquittoBroker
) -> None:  # type: ignore[no-untyped-def]
    path = str(tmp_path / "notify.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(path)
    listener.settimeout(5)
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    monkeypatch.setattr(sdnotify, "_default", None)
    agent = OutboxAgent("K01", BrokerSettings(port=broker.port), AgentSettings(poll_interval=0.05))
    stop = threading.Event()
    thread = threading.Thread(target=agent.run, args=(stop,), daemon=True)
    thread.start()
    try:
        messages = [listener.recv(4096) for _ in range(3)]
    finally:
        stop.set()
        thread.join(timeout=10)
        listener.close()
        monkeypatch.setattr(sdnotify, "_default", None)
    assert messages == [b"READY=1", b"WATCHDOG=1", b"WATCHDOG=1"]


def test_an_hw_table_in_kiosk_toml_tunes_the_readers_and_is_validated(tmp_path: Path) -> None:
    from kiosk.config import dump_config

    config = KioskConfig.demo().model_copy(
        update={
            "hw": {
                "scanner": {"name": "Newland", "suffix": "\r", "gap_ms": 80},
                "printer": {"url": "virtual:"},
            }
        }
    )
    hw = hardware_from(config)
    assert hw.scanner is not None and (hw.scanner.name, hw.scanner.suffix, hw.scanner.gap_ms) == (
        "Newland",
        "\r",
        80,
    )
    assert hw.printer is not None and (hw.printer.url, hw.printer.width) == ("virtual:", 576)
    good = tmp_path / "kiosk.toml"
    good.write_text(dump_config(config))
    ok = CliRunner().invoke(main, ["config", "validate", str(good)])
    assert ok.exit_code == 0, ok.output
    bad = tmp_path / "bad.toml"
    bad.write_text(good.read_text().replace("gap_ms = 80", "gap_msec = 80"))
    refused = CliRunner().invoke(main, ["config", "validate", str(bad)])
    assert refused.exit_code == 1
    assert "kiosk.toml: hw.scanner.gap_msec is wrong: Extra inputs are not permitted." in refused.output


def test_the_provisioned_store_name_is_the_shop_name_on_screen_and_receipts() -> None:
    from kiosk.cli import _provisioned_settings

    config = KioskConfig.demo()
    config = config.model_copy(update={"store": config.store.model_copy(update={"name": "街角便利店"})})
    settings = _provisioned_settings(config)
    assert (settings["shop_name"], settings["timezone"]) == ("街角便利店", config.store.timezone)


def test_the_configured_paper_width_reaches_the_app_that_opens_the_printer() -> None:
    from kiosk.cli import _provisioned_settings

    config = KioskConfig.demo()
    hardware = config.hardware.model_copy(update={"printer": "usb:0416:5011", "paper_width": 384})
    settings = _provisioned_settings(config.model_copy(update={"hardware": hardware}))
    assert (settings["printer_url"], settings["printer_width"]) == ("usb:0416:5011", 384)
