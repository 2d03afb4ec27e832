"""Hardware: scanner, card reader, printer, drawer; each with a fake that is real code.

Hardware threads never touch widgets. They put :class:`HardwareEvent` objects on
an :class:`EventQueue`, and the app drains it from the Kivy Clock.
"""

from kiosk.hw.events import EventQueue, HardwareEvent, HardwareEventKind
from kiosk.hw.fake_scanner import FakeScanner

__all__ = ["EventQueue", "FakeScanner", "HardwareEvent", "HardwareEventKind"]
