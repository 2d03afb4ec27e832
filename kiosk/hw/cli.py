"""``kiosk hw``: find, watch and self-test the devices, for the installer at the shop.

Every message a person reads is printed in zh-CN and English. Registered under
the ``kiosk`` command as ``main.add_command(hw_group)``.
"""

import datetime as dt
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import click
import evdev

from kiosk import i18n
from kiosk.hw import input_reader
from kiosk.hw.config import HardwareConfig, HardwareConfigError, load_hw_config
from kiosk.hw.devices import readers_for
from kiosk.hw.errors import HardwareError
from kiosk.hw.events import EventQueue, HardwareEvent, HardwareEventKind
from kiosk.hw.receipt_render import render_receipt, sample_receipt
from kiosk.hw.scans import classify_scan
from kiosk.hw.status import CAN_PRINT, DeviceState, Message, status_message
from kiosk.translations import N_

DEFAULT_CONFIG = Path("/etc/kiosk/kiosk.toml")
#: udev's stable names for input devices; tests point this at a temporary directory.
BY_ID_DIR = "/dev/input/by-id"
USB_PRINTER_CLASS = 7


def both(message: Message) -> str:
    """One line with the Chinese and the English text."""
    return f"{message['zh']} / {message['en']}"


def _fail(message: Message, code: int = 1) -> NoReturn:
    click.echo(both(message), err=True)
    raise SystemExit(code)


@dataclass
class _Context:
    config_path: Path

    def config(self, required: bool = True) -> HardwareConfig:
        """The [hw] table; with ``required`` False an absent kiosk.toml means no devices."""
        if not required and not self.config_path.exists():
            return HardwareConfig()
        try:
            return load_hw_config(self.config_path)
        except HardwareConfigError as exc:
            _fail(exc.message, 2)


@click.group("hw")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    envvar="KIOSK_CONFIG",
    default=DEFAULT_CONFIG,
    show_default=True,
    help="kiosk.toml with the [hw] table.",
)
@click.pass_context
def hw_group(ctx: click.Context, config_path: Path) -> None:
    """Scanner, card reader, printer and drawer: list, watch, self-test."""
    ctx.obj = _Context(config_path)


# --- list -----------------------------------------------------------------------------


def _by_id_links() -> dict[str, list[str]]:
    links: dict[str, list[str]] = {}
    if os.path.isdir(BY_ID_DIR):
        for name in sorted(os.listdir(BY_ID_DIR)):
            target = os.path.realpath(os.path.join(BY_ID_DIR, name))
            links.setdefault(target, []).append(os.path.join(BY_ID_DIR, name))
    return links


def _role(config: HardwareConfig, device: evdev.InputDevice, links: list[str]) -> str:
    for role, wanted in (("scanner", config.scanner), ("card_reader", config.card_reader)):
        if wanted is None:
            continue
        if wanted.path is not None and (wanted.path == device.path or wanted.path in links):
            return role
        if wanted.path is None and wanted.match().matches(device):
            return role
    return "-"


def _list_inputs(config: HardwareConfig) -> None:
    click.echo(f"Input devices ({input_reader.INPUT_DIR}):")
    paths = evdev.list_devices(input_reader.INPUT_DIR)
    if not paths:
        click.echo("  " + both(i18n.bilingual("hw_no_input_devices_found")))
    links = _by_id_links()
    for path in sorted(paths):
        try:
            device = evdev.InputDevice(path)
        except OSError as exc:
            click.echo(f"  {path}  ({exc.strerror})")
            continue
        try:
            for line in describe_input(device, config, links.get(path, [])):
                click.echo(line)
        finally:
            device.close()


def describe_input(device: evdev.InputDevice, config: HardwareConfig, links: list[str]) -> list[str]:
    """Lines for one input device: path, ids, name, the role kiosk.toml gives it, by-id links."""
    info, role = device.info, _role(config, device, links)
    ids = f"{info.vendor:04x}:{info.product:04x}"
    head = f"  {os.fsdecode(device.path)}  {ids}  {device.name!r}  -> {role}"
    return [head, *(f"      {link}" for link in links)]


