"""The update health check counts systemd's automatic restarts (``NRestarts``) of the units.

systemd does not run in the test machines' containers, so the count is read
through the same :class:`CommandRestarts` that runs ``systemctl show
--property=NRestarts --value <unit>`` on a terminal, here pointed at a real
counter file that ``restart_always.py`` (``Restart=always`` played by a real
supervisor process) increments each time the service exits. The services are
real processes reporting ready through the real ``kiosk.system.sdnotify``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk import __version__
from kiosk.updates.runner import DEFAULT_RESTARTS_COMMAND, CommandRestarts, HealthCheck
from tests.sync.harness import wait_until

SUPERVISOR = Path(__file__).with_name("restart_always.py")

# Reports ready; the first run (no marker yet) dies ``delay`` seconds later, later runs stay up.
ONCE_THEN_FINE = """import sys, time
from pathlib import Path
from kiosk.system import sdnotify
marker, delay = Path(sys.argv[1]), float(sys.argv[2])
sdnotify.ready()
if not marker.exists():
    marker.write_text("crashed once")
    time.sleep(delay)
    raise SystemExit("crash right after ready")
time.sleep(300)
"""
# Dies before it is ever ready, every time: a crash loop.
NEVER_READY = """raise SystemExit("cannot open the display")"""


def _alive(pid: int) -> bool:
    """True while process ``pid`` exists."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class Unit:
    """One service under ``restart_always.py``, its health file and its NRestarts counter file."""

    def __init__(self, root: Path, code: str, *args: str) -> None:
        self.health = root / "health" / "kiosk.json"
        self.counter = root / "kiosk.service.NRestarts"
        self.process = subprocess.Popen(
            [sys.executable, str(SUPERVISOR), str(self.counter), sys.executable, "-c", code, *args],
            env={**os.environ, "KIOSK_HEALTH_FILE": str(self.health)},
        )
        self.restarts = CommandRestarts(("cat", str(root / "{unit}.NRestarts")))

    def count(self) -> int:
        return int(self.counter.read_text()) if self.counter.exists() else -1

    def report(self) -> dict[str, object]:
        return json.loads(self.health.read_text()) if self.health.exists() else {}

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=20)


@pytest.fixture
def units(tmp_path: Path) -> Iterator[list[Unit]]:
    started: list[Unit] = []
    yield started
    for unit in started:
        unit.stop()


def start(units: list[Unit], root: Path, code: str, *args: str) -> tuple[Unit, float]:
    """Start a unit like ``systemctl restart`` does: return once it is ready (or after its first exit)."""
    since = time.time()
    unit = Unit(root, code, *args)
    units.append(unit)
    wait_until(lambda: unit.count() == 0, timeout=30, what="supervisor started")
    return unit, since


def test_a_crash_right_after_ready_fails_the_check_even_when_the_restarted_process_is_fine(
    tmp_path: Path, units: list[Unit]
) -> None:
    unit, since = start(units, tmp_path, ONCE_THEN_FINE, str(tmp_path / "marker"), "1.0")
    wait_until(lambda: unit.report().get("pid") is not None, timeout=30, what="ready")
    check = HealthCheck(
        (unit.health,), timeout=30, settle=3.0, poll=0.05,
        units=("kiosk.service",), restarts=unit.restarts, count_every=0.2,
    )  # fmt: skip
    assert check.wait(__version__, since) == (
        f"systemd restarted kiosk.service (NRestarts 0 → 1) after the switch to version {__version__}: "
        f"it crashed or missed its watchdog\n"
        f"切换到新版本 {__version__} 后 systemd 自动重启了 kiosk.service（崩溃或看门狗超时）"
    )
    assert unit.count() == 1


