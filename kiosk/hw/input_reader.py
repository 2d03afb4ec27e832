"""Reader threads for keyboard-wedge scanners and card readers (evdev).

One :class:`InputReader` thread per device: it opens the device (by its stable
``/dev/input/by-id/`` path, or by name / vendor / product), grabs it so its
keystrokes never reach the UI, decodes keys with the device's own
:class:`~kiosk.hw.keymap.KeyDecoder` and puts :class:`HardwareEvent` objects on
the :class:`EventQueue`. It never touches widgets.

Unplug: a read fails with ``ENODEV``; the reader reports ``disconnected``,
closes the device and tries to open it again with a growing delay (capped), so
it never busy-loops. When the udev symlink reappears the next attempt opens it
and the reader reports ``connected``. The device source is injectable so tests
can drive the reader with real ``evdev.InputEvent`` objects without a kernel
device.
"""

import contextlib
import errno
import logging
import os
import select
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

import evdev
from evdev import InputEvent

from kiosk.hw.card import CardDebouncer, ReaderFormat, UidForm, normalise_uid
from kiosk.hw.errors import CardFormatError
from kiosk.hw.events import EventQueue, HardwareEvent, HardwareEventKind
from kiosk.hw.keymap import DecoderSettings, KeyDecoder
from kiosk.hw.status import DeviceState

log = logging.getLogger(__name__)

#: Where the kernel's input devices live; tests point this at a temporary directory.
INPUT_DIR = "/dev/input"

Role = Literal["scanner", "card"]


class InputSource(Protocol):
    """An open input device that yields key events.

    ``read_events`` waits at most ``timeout`` seconds and returns the events read
    (an empty list when none arrived). It raises ``OSError`` (``ENODEV``) when
    the device is unplugged.
    """

    def read_events(self, timeout: float) -> list[InputEvent]:
        """Events that arrived within ``timeout`` seconds."""
        ...

    def close(self) -> None:
        """Release the grab and the file descriptor; safe after an unplug."""
        ...


class EvdevSource:
    """A real kernel input device, grabbed for exclusive use."""

    def __init__(self, path: str) -> None:
        self.device = evdev.InputDevice(path)
        try:
            self.device.grab()
        except OSError:
            self.device.close()
            raise

    def read_events(self, timeout: float) -> list[InputEvent]:
        """Wait for the device to be readable, then read everything it has."""
        readable, _, _ = select.select([self.device.fd], [], [], timeout)
        if not readable:
            return []
        try:
            return list(self.device.read())
        except BlockingIOError:
            return []

    def close(self) -> None:
        """Ungrab and close; an unplugged device cannot be ungrabbed, which is fine."""
        with contextlib.suppress(OSError):  # ENODEV after an unplug: the grab died with it
            self.device.ungrab()
        self.device.close()


@dataclass(frozen=True)
class DeviceMatch:
    """How kiosk.toml names a device: a by-id path, or name / vendor / product."""

    path: str | None = None
    name: str | None = None
    vendor: int | None = None
    product: int | None = None

    def matches(self, device: evdev.InputDevice) -> bool:
        """True when ``device`` has every property this match names."""
        return (
            (self.name is None or device.name == self.name)
            and (self.vendor is None or device.info.vendor == self.vendor)
            and (self.product is None or device.info.product == self.product)
        )


def find_device_path(match: DeviceMatch, input_dir: str | None = None) -> str | None:
    """The event device path for ``match``, or None when it is not plugged in."""
    if match.path is not None:
        return match.path if os.path.exists(match.path) else None
    for path in evdev.list_devices(input_dir or INPUT_DIR):
        try:
            device = evdev.InputDevice(path)
        except OSError:
            continue  # vanished or not ours to open; others may still match
        try:
            if match.matches(device):
                return path
        finally:
            device.close()
    return None


def open_evdev(match: DeviceMatch) -> EvdevSource:
    """Open and grab the device ``match`` names; FileNotFoundError when absent."""
    path = find_device_path(match)
    if path is None:
        raise FileNotFoundError(errno.ENOENT, "no input device matches", str(match))
    return EvdevSource(path)