def usb_printers() -> list[tuple[int, int, int, int]]:
    """(vendor, product, bus, address) of every USB device with a printer interface."""
    import usb.core  # pyusb only for the commands that look at USB (see _printer_from)

    found = []
    for device in usb.core.find(find_all=True) or ():
        try:
            classes = {i.bInterfaceClass for cfg in device for i in cfg}
        except usb.core.USBError:
            classes = set()
        if USB_PRINTER_CLASS in classes or device.bDeviceClass == USB_PRINTER_CLASS:
            found.append((device.idVendor, device.idProduct, device.bus, device.address))
    return found


def _list_printers(config: HardwareConfig) -> None:
    import usb.core

    click.echo("USB printers:")
    try:
        printers = usb_printers()
    except usb.core.NoBackendError:
        printers = []
        click.echo("  " + both(i18n.bilingual("hw_libusb_not_installed")))
    if not printers:
        click.echo("  " + both(i18n.bilingual("hw_no_usb_printers_found")))
    configured = config.printer.url if config.printer else ""
    for vendor, product, bus, address in printers:
        ids = f"{vendor:04x}:{product:04x}"
        mapped = "printer" if ids in configured.replace("0x", "") else "-"
        click.echo(f"  usb:0x{vendor:04x}:0x{product:04x}  bus {bus} addr {address}  -> {mapped}")


@hw_group.command("list")
@click.pass_obj
def list_devices(obj: _Context) -> None:
    """Input devices and USB printers found, and what kiosk.toml maps them to."""
    config = obj.config(required=False)
    _list_inputs(config)
    _list_printers(config)
    click.echo("Configured:")
    for role in ("scanner", "card_reader", "printer"):
        value = getattr(config, role)
        click.echo(f"  {role}: {_describe(value) if value else '-'}")


def _describe(value: object) -> str:
    fields = value.model_dump(exclude_defaults=True)  # type: ignore[attr-defined]
    return ", ".join(f"{k}={v}" for k, v in fields.items())


# --- watch ----------------------------------------------------------------------------


def _mask_payment(code: str) -> str:
    return f"{code[:4]}{'*' * (len(code) - 8)}{code[-4:]}"


def describe_event(event: HardwareEvent) -> str:
    """One line for an installer watching the devices (payment codes are masked)."""
    if event.kind is HardwareEventKind.SCAN:
        kind = classify_scan(event.code)
        shown = _mask_payment(event.code) if kind == "payment_code" else event.code
        return f"scan    {event.source}  {shown!r}  [{kind}]"
    if event.kind is HardwareEventKind.CARD:
        return f"card    {event.source}  {event.code}"
    detail = f" ({event.detail})" if event.detail else ""
    return f"status  {event.source}  {event.code}{detail}  {both(status_message(event.code))}"


def _run_readers(config: HardwareConfig, seconds: float | None, stop_on: set) -> bool:
    queue = EventQueue()
    readers = readers_for(config, queue)
    if not readers:
        _fail(i18n.bilingual("hw_no_readers_configured"))
    for reader in readers:
        reader.start()
    deadline = None if seconds is None else time.monotonic() + seconds
    try:
        while deadline is None or time.monotonic() < deadline:
            event = queue.get(timeout=0.1)
            if event is None:
                continue
            click.echo(describe_event(event))
            if event.kind in stop_on:
                return True
    except KeyboardInterrupt:
        pass
    finally:
        for reader in readers:
            reader.stop()
    return False


@hw_group.command()
@click.option("--seconds", type=float, default=None, help="Stop after this long (default: Ctrl-C).")
@click.pass_obj
def watch(obj: _Context, seconds: float | None) -> None:
    """Print decoded scans, card taps and device changes as they arrive."""
    _run_readers(obj.config(), seconds, stop_on=set())


# --- test -----------------------------------------------------------------------------


@hw_group.group("test")
def test_group() -> None:
    """Self-tests: printer, drawer, scanner, card."""


