"""Hardware: scanner, card reader, printer, drawer; each with a fake that is real code.

Hardware threads never touch widgets. They put :class:`HardwareEvent` objects on
an :class:`EventQueue`, and the app drains it from the Kivy Clock. Kivy is never
imported here.
"""

from kiosk.hw.card import CardDebouncer, normalise_uid
from kiosk.hw.errors import HardwareError, PrinterError
from kiosk.hw.events import EventQueue, HardwareEvent, HardwareEventKind
from kiosk.hw.fake_scanner import FakeCardReader, FakeScanner
from kiosk.hw.scans import classify_scan
from kiosk.hw.status import DeviceState, status_message

__all__ = [
    "CardDebouncer",
    "DeviceState",
    "EventQueue",
    "FakeCardReader",
    "FakeScanner",
    "HardwareError",
    "HardwareEvent",
    "HardwareEventKind",
    "PrinterError",
    "classify_scan",
    "normalise_uid",
    "status_message",
]
