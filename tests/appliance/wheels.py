"""Small, valid member-kiosk wheels built in the tests (no build backend, no network)."""

from __future__ import annotations

import zipfile
from pathlib import Path

# A stand-in for the touchscreen app of one version: it reports ready through the real
# kiosk.system.sdnotify (health file) and stays up, like kiosk.service.
GOOD_APP = """import time

from kiosk.system import sdnotify

if __name__ == "__main__":
    sdnotify.ready()
    time.sleep(300)
"""
# Imports fine (passes the pre-switch check) but dies at start, like an app that cannot open its display.
CRASHING_APP = """if __name__ == "__main__":
    raise SystemExit("this version cannot open the display")
"""


def make_wheel(house: Path, version: str, body: str) -> Path:
    """A minimal, valid member-kiosk wheel holding one module, kiosk_probe."""
    house.mkdir(parents=True, exist_ok=True)
    wheel = house / f"member_kiosk-{version}-py3-none-any.whl"
    info = f"member_kiosk-{version}.dist-info"
    files = {
        "kiosk_probe.py": body,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: member-kiosk\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        # The console script the units exec (kiosk.launch runs bin/kiosk next to bin/python).
        f"{info}/entry_points.txt": "[console_scripts]\nkiosk = kiosk.cli:main\n",
    }
    record = "".join(f"{name},,\n" for name in files) + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
        archive.writestr(f"{info}/RECORD", record)
    return wheel


# Reports ready, then dies: a crash loop that only the "stays up" part of the check sees.
DIES_AFTER_READY_APP = """import time

from kiosk.system import sdnotify

if __name__ == "__main__":
    sdnotify.ready()
    time.sleep(0.1)
    raise SystemExit("this version dies after start")
"""
