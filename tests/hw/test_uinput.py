"""The reader through a real kernel input device, where the machine has /dev/uinput.

The build machines have neither /dev/input nor /dev/uinput, so there this test
is skipped with that reason and the in-process tests in test_input_reader.py
(real ``evdev.InputEvent`` objects through an injected device source) carry the
coverage. On a Pi or a CI runner with uinput it runs for real.
"""

import os
import time

import pytest
from evdev import UInput, ecodes

from kiosk.hw.events import EventQueue, HardwareEventKind
from kiosk.hw.input_reader import EvdevSource, InputReader
from kiosk.hw.keymap import key_events_for


@pytest.mark.skipif(
    not os.path.exists("/dev/uinput"),
    reason="no /dev/uinput on this machine: in-process evdev events are used instead",
)
def test_scan_through_a_real_uinput_keyboard() -> None:
    keys = [ecodes.KEY_ENTER, ecodes.KEY_LEFTSHIFT, *range(ecodes.KEY_1, ecodes.KEY_0 + 1)]
    with UInput({ecodes.EV_KEY: keys}, name="kiosk-test-scanner") as device:
        time.sleep(0.2)  # let udev create the node
        queue = EventQueue()
        reader = InputReader("uinput", "scanner", queue, lambda: EvdevSource(device.device.path))
        reader.start()
        try:
            assert queue.get(timeout=2).code == "connected"
            for event in key_events_for("1234567890"):
                device.write(event.type, event.code, event.value)
            event = queue.get(timeout=2)
        finally:
            reader.stop()
    assert (event.kind, event.code) == (HardwareEventKind.SCAN, "1234567890")
