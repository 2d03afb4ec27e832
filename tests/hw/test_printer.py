"""The python-escpos driver against the virtual printer: real bytes over real TCP."""

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from kiosk.hw.errors import PrinterConfigError, PrinterError
from kiosk.hw.escpos_parser import Cut, DrawerPulse, EscposParser, Raster
from kiosk.hw.printer import open_printer, state_from_status_bytes
from kiosk.hw.status import DeviceState
from kiosk.hw.virtual_printer import VirtualNetworkPrinter, VirtualPrinter, VirtualSerialPrinter


@pytest.fixture
def network():
    with VirtualNetworkPrinter(VirtualPrinter(384)) as server:
        yield server


def test_network_driver_prints_image_cut_and_drawer(network, image: Image.Image) -> None:
    printer = open_printer(network.url, 384)
    printer.print_image(image)
    printer.cut()
    printer.open_drawer(5)
    assert printer.status() is DeviceState.READY  # the status round trip also syncs the stream
    printer.close()
    (receipt,) = network.printer.receipts()
    assert receipt.cut is True
    assert receipt.image.tobytes() == image.tobytes()
    assert network.printer.drawer_pulses() == [DrawerPulse(5, 100, 100)]


@pytest.mark.parametrize(
    ("fault", "state"),
    [
        ("paper_out", DeviceState.PAPER_OUT),
        ("paper_near_end", DeviceState.PAPER_NEAR_END),
        ("cover_open", DeviceState.COVER_OPEN),
    ],
)
def test_network_status_reports_faults(network, fault: str, state: DeviceState) -> None:
    setattr(network.printer.faults, fault, True)
    printer = open_printer(network.url, 384)
    assert printer.status() is state
    printer.close()


def test_unplug_mid_job_is_unreachable_and_the_next_job_reconnects(network, image: Image.Image) -> None:
    network.printer.faults.unplug_after_bytes = 1000
    printer = open_printer(network.url, 384)
    try:
        printer.print_image(image)  # may still fit in the socket's send buffer
    except PrinterError as exc:
        assert exc.state == "unreachable"
    assert printer.status() is DeviceState.UNREACHABLE
    assert network.printer.bytes_received == 1000
    # Over TCP a write into a dropped connection can look fine; the status round trip
    # is what tells, so the print queue asks for status after every job.
    assert printer.status() is DeviceState.UNREACHABLE
    assert network.printer.bytes_received == 1000
    network.printer.plug_in()
    printer.print_image(image)
    printer.cut()
    assert printer.status() is DeviceState.READY
    printer.close()
    last = network.printer.receipts()[-1]
    assert (last.cut, last.image.tobytes()) == (True, image.tobytes())


def test_a_printer_nobody_listens_on_is_unreachable_not_faked() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    printer = open_printer(f"tcp://127.0.0.1:{port}?timeout=1", 576)
    assert printer.status() is DeviceState.UNREACHABLE
    with pytest.raises(PrinterError) as caught:
        printer.cut()
    assert caught.value.state == "unreachable"
    assert caught.value.message["zh"] == "无法连接打印机，小票已保存，恢复后自动补打。"


def test_file_printer_writes_escpos_bytes_and_cannot_report_status(
    tmp_path: Path, image: Image.Image
) -> None:
    out = tmp_path / "lp0"
    printer = open_printer(f"file:{out}", 384)
    printer.print_image(image)
    printer.cut()
    assert printer.status() is DeviceState.STATUS_UNKNOWN
    printer.close()
    ops = EscposParser().feed(out.read_bytes())
    rasters = [op for op in ops if isinstance(op, Raster)]
    assert [r.image.tobytes() for r in rasters] == [image.tobytes()]
    assert ops[-1] == Cut(partial=False)


def test_file_printer_in_a_missing_directory_is_unreachable(tmp_path: Path) -> None:
    printer = open_printer(f"file:{tmp_path}/absent/lp0", 384)
    with pytest.raises(PrinterError) as caught:
        printer.cut()
    assert caught.value.state == "unreachable"


