"""A receipt printer made of code: ESC/POS bytes in, printed operations and status bytes out.

:class:`VirtualPrinter` parses everything written to it with the real byte
protocol, answers ``DLE EOT`` status queries with the bits a real printer sends,
and has switchable faults: paper out, paper near end, cover open, unplugged
mid-job, slow. :class:`VirtualEscpos` connects it in-process to python-escpos,
and :class:`VirtualNetworkPrinter` serves it on a TCP port on 127.0.0.1 so the
real python-escpos ``Network`` driver talks to it as to a printer on port 9100.
"""

import errno
import logging
import os
import select
import socket
import threading
import time
from dataclasses import dataclass, field

from escpos.escpos import Escpos
from PIL import Image

from kiosk.hw.escpos_parser import (
    Cut,
    DrawerPulse,
    EscposParser,
    LineFeed,
    Op,
    Raster,
    StatusQuery,
    Text,
)

log = logging.getLogger(__name__)

_FIXED_BITS = 0x12  # bits 1 and 4 are always set in a real-time status byte
_PRINTING_OPS = (Raster, Text, LineFeed, Cut)


@dataclass
class Faults:
    """Switchable faults; change them at any time, from any thread."""

    paper_out: bool = False
    paper_near_end: bool = False
    cover_open: bool = False
    unplug_after_bytes: int | None = None  # accept this many more bytes, then vanish
    seconds_per_kib: float = 0.0  # a slow printer (or a slow link)


@dataclass
class Receipt:
    """What came out between two cuts: the raster images stacked, and whether it was cut."""

    image: Image.Image | None
    cut: bool
    text: bytes = b""


@dataclass
class VirtualPrinter:
    """An ESC/POS printer of ``width_dots`` dots that records what it printed."""

    width_dots: int = 576
    faults: Faults = field(default_factory=Faults)
    ops: list[Op] = field(default_factory=list)
    discarded: list[Op] = field(default_factory=list)  # sent while it could not print
    unplugged: bool = False
    bytes_received: int = 0
    # None: keep everything (tests read it all back). A number: keep at least the last ``keep_ops``
    # ops, as paper is torn off a real roll; the kiosk's demo printer runs for days (docs/perf.md)
    keep_ops: int | None = None

    def __post_init__(self) -> None:
        self._parser = EscposParser()
        self._replies = bytearray()
        self._lock = threading.Lock()

    def write(self, data: bytes) -> None:
        """Receive bytes; raises OSError(ENODEV) once unplugged."""
        if self.faults.seconds_per_kib:
            time.sleep(self.faults.seconds_per_kib * len(data) / 1024)
        with self._lock:
            if self.unplugged:
                raise OSError(errno.ENODEV, "virtual printer unplugged")
            limit = self.faults.unplug_after_bytes
            if limit is not None and len(data) > limit:
                self._accept(data[:limit])
                self.unplugged = True
                self.faults.unplug_after_bytes = None
                raise OSError(errno.ENODEV, "virtual printer unplugged mid-job")
            if limit is not None:
                self.faults.unplug_after_bytes = limit - len(data)
            self._accept(data)

    def read(self, size: int = 16) -> bytes:
        """Status bytes the printer has to send back (empty when none)."""
        with self._lock:
            reply = bytes(self._replies[:size])
            del self._replies[:size]
            return reply

    def plug_in(self) -> None:
        """The printer is connected again (after an unplug fault)."""
        with self._lock:
            self.unplugged = False
            self._parser = EscposParser()  # a power cycle forgets a half-received command

    def _accept(self, data: bytes) -> None:
        self.bytes_received += len(data)
        for op in self._parser.feed(data):
            if isinstance(op, StatusQuery):
                self._replies.append(self.status_byte(op.n))
            elif isinstance(op, _PRINTING_OPS) and not self.can_print:
                self.discarded.append(op)
            else:
                self.ops.append(op)
        if self.keep_ops is not None:  # trimmed in halves, so a long run costs O(1) per op
            for kept in (self.ops, self.discarded):
                if len(kept) > 2 * self.keep_ops:
                    del kept[: -self.keep_ops]

    @property
    def can_print(self) -> bool:
        """False while paper is out or the cover is open."""
        return not (self.faults.paper_out or self.faults.cover_open)

    def status_byte(self, n: int) -> int:
        """The answer to ``DLE EOT n`` (Epson TM series bit layout)."""
        f = self.faults
        bits = {
            1: 0x08 if not self.can_print else 0,  # offline
            2: (0x04 if f.cover_open else 0) | (0x20 if f.paper_out else 0),
            3: 0,  # no auto-cutter or unrecoverable errors
            4: (0x0C if f.paper_near_end else 0) | (0x60 if f.paper_out else 0),
        }.get(n, 0)
        return _FIXED_BITS | bits

    def images(self) -> list[Image.Image]:
        """Every raster image printed, in order."""
        return [op.image for op in self.ops if isinstance(op, Raster)]

    def drawer_pulses(self) -> list[DrawerPulse]:
        """Every cash drawer pulse, in order."""
        return [op for op in self.ops if isinstance(op, DrawerPulse)]

    def receipts(self) -> list[Receipt]:
        """The printed output split at each cut; raster fragments stacked into one image."""
        receipts: list[Receipt] = []
        images: list[Image.Image] = []
        text = bytearray()
        for op in self.ops:
            if isinstance(op, Raster):
                images.append(op.image)
            elif isinstance(op, Text):
                text += op.data
            elif isinstance(op, LineFeed):
                text += b"\n"
            elif isinstance(op, Cut):
                receipts.append(Receipt(stack(images), True, bytes(text)))
                images, text = [], bytearray()
        if images or text:
            receipts.append(Receipt(stack(images), False, bytes(text)))
        return receipts