@dataclass(frozen=True)
class CardSettings:
    """How a card reader types UIDs and how the kiosk stores them."""

    form: UidForm = "dec10"
    reader_format: ReaderFormat = "auto"
    reverse_bytes: bool = False
    debounce: float = 1.5


class InputReader(threading.Thread):
    """Reads one scanner or card reader until :meth:`stop`; survives unplug and replug."""

    def __init__(
        self,
        name: str,
        role: Role,
        queue: EventQueue,
        open_source: Callable[[], InputSource],
        decoder: DecoderSettings | None = None,
        card: CardSettings | None = None,
        backoff: tuple[float, float] = (0.2, 2.0),
        read_timeout: float = 0.25,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(name=f"hw-{name}", daemon=True)
        self.device_name = name
        self.role = role
        self._queue = queue
        self._open_source = open_source
        self._decoder_settings = decoder or DecoderSettings()
        self._card = card or CardSettings()
        self._debouncer = CardDebouncer(self._card.debounce)
        self._backoff = backoff
        self._read_timeout = read_timeout
        self._clock = clock
        self._stop_requested = threading.Event()
        self._state: DeviceState | None = None
        self._ever_connected = False
        self.open_attempts = 0

    def stop(self, timeout: float = 2.0) -> None:
        """Ask the thread to finish and wait for it."""
        self._stop_requested.set()
        if self.is_alive():
            self.join(timeout)

    def run(self) -> None:
        """Open, read, and on failure wait (with backoff) and open again."""
        delay = self._backoff[0]
        while not self._stop_requested.is_set():
            source = self._try_open()
            if source is None:
                self._stop_requested.wait(delay)
                delay = min(delay * 2, self._backoff[1])
                continue
            delay = self._backoff[0]
            self._ever_connected = True
            self._report(DeviceState.CONNECTED)
            try:
                self._pump(source)
            except OSError as exc:
                self._report(DeviceState.DISCONNECTED, errno.errorcode.get(exc.errno or 0, ""))
            except Exception as exc:
                # Whatever broke, the reader must live on: report it and reopen the device.
                log.exception("%s: reader failed", self.device_name)
                self._report(DeviceState.DISCONNECTED, type(exc).__name__)
            finally:
                source.close()
            self._stop_requested.wait(self._backoff[0])

    def _try_open(self) -> InputSource | None:
        self.open_attempts += 1
        try:
            return self._open_source()
        except PermissionError as exc:
            self._report(DeviceState.NO_PERMISSION, str(exc.filename or ""))
        except OSError as exc:
            absent = DeviceState.DISCONNECTED if self._ever_connected else DeviceState.MISSING
            if exc.errno == errno.EBUSY:  # another process grabbed it (EVIOCGRAB)
                absent = DeviceState.BUSY
            self._report(absent, errno.errorcode.get(exc.errno or 0, ""))
        return None

    def _pump(self, source: InputSource) -> None:
        decoder = KeyDecoder(self._decoder_settings, name=self.device_name)
        while not self._stop_requested.is_set():
            events = source.read_events(self._read_timeout)
            if not events:
                decoder.expire(self._clock())
            for event in events:
                code = decoder.feed(event)
                if code is not None:
                    self._emit(code, event.timestamp())

    def _emit(self, code: str, at: float) -> None:
        if self.role == "scanner":
            self._queue.put(HardwareEvent(HardwareEventKind.SCAN, code, self.device_name))
            return
        card = self._card
        try:
            uid = normalise_uid(code, card.form, card.reader_format, card.reverse_bytes)
        except CardFormatError as exc:
            log.warning("%s: %s", self.device_name, exc)
            return
        if self._debouncer.is_new_tap(uid, at):
            self._queue.put(HardwareEvent(HardwareEventKind.CARD, uid, self.device_name))

    def _report(self, state: DeviceState, detail: str = "") -> None:
        if state is self._state:
            return  # report changes only: a missing device is not news every retry
        self._state = state
        log.info("%s: %s %s", self.device_name, state.value, detail)
        self._queue.put(HardwareEvent(HardwareEventKind.STATUS, state.value, self.device_name, detail))
