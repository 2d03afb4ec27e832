"""``kiosk hw`` commands through click's CliRunner, against the virtual printer.

The machine has no /dev/input: the input directory is pointed at an empty
temporary directory and the readers report the configured devices as missing.
"""

import datetime as dt
from pathlib import Path

import evdev
import pytest
from click.testing import CliRunner

from kiosk.hw import cli, input_reader
from kiosk.hw.cli import describe_event, describe_input, hw_group
from kiosk.hw.escpos_parser import DrawerPulse, EscposParser, Raster
from kiosk.hw.events import HardwareEvent, HardwareEventKind
from kiosk.hw.receipt_render import render_receipt, sample_receipt
from kiosk.hw.virtual_printer import VirtualNetworkPrinter, VirtualPrinter, stack

AT = "2026-11-24T08:30:00"
MISSING = (
    "未找到设备，请检查连接和 kiosk.toml 中的设备设置。 / "
    "Device not found. Check the cable and the device settings in kiosk.toml."
)


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(input_reader, "INPUT_DIR", str(tmp_path / "input"))
    monkeypatch.setattr(cli, "BY_ID_DIR", str(tmp_path / "input" / "by-id"))
    (tmp_path / "input").mkdir()
    path = tmp_path / "kiosk.toml"
    path.write_text(
        f"""
[hw.scanner]
path = "{tmp_path}/input/by-id/usb-Scanner-event-kbd"

[hw.card_reader]
vendor = "0xffff"
product = "0x0035"
uid_form = "hex"

[hw.printer]
url = "tcp://127.0.0.1:9"
width = 384
drawer_pin = 5
""",
        encoding="utf-8",
    )
    return path


def run(config: Path, *args: str):
    return CliRunner().invoke(hw_group, ["--config", str(config), *args])


def test_list_shows_devices_found_and_the_configuration(config: Path) -> None:
    result = run(config, "list")
    assert result.exit_code == 0, result.output
    printers = cli.usb_printers()  # none on the build machines; listed if there are
    usb_lines = [f"  usb:0x{v:04x}:0x{p:04x}  bus {b} addr {a}  -> -" for v, p, b, a in printers] or [
        "  没有找到 USB 打印机 / no USB printers found"
    ]
    assert result.output.splitlines() == [
        f"Input devices ({input_reader.INPUT_DIR}):",
        "  没有找到输入设备 / no input devices found",
        "USB printers:",
        *usb_lines,
        "Configured:",
        f"  scanner: path={config.parent}/input/by-id/usb-Scanner-event-kbd",
        "  card_reader: vendor=65535, product=53, uid_form=hex",
        "  printer: url=tcp://127.0.0.1:9, width=384, drawer_pin=5",
    ]


def test_test_printer_prints_the_test_page_over_tcp(config: Path) -> None:
    with VirtualNetworkPrinter(VirtualPrinter(384)) as server:
        result = run(config, "test", "printer", "--printer", server.url, "--at", AT)
    assert result.exit_code == 0, result.output
    expected = render_receipt(sample_receipt(dt.datetime.fromisoformat(AT)), 384)
    assert result.output.splitlines() == [
        "status: ready  打印机就绪。 / Printer ready.",
        f"测试页已发送（384×{expected.height} 点）。 / Test page sent (384x{expected.height} dots).",
    ]
    (receipt,) = server.printer.receipts()
    assert receipt.cut is True
    assert receipt.image.tobytes() == expected.tobytes()


def test_test_printer_to_a_file_at_80_mm(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "lp0"
    result = run(config, "test", "printer", "--printer", f"file:{out}", "--width", "576", "--at", AT)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        "status: status_unknown  打印机不回报状态，无法检测缺纸。 / "
        "The printer does not report its status, so paper-out cannot be detected."
    )
    rasters = [op for op in EscposParser().feed(out.read_bytes()) if isinstance(op, Raster)]
    expected = render_receipt(sample_receipt(dt.datetime.fromisoformat(AT)), 576)
    assert stack([r.image for r in rasters]).tobytes() == expected.tobytes()


def test_test_printer_with_paper_out_fails_visibly(config: Path) -> None:
    virtual = VirtualPrinter(384)
    virtual.faults.paper_out = True
    with VirtualNetworkPrinter(virtual) as server:
        result = run(config, "test", "printer", "--printer", server.url)
    assert result.exit_code == 1
    assert result.output.startswith("status: paper_out  打印机缺纸")
    assert virtual.receipts() == []


