"""The boot test's update phase (``make image-update-test``): A/B update and rollback on the image.

The hub offers release 0.2.0 (this tree's wheel under a new version number):
the terminal's sync agent writes the offer, ``kiosk-update.path`` starts
``kiosk update apply``, which downloads it from the hub, installs it in a new
venv, switches, restarts both services and checks them (READY, no restarts);
the hub then lists the terminal as running 0.2.0 with outcome ``installed``.
Then release 0.3.0, whose app exits at start (``kiosk.launch run`` refuses), is
offered: the terminal must roll back to 0.2.0 by itself and report
``rolled_back`` to the hub. What the hub says is read with ``hub release list``,
the owner's own view of the releases page.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["BROKEN_LAUNCH", "release_wheels", "rewrap_wheel", "terminal_line", "wait_for_terminal"]

# kiosk/launch.py in release 0.3.0: the app never starts (the pre-switch self-check,
# `kiosk --help` and the imports, still passes, so only the health check can catch it).
BROKEN_LAUNCH = (
    '    if args[0] == "run":\n        command, extra = run_command(path, kiosk), {}\n',
    '    if args[0] == "run":\n        sys.exit("boot test release: this version cannot start the app")\n',
)


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest},{len(data)}"


def rewrap_wheel(
    source: Path, version: str, out: Path, patch: dict[str, tuple[str, str]] | None = None
) -> Path:
    """``source`` (member_kiosk-X) as member_kiosk-``version``; ``patch``: file -> (old, new) text."""
    with zipfile.ZipFile(source) as wheel:
        files = {name: wheel.read(name) for name in wheel.namelist()}
    old_info = next(n.split("/")[0] for n in files if n.endswith(".dist-info/METADATA"))
    new_info = f"member_kiosk-{version}.dist-info"
    renamed: dict[str, bytes] = {}
    for name, data in files.items():
        if name == f"{old_info}/RECORD":
            continue
        if name == f"{old_info}/METADATA":
            data = re.sub(rb"(?m)^Version: .*$", f"Version: {version}".encode(), data, count=1)
        for target, (old, new) in (patch or {}).items():
            if name == target:
                text = data.decode()
                if old not in text:
                    raise ValueError(f"{target}: the text to patch is not there")
                data = text.replace(old, new).encode()
        renamed[name.replace(old_info, new_info, 1) if name.startswith(old_info) else name] = data
    record = "".join(f"{name},{_record_hash(data)}\n" for name, data in renamed.items())
    target = out / f"member_kiosk-{version}-py3-none-any.whl"
    out.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, data in renamed.items():
            wheel.writestr(name, data)
        wheel.writestr(f"{new_info}/RECORD", record + f"{new_info}/RECORD,,\n")
    return target


def release_wheels(repo: Path, out: Path) -> tuple[Path, Path]:
    """Release 0.2.0 (this tree, renumbered) and 0.3.0 (its app cannot start)."""
    base = out / "base"
    # from a clean copy, as the image build does: the tree gets no egg-info or build/
    subprocess.run(
        ["bash", str(repo / "image/kiosk-wheel.sh"), str(base)],
        check=True,
        env={**os.environ, "PYTHON": sys.executable},
    )
    (wheel,) = base.glob("member_kiosk-*.whl")
    good = rewrap_wheel(wheel, "0.2.0", out / "good")
    broken = rewrap_wheel(wheel, "0.3.0", out / "broken", {"kiosk/launch.py": BROKEN_LAUNCH})
    return good, broken


def terminal_line(listing: str, device: str) -> str:
    """The device's line of ``hub release list`` (device, state, running, offered, outcome)."""
    return next((line for line in listing.splitlines() if line.startswith(device + "\t")), "")


def wait_for_terminal(
    list_releases: Callable[[], str], device: str, wanted: tuple[str, ...], deadline: float
) -> str:
    """Poll ``hub release list`` until the device's line holds every text in ``wanted``; its last line."""
    line = ""
    while time.monotonic() < deadline:
        line = terminal_line(list_releases(), device)
        if all(text in line for text in wanted):
            return line
        time.sleep(10)
    return line