def stack(images: list[Image.Image]) -> Image.Image | None:
    """Images one under the other, as they come out of the printer."""
    if not images:
        return None
    out = Image.new("1", (max(i.width for i in images), sum(i.height for i in images)), 255)
    top = 0
    for image in images:
        out.paste(image, (0, top))
        top += image.height
    return out


class VirtualEscpos(Escpos):
    """A python-escpos printer whose wire is a :class:`VirtualPrinter` in the same process."""

    def __init__(self, printer: VirtualPrinter, **kwargs: object) -> None:
        Escpos.__init__(self, **kwargs)
        self.printer = printer
        self._device = printer

    def open(self) -> None:
        """Connecting fails like a USB open when the virtual printer is unplugged."""
        if self.printer.unplugged:
            raise OSError(errno.ENODEV, "virtual printer unplugged")
        self._device = self.printer

    def _raw(self, msg: bytes) -> None:
        self.printer.write(msg)

    def _read(self) -> bytes:
        return self.printer.read()

    def close(self) -> None:
        """Nothing to release."""


class VirtualNetworkPrinter:
    """Serves a :class:`VirtualPrinter` on ``127.0.0.1:port`` like a printer's raw port 9100.

    Unplug faults close the connection mid-job; while unplugged, connections are
    refused by closing them at once. Use as a context manager.
    """

    def __init__(self, printer: VirtualPrinter | None = None, port: int = 0) -> None:
        self.printer = printer or VirtualPrinter()
        self._server = socket.create_server(("127.0.0.1", port))
        self._server.settimeout(0.1)
        self.port: int = self._server.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="virtual-printer", daemon=True)
        self.connections = 0

    @property
    def url(self) -> str:
        """The printer address in kiosk.toml form."""
        return f"tcp://127.0.0.1:{self.port}"

    def start(self) -> "VirtualNetworkPrinter":
        """Start accepting connections in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the port."""
        self._stop.set()
        self._thread.join(2)
        self._server.close()

    def __enter__(self) -> "VirtualNetworkPrinter":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            self.connections += 1
            with conn:
                self._handle(conn)

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(0.1)
        while not self._stop.is_set() and not self.printer.unplugged:
            try:
                data = conn.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            try:
                self.printer.write(data)
            except OSError:
                return  # unplugged mid-job: the connection drops like a pulled cable
            reply = self.printer.read()
            if reply:
                conn.sendall(reply)


class VirtualSerialPrinter:
    """Serves a :class:`VirtualPrinter` on a pseudo-terminal: ``serial:{path}`` reaches it.

    Use as a context manager; :attr:`url` is the printer address for kiosk.toml.
    """

    def __init__(self, printer: VirtualPrinter | None = None) -> None:
        self.printer = printer or VirtualPrinter()
        self._master, self._slave = os.openpty()
        self.path = os.ttyname(self._slave)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="virtual-serial", daemon=True)

    @property
    def url(self) -> str:
        """The printer address in kiosk.toml form."""
        return f"serial:{self.path}?baudrate=115200"

    def __enter__(self) -> "VirtualSerialPrinter":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(2)
        os.close(self._master)
        os.close(self._slave)

    def _serve(self) -> None:
        while not self._stop.is_set():
            readable, _, _ = select.select([self._master], [], [], 0.05)
            if not readable:
                continue
            try:
                data = os.read(self._master, 65536)
                self.printer.write(data)
            except OSError:
                continue  # unplugged: the bytes are lost, as on a pulled cable
            reply = self.printer.read()
            if reply:
                os.write(self._master, reply)
