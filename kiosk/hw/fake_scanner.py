"""A scanner that types codes like a USB HID scanner does, from a thread.

It produces the same key events a real scanner does and runs them through the
same decoder, so the demo and tests exercise the real input path.
"""

import threading
import time

from kiosk.hw.events import EventQueue, HardwareEvent, HardwareEventKind
from kiosk.hw.keymap import KeyDecoder, key_events_for


class FakeScanner:
    """Types a code as evdev key events into a KeyDecoder, then puts the result on the queue."""

    def __init__(self, queue: EventQueue, name: str = "fake-scanner") -> None:
        self._queue = queue
        self._decoder = KeyDecoder()
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
