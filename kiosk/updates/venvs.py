"""A/B application updates: a new version goes into its own venv, switched to atomically.

Layout on the data partition (the root file system stays read-only)::

    /var/lib/kiosk/venvs/
        0.2.0/            a complete venv, with kiosk-version inside
        0.3.0/
        current -> 0.3.0  what the units run (falls back to /opt/kiosk when absent)
        previous -> 0.2.0 where a failed update goes back to

A version is installed from a local wheelhouse (downloaded and hash-checked
by :mod:`kiosk.updates.runner`), health-checked by running a command in the new venv, and
only then made ``current``. :meth:`Releases.rollback` swaps back. Switching is
a symlink ``rename``, so power loss leaves the old or the new link, never none.

A release may carry only the ``member_kiosk`` wheel: with ``base`` the new venv
also sees the image's venv (``/opt/kiosk``) through a ``.pth`` file, so Kivy,
peewee and the other dependencies come from there unless the wheelhouse
brings its own. The new venv's own packages come first on ``sys.path``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

__all__ = ["DEFAULT_ROOT", "Releases", "UpdateError", "site_packages"]

DEFAULT_ROOT = Path("/var/lib/kiosk/venvs")
VERSION_FILE = "kiosk-version"
BASE_PTH = "_kiosk_base.pth"


def site_packages() -> Path:
    """The running interpreter's site-packages: the base a new venv borrows dependencies from."""
    return Path(sysconfig.get_paths()["purelib"])


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

    def install(
        self, version: str, wheelhouse: Path, package: str = "member-kiosk", base: Path | None = None
    ) -> Path:
        """Build venv ``version`` from ``wheelhouse`` with no network; return its path.

        Every other wheel in ``wheelhouse`` is installed too (``--no-deps``: nothing is
        resolved, nothing fetched); ``base`` is a site-packages directory the venv falls back on.
        """
        target = self.root / version
        if (target / VERSION_FILE).exists():
            raise UpdateError(f"version {version} is already installed / 版本 {version} 已安装")
        # Built in place, not renamed into place: a venv's scripts and pyvenv.cfg hold its absolute
        # path. It counts as installed only once the version file is written, last.
        shutil.rmtree(target, ignore_errors=True)  # what a power cut mid-install left
        self.root.mkdir(parents=True, exist_ok=True)
        # No pip inside the new venv: the running one's pip installs into it (--python).
        create = [sys.executable, "-m", "venv", "--without-pip", str(target)]
        _run(create, "create the venv / 创建虚拟环境")
        if base is not None:
            purelib = Path(_venv_purelib(target))
            purelib.mkdir(parents=True, exist_ok=True)
            # An `import` line in a .pth runs at start-up; addsitedir also reads the base's own .pth files.
            (purelib / BASE_PTH).write_text(f"import site; site.addsitedir({str(base)!r})\n")
        own = package.replace("-", "_") + "-"
        others = sorted(str(p) for p in Path(wheelhouse).glob("*.whl") if not p.name.startswith(own))
        pip = [sys.executable, "-m", "pip", "--python", str(target / "bin/python"), "install"]
        options = ["-q", "--no-index", "--no-deps", "--disable-pip-version-check", "--find-links"]
        wanted = [f"{package}=={version}", *others]
        try:
            _run([*pip, *options, str(wheelhouse), *wanted], "install the wheels / 安装软件包")
        except UpdateError:
            shutil.rmtree(target, ignore_errors=True)
            raise
        with open(target / VERSION_FILE, "w") as handle:
            handle.write(f"{version}\n")
            handle.flush()
            os.fsync(handle.fileno())
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

    def rollback(self) -> str | None:
        """Go back to the previous version and return it; the failed one becomes previous.

        After the first update there is no previous venv: removing ``current`` goes back
        to the image's /opt/kiosk, and None is returned.
        """
        back, failed = self.previous, self.current
        if back is None and failed is not None:
            (self.root / "current").unlink()
            _fsync_dir(self.root)
            return None
        if back is None:
            raise UpdateError(
                "no previous version to roll back to; the image's /opt/kiosk still runs if "
                "`current` is removed\n没有可回退的旧版本"
            )
        self._set_link("current", back)
        if failed is not None:
            self._set_link("previous", failed)
        return back

    def remove(self, version: str) -> None:
        """Delete venv ``version`` (never the current one); a link left pointing at it is removed."""
        if version == self.current:
            raise UpdateError(f"version {version} is running / 版本 {version} 正在运行，不能删除")
        if self.previous == version:
            (self.root / "previous").unlink()
        shutil.rmtree(self.root / version, ignore_errors=True)

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
        _fsync_dir(self.root)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _venv_purelib(venv: Path) -> str:
    """The site-packages directory of the venv at ``venv`` (same Python as the running one)."""
    return sysconfig.get_paths(vars={"base": str(venv), "platbase": str(venv)})["purelib"]


def _run(argv: list[str], what: str) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=600)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise UpdateError(f"could not {what}: exit {result.returncode}: {' | '.join(detail)}")
