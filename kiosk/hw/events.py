"""The one channel from hardware threads to the UI thread."""

import queue
from dataclasses import dataclass
from enum import StrEnum


class HardwareEventKind(StrEnum):
    """What a device reported."""

    SCAN = "scan"  # a barcode or QR payload from the scanner
    CARD = "card"  # a card UID from the card reader
    STATUS = "status"  # a device came, went, or changed state (code holds the state)


@dataclass(frozen=True)
class HardwareEvent:
    """One decoded thing a device reported, with the device it came from.

    For ``STATUS`` events ``code`` is a :class:`kiosk.hw.status.DeviceState` value and
    ``detail`` says more (the receipt number a print job was for, an errno name).
    """

    kind: HardwareEventKind
    code: str
    source: str
    detail: str = ""


class EventQueue:
    """A thread-safe FIFO of hardware events; producers never block."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[HardwareEvent] = queue.SimpleQueue()

    def put(self, event: HardwareEvent) -> None:
        """Called from any thread."""
        self._queue.put(event)

    def get(self, timeout: float) -> HardwareEvent | None:
        """Wait up to ``timeout`` seconds for one event (for CLI tools and tests, not the UI)."""
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def drain(self, limit: int = 100) -> list[HardwareEvent]:
        """Everything waiting, up to ``limit``, without blocking (called from the UI thread)."""
        events: list[HardwareEvent] = []
        while len(events) < limit:
            try:
                events.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return events
