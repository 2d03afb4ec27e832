"""Plays systemd's ``Restart=always`` for one service: ``python restart_always.py COUNTER ARGV...``.

Starts ARGV; each time it exits, adds one to the integer in the file COUNTER (as
systemd counts ``NRestarts``), waits ``RestartSec`` (0.1 s) and starts it again.
SIGTERM stops the service and then this process. The updater's health check
reads COUNTER through :class:`kiosk.updates.runner.CommandRestarts` (``cat COUNTER``),
the same code that runs ``systemctl show --property=NRestarts --value`` on a terminal.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

RESTART_SEC = 0.1


def _write(counter: Path, restarts: int) -> None:
    """Replace COUNTER whole, so a reader never sees it empty between create and write."""
    tmp = counter.with_name(f".{counter.name}.tmp")
    tmp.write_text(f"{restarts}\n")
    os.replace(tmp, counter)


def main(counter: Path, argv: list[str]) -> int:
    """Supervise ``argv`` until SIGTERM; return 0."""
    _write(counter, 0)
    child: subprocess.Popen[bytes] | None = None
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.terminate()

    signal.signal(signal.SIGTERM, stop)
    while not stopping:
        child = subprocess.Popen(argv, stdin=subprocess.DEVNULL)
        child.wait()
        if stopping:
            break
        _write(counter, int(counter.read_text()) + 1)
        time.sleep(RESTART_SEC)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), sys.argv[2:]))
