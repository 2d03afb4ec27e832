"""Keymap decoder throughput and latency, with a trivial lookup loop as the baseline.

Prints one JSON object. Latency is per code: the time ``KeyDecoder.feed`` takes
on the code's last key event (the terminator) to hand back the decoded code.
The reader-thread figure is the whole input path: from the device read
returning a code's events, through decoding on the reader thread, to the code
arriving at the consumer's ``EventQueue.get``. Throughput feeds every event
(key down, key up, SYN_REPORT) of every code.
The baseline walks the same events with a bare dict lookup per key-down and a
join on Enter: the least any decoder in Python could do.
"""

import json
import os
import platform
import statistics
import sys
import threading
import time

from evdev import InputEvent, ecodes

from kiosk.hw.events import EventQueue, HardwareEventKind
from kiosk.hw.input_reader import InputReader
from kiosk.hw.keymap import KeyDecoder, key_events_for

CODES = [
    "6901234567892",  # EAN-13
    "134567890123456789",  # WeChat Pay auth code
    "https://shop.example.cn/m?id=42&ref=qr",  # QR URL
    "0109501101530003\x1d10ABC123",  # GS1-128 with a GS separator
    "会员卡：张三",  # Chinese via Alt codes
    "0012345678",  # card UID
]
ROUNDS = 400  # 2,400 codes per run
RUNS = 5


def scans() -> list[list[InputEvent]]:
    """The event sequences of every code, 2 ms apart like a fast scanner."""
    out = []
    at = 1_000.0
    for _ in range(ROUNDS):
        for code in CODES:
            out.append(list(key_events_for(code, at=at, spacing=0.002)))
            at += 1.0
    return out


def decode(sequences: list[list[InputEvent]]) -> tuple[float, list[int]]:
    """Seconds for all events, and the per-code latency of the terminator event in ns."""
    decoder = KeyDecoder()
    latencies = []
    clock = time.perf_counter_ns
    started = clock()
    for events in sequences:
        for event in events[:-4]:
            decoder.feed(event)
        before = clock()
        code = decoder.feed(events[-4])  # Enter key down
        latencies.append(clock() - before)
        assert code is not None
        for event in events[-3:]:
            decoder.feed(event)
    return (clock() - started) / 1e9, latencies


def baseline(sequences: list[list[InputEvent]]) -> float:
    """Seconds for the bare lookup loop over the same events."""
    table = {code: chr(code) for code in range(256)}
    enter, key = ecodes.KEY_ENTER, ecodes.EV_KEY
    started = time.perf_counter_ns()
    for events in sequences:
        buffer = []
        for event in events:
            if event.type == key and event.value == 1:
                if event.code == enter:
                    "".join(buffer)
                    buffer = []
                else:
                    buffer.append(table.get(event.code, ""))
    return (time.perf_counter_ns() - started) / 1e9


class PacedDevice:
    """An input source that hands the reader thread one code per read, when told to."""

    def __init__(self, sequences: list[list[InputEvent]]) -> None:
        self._sequences = iter(sequences)
        self.go = threading.Event()
        self.sent_ns = 0

    def read_events(self, timeout: float) -> list[InputEvent]:
        """The next code's events once ``go`` is set."""
        if not self.go.wait(timeout):
            return []
        self.go.clear()
        self.sent_ns = time.perf_counter_ns()
        return next(self._sequences, [])

    def close(self) -> None:
        """Nothing to release."""


def through_reader_thread(sequences: list[list[InputEvent]]) -> list[int]:
    """ns from a read returning a code's events to the code arriving on the event queue."""
    queue = EventQueue()
    device = PacedDevice(sequences)
    reader = InputReader("bench", "scanner", queue, lambda: device, read_timeout=0.5)
    reader.start()
    assert queue.get(timeout=2).code == "connected"
    latencies = []
    for _ in sequences:
        device.go.set()
        event = queue.get(timeout=2)
        latencies.append(time.perf_counter_ns() - device.sent_ns)
        assert event is not None and event.kind is HardwareEventKind.SCAN
    reader.stop()
    return sorted(latencies)


def percentile_us(sorted_ns: list[int], fraction: float) -> float:
    """The value below which ``fraction`` of the samples lie, in microseconds."""
    return round(sorted_ns[min(len(sorted_ns) - 1, int(len(sorted_ns) * fraction))] / 1000, 2)


def main() -> None:
    """Run, and print the figures as JSON."""
    sequences = scans()
    events = sum(len(s) for s in sequences)
    decoder_runs, baseline_runs, latencies = [], [], []
    for _ in range(RUNS):
        seconds, lat = decode(sequences)
        decoder_runs.append(seconds)
        latencies.extend(lat)
        baseline_runs.append(baseline(sequences))
    decoder_s, baseline_s = statistics.median(decoder_runs), statistics.median(baseline_runs)
    latencies.sort()
    threaded = through_reader_thread(sequences[:600])
    print(
        json.dumps(
            {
                "benchmark": "hw.keymap.KeyDecoder",
                "codes_per_run": len(sequences),
                "events_per_run": events,
                "codes_per_second": round(len(sequences) / decoder_s),
                "events_per_second": round(events / decoder_s),
                "latency_us_p50": percentile_us(latencies, 0.50),
                "latency_us_p99": percentile_us(latencies, 0.99),
                "reader_thread_latency_us_p50": percentile_us(threaded, 0.50),
                "reader_thread_latency_us_p99": percentile_us(threaded, 0.99),
                "baseline_codes_per_second": round(len(sequences) / baseline_s),
                "decoder_vs_baseline_time_ratio": round(decoder_s / baseline_s, 2),
                "machine": {
                    "nproc": os.cpu_count(),
                    "python": platform.python_version(),
                    "platform": platform.platform(),
                    "machine": platform.machine(),
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    sys.exit(main())
