"""A/B application updates: a new version goes into its own venv, switched to atomically.

Layout on the data partition (the root file system stays read-only)::

    /var/lib/kiosk/venvs/
        0.2.0/            a complete venv, with kiosk-version inside
        0.3.0/
        current -> 0.3.0  what the units run (falls back to /opt/kiosk when absent)
        previous -> 0.2.0 where a failed update goes back to

A version is installed from a local wheelhouse (downloaded and hash-checked
by the sync agent), health-checked by running a command in the new venv, and
only then made ``current``. :meth:`Releases.rollback` swaps back. Switching is
a symlink ``rename``, so power loss leaves the old or the new link, never none.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["DEFAULT_ROOT", "Releases", "UpdateError"]

DEFAULT_ROOT = Path("/var/lib/kiosk/venvs")
VERSION_FILE = "kiosk-version"


class UpdateError(Exception):
    """An update could not be installed, checked or switched; the message is bilingual."""


class Releases:
    """The venvs under ``root`` and the ``current`` / ``previous`` links between them."""

    def __init__(self, root: Path = DEFAULT_ROOT) -> None:
        self.root = Path(root)

    def _link(self, name: str) -> str | None:
        link = self.root / name
        return os.readlink(link) if link.is_symlink() else None

    @property
    def current(self) -> str | None:
        """The version the services run, or None (they run the image's /opt/kiosk)."""
        return self._link("current")

    @property
    def previous(self) -> str | None:
        """The version a rollback returns to."""
        return self._link("previous")

    def installed(self) -> list[str]:
        """Installed versions (directories with a version file), sorted by name."""
        if not self.root.is_dir():
            return []
        return sorted(
            p.name for p in self.root.iterdir() if not p.is_symlink() and (p / VERSION_FILE).is_file()
        )

    def install(self, version: str, wheelhouse: Path, package: str = "member-kiosk") -> Path:
        """Build venv ``version`` from ``wheelhouse`` with no network; return its path."""
        target = self.root / version
        if target.exists():
            raise UpdateError(f"version {version} is already installed / 版本 {version} 已安装")
        staging = self.root / f".staging-{version}"
        shutil.rmtree(staging, ignore_errors=True)
        self.root.mkdir(parents=True, exist_ok=True)
        # No pip inside the new venv: the running one's pip installs into it (--python).
        create = [sys.executable, "-m", "venv", "--without-pip", str(staging)]
        _run(create, "create the venv / 创建虚拟环境")
        pip = [sys.executable, "-m", "pip", "--python", str(staging / "bin/python"), "install"]
        options = ["-q", "--no-index", "--disable-pip-version-check", "--find-links"]
        _run([*pip, *options, str(wheelhouse), f"{package}=={version}"], "install the wheels / 安装软件包")
        (staging / VERSION_FILE).write_text(f"{version}\n")
        os.replace(staging, target)
        return target

    def check(self, version: str, command: list[str]) -> None:
        """Run ``command`` (relative to the venv's bin/) in ``version``; raise if it fails."""
        venv = self.root / version
        if not (venv / VERSION_FILE).is_file():
            raise UpdateError(f"version {version} is not installed / 版本 {version} 未安装")
        argv = [str(venv / "bin" / command[0]), *command[1:]]
        _run(argv, f"health check of {version} / 版本 {version} 自检")

    def switch(self, version: str) -> None:
        """Make ``version`` current; the old current becomes previous."""
        if version not in self.installed():
            raise UpdateError(f"version {version} is not installed / 版本 {version} 未安装")
        old = self.current
        if old is not None and old != version:
            self._set_link("previous", old)
        self._set_link("current", version)

    def rollback(self) -> str:
        """Go back to the previous version; return it. The failed one becomes previous."""
        back, failed = self.previous, self.current
        if back is None:
            raise UpdateError(
                "no previous version to roll back to; the image's /opt/kiosk still runs if "
                "`current` is removed\n没有可回退的旧版本"
            )
        self._set_link("current", back)
        if failed is not None:
            self._set_link("previous", failed)
        return back

    def update(self, version: str, wheelhouse: Path, command: list[str]) -> None:
        """Install, check, then switch; a failed check removes the new venv and changes nothing."""
        self.install(version, wheelhouse)
        try:
            self.check(version, command)
        except UpdateError:
            shutil.rmtree(self.root / version)
            raise
        self.switch(version)

    def _set_link(self, name: str, version: str) -> None:
        tmp = self.root / f".{name}.tmp"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(version)
        os.replace(tmp, self.root / name)
        fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _run(argv: list[str], what: str) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=600)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise UpdateError(f"could not {what}: exit {result.returncode}: {' | '.join(detail)}")