def test_an_image_wider_than_the_paper_is_refused(image: Image.Image) -> None:
    printer = open_printer("virtual:", 384)
    with pytest.raises(ValueError, match="576 dots wide; the paper is 384"):
        printer.print_image(image.resize((576, 10)))


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("lpt:1", "unknown kind 'lpt'"),
        ("usb:0x0416", "usb needs vendor:product"),
        ("tcp://:9100", "tcp needs a host"),
    ],
)
def test_bad_printer_addresses_say_what_to_write(url: str, why: str) -> None:
    with pytest.raises(PrinterConfigError) as caught:
        open_printer(url)
    assert why in caught.value.message["en"]
    assert "tcp://192.168.1.50:9100" in caught.value.message["zh"]


def test_only_58_and_80_mm_widths_are_accepted() -> None:
    with pytest.raises(PrinterConfigError) as caught:
        open_printer("virtual:", 500)
    assert "384" in caught.value.message["zh"]


def test_drawer_pin_must_be_2_or_5() -> None:
    with pytest.raises(ValueError, match="2 or 5, not 3"):
        open_printer("virtual:", 384).open_drawer(3)


@pytest.mark.parametrize(
    ("printer", "cause", "paper", "state"),
    [
        (0x12, 0x12, 0x12, DeviceState.READY),
        (0x1A, 0x32, 0x72, DeviceState.PAPER_OUT),
        (0x1A, 0x16, 0x12, DeviceState.COVER_OPEN),
        (0x1A, 0x12, 0x12, DeviceState.OFFLINE),
        (0x12, 0x12, 0x1E, DeviceState.PAPER_NEAR_END),
    ],
)
def test_status_bytes_decode(printer: int, cause: int, paper: int, state: DeviceState) -> None:
    assert state_from_status_bytes(printer, cause, paper) is state


def test_serial_driver_prints_through_a_pseudo_terminal(image: Image.Image) -> None:
    with VirtualSerialPrinter(VirtualPrinter(384)) as serial_printer:
        printer = open_printer(serial_printer.url, 384)
        printer.print_image(image)
        printer.cut()
        printer.open_drawer(2)
        assert printer.status() is DeviceState.READY  # pyserial reads the DLE EOT replies
        serial_printer.printer.faults.paper_near_end = True
        assert printer.status() is DeviceState.PAPER_NEAR_END
        printer.close()
    (receipt,) = serial_printer.printer.receipts()
    assert (receipt.cut, receipt.image.tobytes()) == (True, image.tobytes())
    assert serial_printer.printer.drawer_pulses() == [DrawerPulse(2, 100, 100)]


def test_a_serial_port_that_does_not_exist_is_unreachable() -> None:
    printer = open_printer("serial:/dev/ttyKIOSK-absent", 384)
    assert printer.status() is DeviceState.UNREACHABLE


def test_a_bounded_virtual_printer_keeps_the_latest_ops_like_a_torn_roll() -> None:
    """The kiosk's demo printer runs for days: it keeps the newest ops, never all of them."""
    printer = VirtualPrinter(384, keep_ops=10)
    for n in range(1, 26):  # ESC p m t1 t2, t1 = n: each pulse tells which it was
        printer.write(bytes([0x1B, 0x70, 0x00, n, 50]))
    pulses = printer.drawer_pulses()
    # trimmed to the last 10 when the 21st arrived, then 22..25 added: never more than 2 × 10
    assert [p.on_ms for p in pulses] == [2 * n for n in range(12, 26)]
    assert pulses[-1] == DrawerPulse(2, 50, 100)
    assert printer.bytes_received == 25 * 5
    unbounded = VirtualPrinter(384)
    for n in range(1, 26):
        unbounded.write(bytes([0x1B, 0x70, 0x01, n, 50]))
    assert len(unbounded.drawer_pulses()) == 25


def test_the_printer_driver_loads_only_where_a_printer_is_used() -> None:
    # `kiosk run` imports the CLI (every group) and the peripherals; a terminal without a
    # printer never loads python-escpos, pyusb or pyserial: about 4 MB (docs/perf.md)
    script = (
        "import sys, kiosk.cli, kiosk.hw.peripherals, kiosk.hw.devices;"
        " print(sorted(m for m in ('escpos', 'usb', 'serial') if m in sys.modules));"
        " import kiosk.hw.print_queue; print('escpos' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["[]", "True"]