def test_the_health_files_alone_miss_that_restart(tmp_path: Path, units: list[Unit]) -> None:
    """Why the count is needed: once the restarted process reported ready, the files look healthy."""
    marker = tmp_path / "marker"
    unit, since = start(units, tmp_path, ONCE_THEN_FINE, str(marker), "0.2")
    wait_until(lambda: unit.count() == 1, timeout=30, what="the automatic restart")
    # The first process is gone once the count is 1, so a report from a live pid is the restarted
    # one's (a file's mtime is no clock to compare with: the kernel stamps it with a coarse tick)
    wait_until(lambda: _alive(int(str(unit.report().get("pid", 0)))), timeout=30, what="ready")
    files_only = HealthCheck((unit.health,), timeout=30, settle=0.5, poll=0.05)
    assert files_only.wait(__version__, since) is None
    # Counted from the manual restart (systemd resets NRestarts then), the same state fails.
    counted = HealthCheck(
        (unit.health,), timeout=30, settle=0.5, poll=0.05, units=("kiosk.service",), restarts=unit.restarts
    )
    assert counted._restarted(__version__, {"kiosk.service": 0}) == (
        f"systemd restarted kiosk.service (NRestarts 0 → 1) after the switch to version {__version__}: "
        f"it crashed or missed its watchdog\n"
        f"切换到新版本 {__version__} 后 systemd 自动重启了 kiosk.service（崩溃或看门狗超时）"
    )


def test_a_service_that_stays_up_passes(tmp_path: Path, units: list[Unit]) -> None:
    unit, since = start(units, tmp_path, ONCE_THEN_FINE, str(tmp_path / "marker"), "0")
    (tmp_path / "marker").write_text("never crashes")
    wait_until(lambda: unit.report().get("pid") is not None, timeout=30, what="ready")
    check = HealthCheck(
        (unit.health,), timeout=30, settle=1.5, poll=0.05,
        units=("kiosk.service",), restarts=unit.restarts, count_every=0.2,
    )  # fmt: skip
    assert check.wait(__version__, since) is None
    assert unit.count() == 0


def test_a_crash_loop_before_ready_fails_early(tmp_path: Path, units: list[Unit]) -> None:
    unit, since = start(units, tmp_path, NEVER_READY)
    check = HealthCheck(
        (unit.health,), timeout=60, settle=1.0, poll=0.05,
        units=("kiosk.service",), restarts=unit.restarts, count_every=0.5,
    )  # fmt: skip
    began = time.monotonic()
    reason = check.wait(__version__, since)
    assert time.monotonic() - began < 30  # not the 60 s timeout
    assert reason is not None
    match = re.fullmatch(
        rf"systemd restarted kiosk\.service \(NRestarts 0 → (\d+)\) after the switch to version "
        rf"{re.escape(__version__)}: it crashed or missed its watchdog\n"
        rf"切换到新版本 {re.escape(__version__)} 后 systemd 自动重启了 kiosk\.service（崩溃或看门狗超时）",
        reason,
    )
    assert match is not None, reason
    assert 1 <= int(match.group(1)) <= unit.count()
    assert not unit.health.exists()


def test_command_restarts_reads_one_integer_and_nothing_else(tmp_path: Path) -> None:
    assert DEFAULT_RESTARTS_COMMAND == ["systemctl", "show", "--property=NRestarts", "--value", "{unit}"]
    counter = tmp_path / "kiosk.service.NRestarts"
    counter.write_text("3\n")
    assert CommandRestarts(("cat", str(tmp_path / "{unit}.NRestarts"))).restarts("kiosk.service") == 3
    assert CommandRestarts(("cat", str(tmp_path / "{unit}.NRestarts"))).restarts("other.service") is None
    counter.write_text("NRestarts=3\n")
    assert CommandRestarts(("cat", str(counter))).restarts("kiosk.service") is None
    assert CommandRestarts(("/nonexistent/systemctl", "{unit}")).restarts("kiosk.service") is None
    # Unreadable counts leave the check to the health files rather than failing a good version.
    health = tmp_path / "kiosk.json"
    health.write_text(json.dumps({"version": "0.2.0", "pid": os.getpid(), "ready_at": 1.0}))
    check = HealthCheck(
        (health,), timeout=1, settle=0.1, poll=0.05,
        units=("kiosk.service",), restarts=CommandRestarts(("false",)),
    )  # fmt: skip
    assert check.wait("0.2.0", since=0.5) is None
