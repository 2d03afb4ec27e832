"""The evdev reader thread: decoding, unplug (ENODEV), backoff and replug.

This machine has no /dev/input and no /dev/uinput, so the reader is driven
through its injectable device source with real ``evdev.InputEvent`` objects
built in process (exactly what ``InputDevice.read()`` returns). A source that
raises ``OSError(ENODEV)`` mid-read stands in for pulling the USB plug.
tests/hw/test_uinput.py repeats the path through a real kernel device where
/dev/uinput exists.
"""

import errno
import itertools
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from evdev import InputEvent

from kiosk.hw import input_reader
from kiosk.hw.events import EventQueue, HardwareEvent, HardwareEventKind
from kiosk.hw.input_reader import (
    CardSettings,
    DeviceMatch,
    InputReader,
    find_device_path,
    open_evdev,
)
from kiosk.hw.keymap import DecoderSettings, key_events_for

SCAN, CARD, STATUS = HardwareEventKind.SCAN, HardwareEventKind.CARD, HardwareEventKind.STATUS


class ScriptedDevice:
    """A plugged-in device whose reads return batches from a script.

    Each step is a list of events (one ``read()``) or an exception to raise.
    When the script is used up the device is idle: reads wait and return nothing.
    """

    def __init__(self, steps: list[list[InputEvent] | BaseException]) -> None:
        self.steps = list(steps)
        self.closed = threading.Event()

    def read_events(self, timeout: float) -> list[InputEvent]:
        if not self.steps:
            time.sleep(timeout)
            return []
        step = self.steps.pop(0)
        if isinstance(step, BaseException):
            raise step
        return step

    def close(self) -> None:
        self.closed.set()


def unplugged() -> OSError:
    return OSError(errno.ENODEV, "No such device")


def collect(queue: EventQueue, until: Callable[[list[HardwareEvent]], bool]) -> list:
    events: list[HardwareEvent] = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not until(events):
        event = queue.get(timeout=0.05)
        if event is not None:
            events.append(event)
    return [(e.kind, e.code) for e in events]


def start(reader: InputReader) -> InputReader:
    reader.start()
    return reader


def test_scans_are_decoded_and_put_on_the_queue() -> None:
    queue = EventQueue()
    events = list(key_events_for("6901234567892", at=1.0, spacing=0.002))
    device = ScriptedDevice([events[:7], events[7:]])  # a partial read splits a code
    reader = start(InputReader("scanner", "scanner", queue, lambda: device, read_timeout=0.01))
    try:
        got = collect(queue, lambda seen: len(seen) == 2)
    finally:
        reader.stop()
    assert got == [(STATUS, "connected"), (SCAN, "6901234567892")]
    assert device.closed.is_set()


