"""Headless Chromium for dashboard screenshots and DOM checks (Debian's ``chromium``)."""

import shutil
import subprocess
import tempfile
from pathlib import Path

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def chromium() -> str:
    """Path of the Chromium binary, or a clear error."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError("chromium is not installed: apt-get install chromium (缺少 Chromium 浏览器)")


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="kiosk-chromium-") as profile:
        return subprocess.run(
            [chromium(), *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )


def dump_dom(url: str, timeout: float = 60) -> str:
    """The page's DOM after load, as Chromium serialises it."""
    return _run(["--dump-dom", url], timeout).stdout


def screenshot(url: str, target: Path, width: int = 1280, height: int = 800, timeout: float = 60) -> Path:
    """Save a PNG of ``url`` at ``width``×``height`` to ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    _run([f"--screenshot={target}", f"--window-size={width},{height}", url], timeout)
    return target
