"""A scanner and a card reader that type like USB HID devices do, for tests and the demo.

They produce the same key events a real device does and run them through the
same decoder (and, for cards, the same UID normalisation and debounce), so the
demo and tests exercise the real input path.
"""

import threading
import time

from kiosk.hw.card import CardDebouncer, normalise_uid
from kiosk.hw.events import EventQueue, HardwareEvent, HardwareEventKind
from kiosk.hw.input_reader import CardSettings
from kiosk.hw.keymap import KeyDecoder, key_events_for


class FakeScanner:
    """Types a code as evdev key events into a KeyDecoder, then puts the result on the queue."""

    def __init__(self, queue: EventQueue, name: str = "fake-scanner") -> None:
        self._queue = queue
        self._decoder = KeyDecoder(name=name)
        self.name = name

    def scan(self, code: str) -> None:
        """Type ``code`` followed by Enter, synchronously, on the caller's thread."""
        for event in key_events_for(code, at=time.time()):
            decoded = self._decoder.feed(event)
            if decoded is not None:
                self._queue.put(HardwareEvent(HardwareEventKind.SCAN, decoded, self.name))

    def scan_later(self, code: str, delay: float = 0.0) -> threading.Thread:
        """Type ``code`` from a background thread after ``delay`` seconds."""

        def run() -> None:
            time.sleep(delay)
            self.scan(code)

        thread = threading.Thread(target=run, name=f"{self.name}-typing", daemon=True)
        thread.start()
        return thread


class FakeCardReader:
    """Types a card UID like a keyboard-wedge reader; normalises and debounces like the real one."""

    def __init__(
        self, queue: EventQueue, settings: CardSettings | None = None, name: str = "fake-card"
    ) -> None:
        self._queue = queue
        self._settings = settings or CardSettings()
        self._decoder = KeyDecoder(name=name)
        self._debouncer = CardDebouncer(self._settings.debounce)
        self.name = name

    def tap(self, typed: str, at: float | None = None) -> None:
        """The reader types ``typed`` (e.g. ``0012345678``) at time ``at`` (default now)."""
        s = self._settings
        for event in key_events_for(typed, at=time.time() if at is None else at):
            decoded = self._decoder.feed(event)
            if decoded is None:
                continue
            uid = normalise_uid(decoded, s.form, s.reader_format, s.reverse_bytes)
            if self._debouncer.is_new_tap(uid, event.timestamp()):
                self._queue.put(HardwareEvent(HardwareEventKind.CARD, uid, self.name))