def test_unplug_mid_read_reports_disconnected_and_replug_resumes() -> None:
    queue = EventQueue()
    first = list(key_events_for("111", at=1.0))
    half = list(key_events_for("222", at=2.0))[:6]
    second = list(key_events_for("333", at=3.0))
    outcomes: list = [
        ScriptedDevice([first, half, unplugged()]),
        FileNotFoundError(errno.ENOENT, "gone"),
        FileNotFoundError(errno.ENOENT, "gone"),
        ScriptedDevice([second]),
    ]

    def open_source():
        outcome = outcomes.pop(0) if len(outcomes) > 1 else outcomes[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    reader = InputReader("scanner", "scanner", queue, open_source, backoff=(0.01, 0.04), read_timeout=0.01)
    start(reader)
    try:
        got = collect(queue, lambda seen: len(seen) == 5)
    finally:
        reader.stop()
    # The half-typed "222" dies with the device; it never glues onto "333".
    assert got == [
        (STATUS, "connected"),
        (SCAN, "111"),
        (STATUS, "disconnected"),
        (STATUS, "connected"),
        (SCAN, "333"),
    ]
    assert reader.open_attempts == 4


def test_a_missing_device_is_reported_once_and_retried_with_backoff_not_a_busy_loop() -> None:
    queue = EventQueue()
    attempts: list[float] = []

    def absent():
        attempts.append(time.monotonic())
        raise FileNotFoundError(errno.ENOENT, "no such device")

    reader = start(InputReader("card", "card", queue, absent, backoff=(0.02, 0.08)))
    time.sleep(0.5)
    reader.stop()
    assert [(e.kind, e.code, e.detail) for e in queue.drain()] == [(STATUS, "missing", "ENOENT")]
    # Delays 0.02, 0.04, 0.08, 0.08, ...: about 8 attempts in 0.5 s, never hundreds.
    assert 4 <= len(attempts) <= 10
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    assert min(gaps[2:]) >= 0.07


def test_no_permission_is_a_visible_status() -> None:
    queue = EventQueue()

    def forbidden():
        raise PermissionError(errno.EACCES, "Permission denied", "/dev/input/event3")

    reader = start(InputReader("scanner", "scanner", queue, forbidden, backoff=(0.05, 0.05)))
    time.sleep(0.15)
    reader.stop()
    assert [(e.code, e.detail) for e in queue.drain()] == [("no_permission", "/dev/input/event3")]


def test_reader_reopens_when_the_by_id_path_reappears(tmp_path: Path) -> None:
    by_id = tmp_path / "by-id"
    by_id.mkdir()
    link = by_id / "usb-Honeywell_Scanner-event-kbd"
    queue = EventQueue()

    def open_source():
        if not link.exists():
            raise FileNotFoundError(errno.ENOENT, "not plugged", str(link))
        return ScriptedDevice([list(key_events_for(link.read_text(), at=9.0))])

    reader = start(InputReader("scanner", "scanner", queue, open_source, backoff=(0.02, 0.05)))
    try:
        assert collect(queue, lambda seen: len(seen) == 1) == [(STATUS, "missing")]
        link.write_text("4006381333931")  # udev creates the symlink: the scanner is plugged in
        got = collect(queue, lambda seen: len(seen) == 2)
    finally:
        reader.stop()
    assert got == [(STATUS, "connected"), (SCAN, "4006381333931")]


def test_card_reader_normalises_uids_and_debounces_by_event_time() -> None:
    queue = EventQueue()
    reads = [
        list(key_events_for("00bc614e", at=10.0)),  # hex from the reader
        list(key_events_for("00BC614E", at=10.8)),  # same card still on the reader
        list(key_events_for("zz", at=11.0)),  # garbled read: logged, not a tap
        list(key_events_for("00bc614e", at=12.4)),  # 1.6 s after the last read: new tap
    ]
    reader = InputReader(
        "card",
        "card",
        queue,
        lambda: ScriptedDevice(reads),
        card=CardSettings(form="dec10", reader_format="hex"),
        read_timeout=0.01,
    )
    start(reader)
    try:
        got = collect(queue, lambda seen: len(seen) == 3)
    finally:
        reader.stop()
    assert got == [(STATUS, "connected"), (CARD, "0012345678"), (CARD, "0012345678")]


def test_idle_reader_drops_an_incomplete_code_after_the_gap() -> None:
    queue = EventQueue()
    partial = list(key_events_for("123", at=50.0))[:-4]  # no Enter ever comes
    now = [50.0]
    # "9" is typed within the gap of "123" by event time: only the idle clock check can
    # separate them (without it the result would be "1239").
    device = ScriptedDevice([partial, [], [], list(key_events_for("9", at=50.01))])

    def clock() -> float:
        now[0] += 0.1
        return now[0]

    reader = InputReader(
        "scanner",
        "scanner",
        queue,
        lambda: device,
        decoder=DecoderSettings(gap=0.15),
        read_timeout=0.01,
        clock=clock,
    )
    start(reader)
    try:
        got = collect(queue, lambda seen: len(seen) == 2)
    finally:
        reader.stop()
    assert got == [(STATUS, "connected"), (SCAN, "9")]


def test_find_device_path_by_id_path(tmp_path: Path) -> None:
    link = tmp_path / "usb-Scanner-event-kbd"
    assert find_device_path(DeviceMatch(path=str(link))) is None
    link.write_bytes(b"")
    assert find_device_path(DeviceMatch(path=str(link))) == str(link)


def test_find_device_by_name_with_no_input_devices_is_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(input_reader, "INPUT_DIR", str(tmp_path))
    assert find_device_path(DeviceMatch(name="Honeywell", vendor=0x0C2E)) is None
    with pytest.raises(FileNotFoundError):
        open_evdev(DeviceMatch(name="Honeywell"))


def test_an_unexpected_error_is_reported_and_the_reader_carries_on() -> None:
    queue = EventQueue()
    devices = [
        ScriptedDevice([ValueError("driver bug")]),
        ScriptedDevice([list(key_events_for("42", at=1.0))]),
    ]
    reader = InputReader(
        "scanner", "scanner", queue, lambda: devices.pop(0), backoff=(0.01, 0.02), read_timeout=0.01
    )
    start(reader)
    try:
        got = collect(queue, lambda seen: len(seen) == 4)
    finally:
        reader.stop()
    assert got == [
        (STATUS, "connected"),
        (STATUS, "disconnected"),
        (STATUS, "connected"),
        (SCAN, "42"),
    ]


def test_a_device_grabbed_by_another_program_is_reported_busy() -> None:
    queue = EventQueue()

    def grabbed():
        raise OSError(errno.EBUSY, "Device or resource busy")

    reader = start(InputReader("scanner", "scanner", queue, grabbed, backoff=(0.05, 0.05)))
    time.sleep(0.15)
    reader.stop()
    assert [(e.code, e.detail) for e in queue.drain()] == [("busy", "EBUSY")]
