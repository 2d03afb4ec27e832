"""What every benchmark shares: the app's logging, rounds that alternate product and baseline,
spreads and percentiles, and the one figure format that ``benchmarks/run.py`` collects.

A benchmark prints one JSON object; its ``figures`` list holds :func:`figure` dicts, which
``run.py`` gathers into ``bench-results.json`` and ``report.py`` turns into the table in
``docs/perf.md`` (the format is described in ``benchmarks/README.md``).
"""

import json
import logging
import os
import statistics
import time
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

T = TypeVar("T")


# As ``kiosk run`` sets them, and before any kiosk module can import Kivy: import this module
# first. Kivy then logs through Python's logging and leaves the command line alone.
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")


def app_logging() -> None:
    """Log as ``kiosk run`` does: Kivy through Python's logging, everything at INFO.

    Without it, importing Kivy leaves the root logger at DEBUG and peewee formats a
    log record for every query, which inflates store timings by about 40 %.
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(logging.INFO)


def full_size() -> bool:
    """``BENCH_FULL=1``: run the sizes the issue names (1M members ...), not the quick defaults."""
    return os.environ.get("BENCH_FULL", "") == "1"


def spread(values: list[float], digits: int = 3) -> dict[str, float]:
    """min / median / max of per-round values."""
    return {
        "min": round(min(values), digits),
        "median": round(statistics.median(values), digits),
        "max": round(max(values), digits),
    }


def percentile(samples: list[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank) of ``samples``."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class Rate(NamedTuple):
    """Operations per second of wall time and per second of this process's CPU time.

    The wall rate is what a shopper sees; the CPU rate leaves out waiting for the disk's
    fsync and for other processes, so its ratio is the steadier view of our own overhead.
    """

    wall: float
    cpu: float


class Stopwatch:
    """Started on creation; :meth:`rate` gives the :class:`Rate` of ``count`` operations since."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def rate(self, count: int) -> Rate:
        """``count`` operations over the wall and CPU time elapsed."""
        cpu = max(time.process_time() - self.cpu, 1e-9)
        return Rate(count / (time.perf_counter() - self.wall), count / cpu)


def alternate(sides: dict[str, Callable[[], T]], rounds: int) -> dict[str, list[T]]:
    """Run each side once per round, in turn, ``rounds`` times; each call returns one value.

    Alternating inside one run means a busy disk or a neighbour's test suite slows
    product and baseline alike, so their ratio holds while the absolute numbers move.
    """
    out: dict[str, list[T]] = {name: [] for name in sides}
    for _ in range(rounds):
        for name, run in sides.items():
            out[name].append(run())
    return out


def timed_samples(run: Callable[[int], object], count: int) -> list[float]:
    """Milliseconds of each of ``count`` calls ``run(i)``."""
    out = []
    for i in range(count):
        started = time.perf_counter()
        run(i)
        out.append((time.perf_counter() - started) * 1000)
    return out


def timed_pairs(run: Callable[[int], object], count: int) -> list[tuple[float, float]]:
    """Milliseconds of wall time and of this thread's CPU time of each of ``count`` calls ``run(i)``.

    On a loaded machine a wall-time p99 is mostly waiting for a core; the CPU time shows what the
    code itself costs.
    """
    out = []
    for i in range(count):
        wall, cpu = time.perf_counter(), time.thread_time()
        run(i)
        out.append(((time.perf_counter() - wall) * 1000, (time.thread_time() - cpu) * 1000))
    return out


def figure(
    name: str,
    value: float,
    unit: str,
    *,
    baseline: str = "",
    baseline_value: float | None = None,
    ratio: float | None = None,
    goal: str = "",
    met: bool | None = None,
    rounds: dict[str, float] | None = None,
    samples: int | None = None,
    note: str = "",
) -> dict[str, Any]:
    """One figure for the results file.

    ``ratio`` is product / baseline for rates (higher is better) and the caller says
    so in ``note`` when it is a time ratio; ``rounds`` is the ratio's (or value's)
    min / median / max over the alternating rounds; ``goal`` is the issue's target in
    words and ``met`` whether this run reached it.
    """
    out: dict[str, Any] = {"name": name, "value": value, "unit": unit}
    if baseline:
        out["baseline"] = baseline
        out["baseline_value"] = baseline_value
    if ratio is not None:
        out["ratio"] = round(ratio, 3)
    if rounds is not None:
        out["rounds"] = rounds
    if samples is not None:
        out["samples"] = samples
    if goal:
        out["goal"] = goal
        out["met"] = met
    if note:
        out["note"] = note
    return out


def emit(benchmark: str, figures: list[dict[str, Any]], **details: Any) -> None:
    """Print the benchmark's one JSON object: its figures and any details."""
    print(json.dumps({"benchmark": benchmark, "figures": figures, **details}, ensure_ascii=False))
