"""Receipt printers: the interface the app uses, and the python-escpos driver behind it.

A printer is named in kiosk.toml by one address:

=============================  ==============================================
``usb:0x0416:0x5011``          USB vendor:product (pyusb); ``?in_ep=0x81&out_ep=0x03``
``tcp://192.168.1.50:9100``    network printer, raw port (default 9100)
``serial:/dev/ttyUSB0?baudrate=19200``  serial printer
``file:/dev/usb/lp0``          a device file (usblp kernel driver) or a plain file
``virtual:``                   the in-process :class:`VirtualPrinter` (``kiosk demo``)
=============================  ==============================================

No address falls back to another: an absent printer raises :class:`PrinterError`
with state ``unreachable``, and the print queue reports it.
"""

import copy
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import usb.core
from escpos.escpos import Escpos
from escpos.exceptions import Error as EscposError
from escpos.printer import Network, Serial
from PIL import Image

from kiosk import i18n
from kiosk.hw.errors import PrinterConfigError, PrinterError
from kiosk.hw.status import DeviceState, status_message
from kiosk.hw.virtual_printer import VirtualEscpos, VirtualPrinter

log = logging.getLogger(__name__)

WIDTHS = (384, 576)  # 58 mm and 80 mm paper at 203 dpi
DRAWER_PINS = (2, 5)
_DLE_EOT = b"\x10\x04"
_WIRE_ERRORS = (EscposError, OSError, usb.core.USBError, usb.core.NoBackendError)


class ReceiptPrinter:
    """What the kiosk asks of a receipt printer.

    Required: :meth:`print_image`, :meth:`cut`, :meth:`open_drawer`, :meth:`status`.
    Optional: :meth:`close` (default does nothing).
    Every method raises :class:`~kiosk.hw.errors.PrinterError` (with ``state`` a
    :class:`DeviceState` value and a zh/en ``message``) when the printer cannot do
    it; none of them falls back to pretending it printed.
    """

    width_dots: int = 576

    def print_image(self, image: Image.Image) -> None:
        """Print a 1-bit image at most :attr:`width_dots` wide, top to bottom."""
        raise NotImplementedError

    def cut(self) -> None:
        """Feed the printed part past the cutter and cut."""
        raise NotImplementedError

    def open_drawer(self, pin: int = 2) -> None:
        """Pulse the cash drawer connector on pin 2 or 5."""
        raise NotImplementedError

    def status(self) -> DeviceState:
        """What the printer reports now (``status_unknown`` when it cannot say)."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the connection; the next call opens it again."""


def state_from_status_bytes(printer: int, offline_cause: int, paper: int) -> DeviceState:
    """Decode the answers to ``DLE EOT 1``, ``2`` and ``4`` (Epson TM bit layout)."""
    if paper & 0x60 or offline_cause & 0x20:
        return DeviceState.PAPER_OUT
    if offline_cause & 0x04:
        return DeviceState.COVER_OPEN
    if printer & 0x08:
        return DeviceState.OFFLINE
    if paper & 0x0C:
        return DeviceState.PAPER_NEAR_END
    return DeviceState.READY


def _query(escpos: Escpos, n: int) -> bytes:
    """Send ``DLE EOT n`` and read the one-byte answer."""
    if isinstance(escpos, Serial):
        # python-escpos reads 16 bytes, so pyserial would wait out its whole timeout.
        escpos._raw(_DLE_EOT + bytes((n,)))
        return bytes(escpos.device.read(1))
    return escpos.query_status(_DLE_EOT + bytes((n,)))


def _failure(state: DeviceState, detail: str = "") -> PrinterError:
    return PrinterError(status_message(state), state.value, detail)


