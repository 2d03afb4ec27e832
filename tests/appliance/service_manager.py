"""Plays ``systemctl restart`` for the update tests: ``python service_manager.py SPEC.json``.

Like systemd with ``Type=notify`` units, a restart stops each service, starts it
again, and returns only when it reported ready (here: wrote its health file) or
fails with exit 1 when the process ended first, as ``systemctl restart`` does.
SPEC: ``{"dir": ..., "services": [{"name", "argv", "env", "health", "requires"}]}``;
a service whose ``requires`` path does not exist is left stopped.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def stop(pid_file: Path) -> None:
    """Stop the process named in ``pid_file`` and wait until it is gone."""
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text())
    try:
        os.kill(pid, signal.SIGTERM)
        while True:
            os.kill(pid, 0)
            time.sleep(0.05)
    except ProcessLookupError:
        pid_file.unlink()


def start(workdir: Path, service: dict[str, object]) -> str | None:
    """Start one service; None once it is ready, else why it failed."""
    name = str(service["name"])
    health = Path(str(service["health"]))
    health.unlink(missing_ok=True)
    env = {**os.environ, **dict(service["env"]), "KIOSK_HEALTH_FILE": str(health)}  # type: ignore[call-overload]
    with open(workdir / f"{name}.log", "ab") as log:
        process = subprocess.Popen(
            list(service["argv"]),  # type: ignore[call-overload]
            env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            cwd=workdir,  # as systemd's WorkingDirectory: `-m` puts the cwd first on sys.path
        )  # fmt: skip
    (workdir / f"{name}.pid").write_text(str(process.pid))
    deadline = time.monotonic() + 120
    while not health.exists():
        if process.poll() is not None:
            return f"Job for {name}.service failed: the process exited ({process.returncode}) before READY=1"
        if time.monotonic() > deadline:
            return f"Job for {name}.service timed out before READY=1"
        time.sleep(0.05)
    return None


def main(spec_path: str) -> int:
    """Restart every service in the spec; exit 1 on the first that fails."""
    spec = json.loads(Path(spec_path).read_text())
    workdir = Path(spec["dir"])
    for service in spec["services"]:
        stop(workdir / f"{service['name']}.pid")
    for service in spec["services"]:
        if not Path(service["requires"]).exists():
            continue
        problem = start(workdir, service)
        if problem:
            print(problem, file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
