"""The one channel from hardware threads to the UI thread."""

import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, field
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
    #: ``time.monotonic()`` when the device reported it: a bouncing trigger is judged by when the
    #: scans happened, not by when a busy UI thread got round to them
    at: float = field(default_factory=time.monotonic, compare=False)


class EventQueue:
    """A thread-safe FIFO of hardware events; producers never block.

    The consumer may set a waker (:meth:`wake_with`): a thread-safe callable run
    after every put, so the UI drains at once instead of at its next poll.
    """

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[HardwareEvent] = queue.SimpleQueue()
        self._wake: Callable[[], object] | None = None

    def wake_with(self, wake: Callable[[], object] | None) -> None:
        """Call ``wake()`` (from the producer's thread) after each event put; None stops it."""
        self._wake = wake

    def put(self, event: HardwareEvent) -> None:
        """Called from any thread."""
        self._queue.put(event)
        wake = self._wake
        if wake is not None:
            wake()

    def empty(self) -> bool:
        """Whether nothing is waiting (a consumer on the UI thread has drained everything put so far)."""
        return self._queue.empty()

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