class EscposReceiptPrinter(ReceiptPrinter):
    """A :class:`ReceiptPrinter` on top of a python-escpos printer class.

    ``connect`` builds the python-escpos object (``Usb``, ``Network``, ``Serial``,
    ``File`` or :class:`VirtualEscpos`); it is called again after a failure, so
    an unplugged printer is reopened on the next job.
    """

    def __init__(self, connect: Callable[[], Escpos], width_dots: int = 576, name: str = "") -> None:
        if width_dots not in WIDTHS:
            raise PrinterConfigError(i18n.bilingual("hw_print_width_wrong", width_dots=width_dots))
        self._connect = connect
        self.width_dots = width_dots
        self.name = name or "printer"
        self._escpos: Escpos | None = None

    def _printer(self) -> Escpos:
        if self._escpos is None:
            try:
                escpos = self._connect()
                escpos.open()
            except _WIRE_ERRORS as exc:
                raise _failure(DeviceState.UNREACHABLE, str(exc)) from exc
            # Give python-escpos the paper width so it checks it (and stays quiet).
            escpos.profile.profile_data = copy.deepcopy(escpos.profile.profile_data)
            escpos.profile.profile_data["media"]["width"]["pixels"] = self.width_dots
            self._escpos = escpos
        return self._escpos

    def _send(self, action: Callable[[Escpos], Any]) -> Any:
        escpos = self._printer()
        try:
            return action(escpos)
        except _WIRE_ERRORS as exc:
            self.close()
            raise _failure(DeviceState.UNREACHABLE, str(exc)) from exc

    def print_image(self, image: Image.Image) -> None:
        """Send ``image`` as GS v 0 raster fragments."""
        if image.width > self.width_dots:
            raise ValueError(f"image is {image.width} dots wide; the paper is {self.width_dots}")
        self._send(lambda p: p.image(image, impl="bitImageRaster", center=False))

    def cut(self) -> None:
        """Feed six lines and cut (full cut, or partial where only that exists)."""
        self._send(lambda p: p.cut())

    def open_drawer(self, pin: int = 2) -> None:
        """Pulse drawer pin 2 or 5 (ESC p)."""
        if pin not in DRAWER_PINS:
            raise ValueError(f"the drawer pin is 2 or 5, not {pin}")
        self._send(lambda p: p.cashdraw(pin))

    def status(self) -> DeviceState:
        """Ask DLE EOT 1, 2 and 4; ``status_unknown`` if the printer does not answer.

        A printer that cannot be read back (a ``file:`` printer) is not asked at all,
        so no query bytes end up in its print stream.
        """
        try:
            escpos = self._printer()
        except PrinterError as exc:
            return DeviceState(exc.state)
        if type(escpos)._read is Escpos._read:
            return DeviceState.STATUS_UNKNOWN
        try:
            replies = self._send(lambda p: [_query(p, n) for n in (1, 2, 4)])
        except PrinterError as exc:
            if isinstance(exc.__cause__, TimeoutError):
                return DeviceState.STATUS_UNKNOWN  # connected, but it does not answer DLE EOT
            return DeviceState(exc.state)
        if not all(replies):
            if isinstance(escpos, Network):
                self.close()  # an empty read on TCP is the printer closing the connection
                return DeviceState.UNREACHABLE
            return DeviceState.STATUS_UNKNOWN
        return state_from_status_bytes(replies[0][0], replies[1][0], replies[2][0])

    def close(self) -> None:
        """Close the python-escpos connection; errors closing a dead link are ignored."""
        escpos, self._escpos = self._escpos, None
        if escpos is not None:
            try:
                escpos.close()
            except _WIRE_ERRORS as exc:
                log.info("%s: closing a broken connection: %s", self.name, exc)


def _int(text: str) -> int:
    return int(text, 0)


def _bad_address(url: str, why: str) -> PrinterConfigError:
    return PrinterConfigError(i18n.bilingual("hw_printer_url_wrong", url=url, why=why))


def escpos_connector(url: str, virtual: VirtualPrinter | None = None) -> Callable[[], Escpos]:
    """A function that builds the python-escpos printer ``url`` names (see module doc)."""
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    scheme = parts.scheme
    if scheme == "usb":
        from escpos.printer import Usb

        ids = (parts.path or parts.netloc).split(":")
        if len(ids) != 2:
            raise _bad_address(url, "usb needs vendor:product")
        vendor, product = (_int(i) for i in ids)
        eps = {k: _int(v) for k, v in query.items() if k in ("in_ep", "out_ep")}
        return lambda: Usb(vendor, product, timeout=5000, **eps)
    if scheme == "tcp":
        if not parts.hostname:
            raise _bad_address(url, "tcp needs a host")
        host, port = parts.hostname, parts.port or 9100
        return lambda: Network(host, port, timeout=float(query.get("timeout", "5")))
    if scheme == "serial":
        device = parts.path
        baud = int(query.get("baudrate", "9600"))
        return lambda: Serial(device, baudrate=baud)
    if scheme == "file":
        from escpos.printer import File

        path = parts.path
        return lambda: File(path)
    if scheme == "virtual":
        target = virtual or VirtualPrinter()
        return lambda: VirtualEscpos(target)
    raise _bad_address(url, f"unknown kind {scheme!r}")


def open_printer(
    url: str, width_dots: int = 576, virtual: VirtualPrinter | None = None
) -> EscposReceiptPrinter:
    """The :class:`ReceiptPrinter` for a kiosk.toml address; connects on first use."""
    return EscposReceiptPrinter(escpos_connector(url, virtual), width_dots, name=url)


__all__ = [
    "DRAWER_PINS",
    "WIDTHS",
    "EscposReceiptPrinter",
    "ReceiptPrinter",
    "open_printer",
    "state_from_status_bytes",
]
