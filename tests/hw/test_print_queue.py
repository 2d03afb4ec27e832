"""The print queue against the virtual printer's switchable faults."""

import time

import pytest

from kiosk.hw.escpos_parser import DrawerPulse, Raster
from kiosk.hw.events import EventQueue, HardwareEventKind
from kiosk.hw.print_queue import PrintQueue
from kiosk.hw.printer import open_printer
from kiosk.hw.virtual_printer import VirtualNetworkPrinter, VirtualPrinter
from tests.hw.conftest import pattern


def wait_for(events: EventQueue, count: int, timeout: float = 5.0) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    deadline = time.monotonic() + timeout
    while len(seen) < count and time.monotonic() < deadline:
        event = events.get(timeout=0.05)
        if event is not None:
            assert event.kind is HardwareEventKind.STATUS and event.source == "printer"
            seen.append((event.code, event.detail))
    return seen


@pytest.fixture
def virtual() -> VirtualPrinter:
    return VirtualPrinter(384)


@pytest.fixture
def queue(virtual: VirtualPrinter):
    events = EventQueue()
    printer = open_printer("virtual:", 384, virtual=virtual)
    print_queue = PrintQueue(printer, events, retry=(0.05, 0.2), poll_interval=60).start()
    yield print_queue, events
    print_queue.stop()


def images_printed(virtual: VirtualPrinter) -> list[bytes]:
    return [r.image.tobytes() for r in virtual.receipts() if r.cut and r.image is not None]


def test_a_receipt_prints_and_reports_printed(queue, virtual) -> None:
    print_queue, events = queue
    print_queue.submit("S1-D1-0001", pattern(seed=1))
    assert wait_for(events, 2) == [("printed", "S1-D1-0001"), ("ready", "")]
    assert images_printed(virtual) == [pattern(seed=1).tobytes()]
    assert print_queue.pending() == []


def test_paper_out_keeps_the_receipt_queued_and_prints_it_when_paper_is_loaded(queue, virtual) -> None:
    print_queue, events = queue
    virtual.faults.paper_out = True
    print_queue.submit("S1-D1-0002", pattern(seed=2))
    assert wait_for(events, 1) == [("paper_out", "S1-D1-0002")]
    print_queue.submit("S1-D1-0003", pattern(seed=3))
    assert wait_for(events, 1) == [("print_queued", "S1-D1-0003")]
    time.sleep(0.3)  # several retries: reported once, nothing printed
    assert events.drain() == []
    assert print_queue.pending() == ["S1-D1-0002", "S1-D1-0003"]
    assert [op for op in virtual.ops if isinstance(op, Raster)] == []
    virtual.faults.paper_out = False
    print_queue.retry_now()
    assert wait_for(events, 3) == [
        ("printed", "S1-D1-0002"),
        ("ready", ""),
        ("printed", "S1-D1-0003"),
    ]
    assert images_printed(virtual) == [pattern(seed=2).tobytes(), pattern(seed=3).tobytes()]


def test_unplugged_mid_job_reprints_the_whole_receipt_after_replug(queue, virtual) -> None:
    print_queue, events = queue
    virtual.faults.unplug_after_bytes = 2000
    print_queue.submit("S1-D1-0004", pattern(seed=4))
    assert wait_for(events, 1) == [("unreachable", "S1-D1-0004")]
    assert [op for op in virtual.ops if isinstance(op, Raster)] == []  # half an image
    virtual.plug_in()
    print_queue.retry_now()
    assert wait_for(events, 2) == [("printed", "S1-D1-0004"), ("ready", "")]
    assert images_printed(virtual) == [pattern(seed=4).tobytes()]