def _printer_from(obj: _Context, url: str | None, width: int | None):
    config = obj.config(required=url is None).printer
    if url is None and config is None:
        _fail(i18n.bilingual("hw_no_printer_configured"))
    url = url or config.url  # type: ignore[union-attr]
    width = width or (config.width if config else 576)
    # the printer driver (python-escpos, pyusb, pyserial) loads for the printer commands only:
    # `kiosk run` registers this group, and a terminal must not load it before it prints
    from kiosk.hw.printer import open_printer

    try:
        return open_printer(url, width)
    except HardwareError as exc:
        _fail(exc.message, 2)


@test_group.command("printer")
@click.option("--printer", "url", default=None, help="Printer address; default from kiosk.toml.")
@click.option("--width", type=click.Choice(["384", "576"]), default=None, help="Dots per line.")
@click.option("--at", default=None, hidden=True, help="Time printed on the page (ISO).")
@click.pass_obj
def test_printer(obj: _Context, url: str | None, width: str | None, at: str | None) -> None:
    """Print a test page with Chinese text, ¥ amounts and a QR code."""
    printer = _printer_from(obj, url, int(width) if width else None)
    state = printer.status()
    click.echo(f"status: {state.value}  {both(status_message(state))}")
    if state not in CAN_PRINT:
        raise SystemExit(1)
    now = dt.datetime.fromisoformat(at) if at else dt.datetime.now().replace(microsecond=0)
    page = render_receipt(sample_receipt(now), printer.width_dots)
    try:
        printer.print_image(page)
        printer.cut()
        after = printer.status()
    except HardwareError as exc:
        _fail(exc.message)
    finally:
        printer.close()
    if after not in CAN_PRINT:
        _fail(status_message(after))
    click.echo(both(i18n.bilingual("hw_test_page_sent", width=page.width, height=page.height)))


@test_group.command("drawer")
@click.option("--printer", "url", default=None, help="Printer address; default from kiosk.toml.")
@click.option("--pin", type=click.Choice(["2", "5"]), default=None, help="Drawer kick pin.")
@click.pass_obj
def test_drawer(obj: _Context, url: str | None, pin: str | None) -> None:
    """Open the cash drawer through the printer."""
    printer = _printer_from(obj, url, None)
    configured = obj.config(required=False).printer
    kick = int(pin) if pin else (configured.drawer_pin if configured else 2)
    try:
        printer.open_drawer(kick)
        state = printer.status()  # a round trip proves the pulse reached the printer
    except HardwareError as exc:
        _fail(exc.message)
    finally:
        printer.close()
    if state is DeviceState.UNREACHABLE:
        _fail(status_message(state))
    click.echo(both(i18n.bilingual("hw_drawer_pulse_sent", kick=kick)))


def _wait_for(obj: _Context, role: str, kind: HardwareEventKind, seconds: float) -> None:
    config = obj.config()
    device = getattr(config, role)
    if device is None:
        _fail(i18n.bilingual("hw_device_not_configured", role=role))
    only = HardwareConfig(**{role: device})
    what = {"scanner": N_("hw_scan_any_barcode"), "card_reader": N_("hw_tap_a_card")}[role]
    limit = f"{seconds:g}"
    prompt = i18n.bilingual(what, seconds=limit)
    click.echo(f"{prompt['zh']}/ {prompt['en']}")  # the full-width ） already spaces the slash
    if not _run_readers(only, seconds, stop_on={kind}):
        _fail(i18n.bilingual("hw_timed_out_nothing_read"))


@test_group.command("scanner")
@click.option("--seconds", type=float, default=15.0, show_default=True)
@click.pass_obj
def test_scanner(obj: _Context, seconds: float) -> None:
    """Wait for one scan from the configured scanner and show what it decoded to."""
    _wait_for(obj, "scanner", HardwareEventKind.SCAN, seconds)


@test_group.command("card")
@click.option("--seconds", type=float, default=15.0, show_default=True)
@click.pass_obj
def test_card(obj: _Context, seconds: float) -> None:
    """Wait for one card tap on the configured reader and show the normalised UID."""
    _wait_for(obj, "card_reader", HardwareEventKind.CARD, seconds)