def test_test_printer_with_no_printer_listening_fails_visibly(config: Path) -> None:
    result = run(config, "test", "printer")  # kiosk.toml points at port 9: nothing there
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "status: unreachable  无法连接打印机，小票已保存，恢复后自动补打。 / "
        "Cannot reach the printer. The receipt is saved and prints when it is back."
    ]


def test_test_drawer_pulses_the_configured_pin(config: Path) -> None:
    with VirtualNetworkPrinter(VirtualPrinter(384)) as server:
        result = run(config, "test", "drawer", "--printer", server.url)
    assert result.exit_code == 0, result.output
    assert result.output == "已向钱箱 5 号针脚发送脉冲。 / Drawer pulse sent on pin 5.\n"
    assert server.printer.drawer_pulses() == [DrawerPulse(5, 100, 100)]


def test_watch_reports_missing_devices(config: Path) -> None:
    result = run(config, "watch", "--seconds", "0.3")
    assert result.exit_code == 0, result.output
    assert sorted(result.output.splitlines()) == [
        f"status  card_reader  missing (ENOENT)  {MISSING}",
        f"status  scanner  missing (ENOENT)  {MISSING}",
    ]


def test_test_scanner_times_out_when_nothing_is_scanned(config: Path) -> None:
    result = run(config, "test", "scanner", "--seconds", "0.3")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "请扫描任意条码（0.3 秒内）/ Scan any barcode (within 0.3 s)",
        f"status  scanner  missing (ENOENT)  {MISSING}",
        "超时，没有收到数据。 / Timed out: nothing was read.",
    ]


def test_a_typo_in_kiosk_toml_names_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "kiosk.toml"
    bad.write_text('[hw.printer]\nurl = "usb:0x0416:0x5011"\nwidht = 384\n', encoding="utf-8")
    result = run(bad, "test", "printer")
    assert result.exit_code == 2
    assert "hw.printer.widht" in result.output


def test_test_card_without_a_card_reader_configured(tmp_path: Path) -> None:
    empty = tmp_path / "kiosk.toml"
    empty.write_text("[hw]\n", encoding="utf-8")
    result = run(empty, "test", "card")
    assert result.exit_code == 1
    assert result.output == "kiosk.toml 中没有配置 card_reader。 / No card_reader in kiosk.toml.\n"


@pytest.mark.parametrize(
    ("event", "line"),
    [
        (
            HardwareEvent(HardwareEventKind.SCAN, "134567890123456789", "scanner"),
            "scan    scanner  '1345**********6789'  [payment_code]",
        ),
        (
            HardwareEvent(HardwareEventKind.SCAN, "4006381333931", "scanner"),
            "scan    scanner  '4006381333931'  [ean]",
        ),
        (
            HardwareEvent(HardwareEventKind.CARD, "0012345678", "card_reader"),
            "card    card_reader  0012345678",
        ),
    ],
)
def test_watch_lines_mask_payment_codes(event: HardwareEvent, line: str) -> None:
    assert describe_event(event) == line


class KernelDevice:
    """What evdev.InputDevice exposes for a device (no /dev/input on this machine)."""

    def __init__(self, path: str, name: str, vendor: int, product: int) -> None:
        self.path, self.name = path, name
        self.info = evdev.device.DeviceInfo(bustype=3, vendor=vendor, product=product, version=1)


def test_list_lines_map_devices_to_their_roles(config: Path) -> None:
    from kiosk.hw.config import load_hw_config

    hw = load_hw_config(config)
    scanner_link = f"{config.parent}/input/by-id/usb-Scanner-event-kbd"
    scanner = KernelDevice("/dev/input/event3", "Honeywell 1900", 0x0C2E, 0x0B61)
    card = KernelDevice("/dev/input/event4", "RFID Reader", 0xFFFF, 0x0035)
    other = KernelDevice("/dev/input/event0", "Power Button", 0, 1)
    assert describe_input(scanner, hw, [scanner_link]) == [
        "  /dev/input/event3  0c2e:0b61  'Honeywell 1900'  -> scanner",
        f"      {scanner_link}",
    ]
    assert describe_input(card, hw, []) == ["  /dev/input/event4  ffff:0035  'RFID Reader'  -> card_reader"]
    assert describe_input(other, hw, []) == ["  /dev/input/event0  0000:0001  'Power Button'  -> -"]