def test_a_retry_never_opens_the_drawer_twice(queue, virtual) -> None:
    print_queue, events = queue
    image = pattern(seed=5)
    job_bytes = 9 + 8 + 48 * 120 + 3 + 3 + 5  # status, raster, feed, cut, drawer pulse
    virtual.faults.unplug_after_bytes = job_bytes  # dies on the status query after the job
    print_queue.submit("S1-D1-0005", image, open_drawer=True)
    assert wait_for(events, 1) == [("unreachable", "S1-D1-0005")]
    virtual.plug_in()
    print_queue.retry_now()
    assert wait_for(events, 2) == [("printed", "S1-D1-0005"), ("ready", "")]
    assert virtual.drawer_pulses() == [DrawerPulse(2, 100, 100)]
    assert images_printed(virtual) == [image.tobytes(), image.tobytes()]


def test_reprint_prints_a_kept_receipt_again(queue, virtual) -> None:
    print_queue, events = queue
    print_queue.submit("S1-D1-0006", pattern(seed=6))
    assert wait_for(events, 2)[0] == ("printed", "S1-D1-0006")
    assert print_queue.reprint("S1-D1-0006") is True
    assert print_queue.reprint("S1-D1-9999") is False
    assert wait_for(events, 1) == [("printed", "S1-D1-0006")]
    assert images_printed(virtual) == [pattern(seed=6).tobytes()] * 2
    assert print_queue.printed == ["S1-D1-0006", "S1-D1-0006"]


def test_the_drawer_opens_even_while_receipts_wait_for_paper(queue, virtual) -> None:
    print_queue, events = queue
    virtual.faults.paper_out = True
    print_queue.submit("S1-D1-0007", pattern(seed=7))
    assert wait_for(events, 1) == [("paper_out", "S1-D1-0007")]
    print_queue.open_drawer()
    assert wait_for(events, 1) == [("drawer_opened", "")]
    assert virtual.drawer_pulses() == [DrawerPulse(2, 100, 100)]
    assert print_queue.pending() == ["S1-D1-0007"]


def test_submit_never_blocks_on_a_slow_printer_over_tcp() -> None:
    slow = VirtualPrinter(384)
    slow.faults.seconds_per_kib = 0.05
    events = EventQueue()
    with VirtualNetworkPrinter(slow) as server:
        print_queue = PrintQueue(open_printer(server.url, 384), events, poll_interval=60).start()
        started = time.monotonic()
        for n in range(3):
            print_queue.submit(f"S1-D1-001{n}", pattern(seed=n))
        submitted = time.monotonic() - started
        got = wait_for(events, 4)
        print_queue.stop()
    assert submitted < 0.05
    assert got == [
        ("printed", "S1-D1-0010"),
        ("ready", ""),
        ("printed", "S1-D1-0011"),
        ("printed", "S1-D1-0012"),
    ]
    assert images_printed(slow) == [pattern(seed=n).tobytes() for n in range(3)]


def test_idle_queue_polls_the_printer_and_reports_changes() -> None:
    virtual = VirtualPrinter(384)
    events = EventQueue()
    printer = open_printer("virtual:", 384, virtual=virtual)
    print_queue = PrintQueue(printer, events, poll_interval=0.05).start()
    try:
        assert wait_for(events, 1) == [("ready", "")]
        virtual.faults.paper_near_end = True
        assert wait_for(events, 1) == [("paper_near_end", "")]
        virtual.faults.cover_open = True
        assert wait_for(events, 1) == [("cover_open", "")]
    finally:
        print_queue.stop()


def test_a_receipt_that_cannot_print_is_reported_and_does_not_hold_up_the_rest(queue, virtual) -> None:
    print_queue, events = queue
    print_queue.submit("S1-D1-0020", pattern(576, 50))  # too wide for 58 mm paper
    print_queue.submit("S1-D1-0021", pattern(seed=21))
    assert wait_for(events, 3) == [
        ("job_failed", "S1-D1-0020"),
        ("printed", "S1-D1-0021"),
        ("ready", ""),
    ]
    assert images_printed(virtual) == [pattern(seed=21).tobytes()]
    assert print_queue.pending() == []
