"""Run the update the hub offered: download, verify, install beside, switch, restart, check, roll back.

``kiosk update apply`` runs this from ``kiosk-update.service`` (root, always the
image's own ``/opt/kiosk``, so a broken release can never break its updater).
``kiosk-update.path`` starts it when the sync agent writes a new offer, and
``kiosk-update.timer`` retries after a failed download. Files under
``/var/lib/kiosk/update/`` (see :class:`UpdatePaths`)::

    offer.json          the retained offer as the sync agent received it
    downloads/<ver>/    the wheels, each checked against the offer's SHA-256
    failed/<ver>        a version that failed once is not tried again (the reason inside)
    outcomes/<id>.json  what happened; the sync agent turns each into an ``app.update``
                        outbox event and deletes the file (the updater never opens the database)

The health check after the restart reads the health files that
:func:`kiosk.system.sdnotify.ready` writes: each must name the new version within
``timeout`` seconds, and the same process must still be alive ``settle``
seconds later (a crash loop changes the pid). It also asks systemd how often
it restarted each unit by itself (``NRestarts``, which a manual ``systemctl
restart`` resets): any growth after the switch means the new version crashed or
missed its watchdog, even when the process that came back is healthy by the time
the files are read. Otherwise the previous version is switched back, the
services restarted again, and the outcome says why.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from kiosk.sync.schema import SchemaError
from kiosk.sync.update_offer import UpdateOffer, parse_offer
from kiosk.updates.venvs import Releases, UpdateError

__all__ = [
    "DEFAULT_CHECK",
    "DEFAULT_RESTART",
    "DEFAULT_RESTARTS_COMMAND",
    "DEFAULT_UNITS",
    "CommandRestarts",
    "DownloadError",
    "HealthCheck",
    "Outcome",
    "RestartCounter",
    "UpdatePaths",
    "UpdateRefused",
    "Updater",
    "download",
    "write_atomically",
]

log = logging.getLogger(__name__)

UPDATE_DIR = Path("/var/lib/kiosk/update")
DEFAULT_UNITS = ("kiosk.service", "kiosk-sync.service")
DEFAULT_RESTART = ["systemctl", "restart", *DEFAULT_UNITS]
# ``{unit}`` is replaced by the unit's name; prints systemd's count of automatic restarts.
DEFAULT_RESTARTS_COMMAND = ["systemctl", "show", "--property=NRestarts", "--value", "{unit}"]
# Run inside the new venv before it is switched to: the CLI, the sync agent and the store must import.
DEFAULT_CHECK = ["python", "-c", "import kiosk.cli, kiosk.sync.agent, kiosk.store"]
ENTRY_POINT_CHECK = ["kiosk", "--help"]
CHUNK = 1 << 16


class UpdateRefused(UpdateError):
    """The offered version was refused before anything changed (bad file, failed self-check)."""


class DownloadError(UpdateError):
    """The hub could not be reached or broke off: nothing is recorded, the timer tries again."""


@dataclass(frozen=True)
class UpdatePaths:
    """Where the updater and the sync agent exchange offers and outcomes."""

    root: Path = UPDATE_DIR

    @property
    def offer(self) -> Path:
        """The offer the sync agent received last."""
        return self.root / "offer.json"

    @property
    def downloads(self) -> Path:
        """Downloaded wheels, one directory per version."""
        return self.root / "downloads"

    @property
    def failed(self) -> Path:
        """One file per version that failed, holding the reason."""
        return self.root / "failed"

    @property
    def outcomes(self) -> Path:
        """Outcomes waiting for the sync agent to put them into the outbox."""
        return self.root / "outcomes"


@dataclass(frozen=True)
class Outcome:
    """What one update attempt did; becomes the data of an ``app.update`` event."""

    version: str
    from_version: str
    outcome: str  # installed | rolled_back | refused
    reason: str
    at: str
    id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def write(self, paths: UpdatePaths) -> Path:
        """Store the outcome for the sync agent (atomically: it never reads half a file).

        The updater runs as root and the agent as ``kiosk``: the outcomes folder gets the
        owner of the update folder (the agent's), so the agent may delete what it reported.
        """
        paths.outcomes.mkdir(parents=True, exist_ok=True)
        owner = paths.root.stat()
        if os.geteuid() == 0:
            os.chown(paths.outcomes, owner.st_uid, owner.st_gid)
        target = paths.outcomes / f"{self.id}.json"
        write_atomically(target, json.dumps(asdict(self), ensure_ascii=False, sort_keys=True).encode())
        return target


def write_atomically(target: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``target`` through a temporary file, fsynced, then renamed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(tmp, mode)
    os.replace(tmp, target)


def download(offer: UpdateOffer, dest: Path, timeout: float = 60.0) -> Path:
    """Fetch every file of ``offer`` into ``dest``, each checked against its SHA-256 and size.

    A file that does not match is deleted and :class:`UpdateRefused` raised; an
    unreachable hub raises :class:`DownloadError`. Returns ``dest``.
    """
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    for item in offer.files:
        target = dest / item.name
        part = dest / f".{item.name}.part"
        digest, size = hashlib.sha256(), 0
        try:
            with urllib.request.urlopen(item.url, timeout=timeout) as response, open(part, "wb") as out:
                while chunk := response.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
        except (urllib.error.URLError, OSError) as exc:
            part.unlink(missing_ok=True)
            raise DownloadError(
                f"could not download {item.name} from {item.url}: {exc}; the timer tries again\n"
                f"无法从 hub 下载 {item.name}：{exc}；稍后自动重试"
            ) from exc
        if digest.hexdigest() != item.sha256 or size != item.size:
            part.unlink()
            raise UpdateRefused(
                f"{item.name} does not match the hub's SHA-256 (expected {item.sha256[:16]}…, "
                f"got {digest.hexdigest()[:16]}…, {size} of {item.size} bytes): it was damaged or "
                f"changed on the way, so it was deleted and nothing was installed\n"
                f"{item.name} 与 hub 给出的 SHA-256 不符，文件在传输中损坏或被改动，已删除，未安装任何内容"
            )
        os.replace(part, target)
    return dest


class RestartCounter(Protocol):
    """How many times the service manager restarted a unit by itself (systemd's ``NRestarts``)."""

    def restarts(self, unit: str) -> int | None:
        """The count, or None when it cannot be read (the check then relies on the health files)."""
        ...


@dataclass(frozen=True)
class CommandRestarts:
    """Reads the count by running ``argv`` with ``{unit}`` replaced; it must print one integer.

    The default is ``systemctl show --property=NRestarts --value <unit>``.
    """

    argv: tuple[str, ...] = tuple(DEFAULT_RESTARTS_COMMAND)
    timeout: float = 10.0

    def restarts(self, unit: str) -> int | None:
        command = [part.replace("{unit}", unit) for part in self.argv]
        try:
            result = subprocess.run(
                command, capture_output=True, text=True, timeout=self.timeout, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.warning("cannot read the restart count of %s: %s", unit, exc)
            return None
        text = result.stdout.strip()
        if result.returncode != 0 or not text.isdigit():
            detail = (result.stderr or result.stdout).strip().replace("\n", " | ")
            log.warning("cannot read the restart count of %s (exit %d): %s", unit, result.returncode, detail)
            return None
        return int(text)


@dataclass(frozen=True)
class HealthCheck:
    """The restarted services must report the new version, and stay up.

    ``files`` are the health files :func:`kiosk.system.sdnotify.ready` writes (one per service).
    ``units`` are the systemd units whose restart count ``restarts`` reads: it must
    not grow between the restart and the end of ``settle`` (read every
    ``count_every`` seconds while waiting for ready, and once after ``settle``).
    """

    files: tuple[Path, ...]
    timeout: float = 180.0
    settle: float = 60.0
    poll: float = 0.2
    units: tuple[str, ...] = ()
    restarts: RestartCounter | None = None
    count_every: float = 5.0

    def _counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        if self.restarts is None:
            return counts
        for unit in self.units:
            count = self.restarts.restarts(unit)
            if count is not None:
                counts[unit] = count
        return counts

    def _restarted(self, version: str, before: dict[str, int]) -> str | None:
        """The reason when any unit was restarted by the service manager since ``before``."""
        if not before:
            return None
        now = self._counts()
        grown = [(unit, count, now[unit]) for unit, count in before.items() if now.get(unit, count) > count]
        if not grown:
            return None
        english = ", ".join(f"{unit} (NRestarts {old} → {new})" for unit, old, new in grown)
        names = "、".join(unit for unit, _old, _new in grown)
        return (
            f"systemd restarted {english} after the switch to version {version}: it crashed or "
            f"missed its watchdog\n切换到新版本 {version} 后 systemd 自动重启了 {names}（崩溃或看门狗超时）"
        )

    def wait(self, version: str, since: float, sleep: Callable[[float], None] = time.sleep) -> str | None:
        """None when healthy, else the reason (bilingual). ``since``: wall time of the restart.

        Call it right after the restart returned: the restart counts read then are the baseline.
        """
        deadline = time.monotonic() + self.timeout
        before = self._counts()
        next_count = time.monotonic() + self.count_every
        ready: dict[Path, int] = {}
        while len(ready) < len(self.files):
            if time.monotonic() >= next_count:  # a crash loop before ready: fail early
                next_count = time.monotonic() + self.count_every
                problem = self._restarted(version, before)
                if problem:
                    return problem
            for path in self.files:
                report = _read_health(path)
                if report and report.get("version") == version and float(report.get("ready_at", 0)) >= since:
                    ready[path] = int(report["pid"])
            if len(ready) == len(self.files):
                break
            if time.monotonic() >= deadline:
                missing = ", ".join(p.name for p in self.files if p not in ready)
                return (
                    f"{missing}: version {version} did not report ready within {self.timeout:g} s\n"
                    f"新版本 {version} 未在 {self.timeout:g} 秒内启动完成（{missing}）"
                )
            sleep(self.poll)
        sleep(self.settle)
        problem = self._restarted(version, before)
        if problem:
            return problem
        for path, pid in ready.items():
            report = _read_health(path) or {}
            if report.get("pid") != pid or not _alive(pid):
                return (
                    f"{path.name}: version {version} stopped or restarted within {self.settle:g} s of "
                    f"being ready\n新版本 {version} 启动后 {self.settle:g} 秒内退出或重启（{path.name}）"
                )
        return None


def _read_health(path: Path) -> dict[str, Any] | None:
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) and isinstance(report.get("pid"), int) else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by its parent) is not alive.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


class Updater:
    """One ``kiosk update apply``: takes the offer from ``paths`` to an outcome."""

    def __init__(
        self,
        paths: UpdatePaths,
        releases: Releases,
        image_version: str,
        health: HealthCheck,
        restart: list[str] = DEFAULT_RESTART,
        check: list[str] = DEFAULT_CHECK,
        base: Path | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.paths = paths
        self.releases = releases
        self.image_version = image_version
        self.health = health
        self.restart = restart
        self.check = check
        self.base = base
        self.clock = clock
        # After a rollback: whether the version rolled back to came up healthy again (None: no rollback).
        self.recovered: bool | None = None

    def running_version(self) -> str:
        """What the services run: the ``current`` venv, or the image's own version."""
        return self.releases.current or self.image_version

    def offer(self) -> UpdateOffer | None:
        """The offer waiting, or None (none, withdrawn, or unreadable: logged)."""
        try:
            payload = self.paths.offer.read_bytes()
        except FileNotFoundError:
            return None
        if not payload:
            return None
        try:
            return parse_offer(payload)
        except SchemaError as exc:
            log.error("ignored the update offer in %s: %s", self.paths.offer, exc)
            return None

    def apply(self) -> Outcome | None:
        """Act on the offer; return the outcome, or None when there was nothing to do."""
        self.recovered = None
        offer = self.offer()
        if offer is None:
            return None
        running = self.running_version()
        if offer.version == running:
            log.info("already running %s", running)
            return None
        failed = self.paths.failed / offer.version
        if failed.exists():
            log.warning("version %s failed before, not trying again: %s", offer.version, failed.read_text())
            return None
        try:
            outcome = self._install(offer, running)
        finally:
            shutil.rmtree(self.paths.downloads / offer.version, ignore_errors=True)
        if outcome.outcome != "installed":
            write_atomically(failed, outcome.reason.encode())
        outcome.write(self.paths)
        return outcome

    def exit_status(self, outcome: Outcome | None) -> int:
        """The unit's exit status for ``outcome``: 0 unless the terminal is left worse than before.

        A rollback after which the old version runs healthy again is the updater doing its job:
        the unit succeeds and the failed version is reported to the hub (fleet page). A refused
        offer, or a rollback whose old version did not come back, fails the unit (1).
        """
        if outcome is None or outcome.outcome == "installed":
            return 0
        if outcome.outcome == "rolled_back" and self.recovered:
            return 0
        return 1

    def _outcome(self, offer: UpdateOffer, running: str, outcome: str, reason: str) -> Outcome:
        at = self.clock().isoformat(timespec="seconds")
        return Outcome(version=offer.version, from_version=running, outcome=outcome, reason=reason, at=at)

    def _install(self, offer: UpdateOffer, running: str) -> Outcome:
        try:
            wheels = download(offer, self.paths.downloads / offer.version)
            self.releases.remove(offer.version)  # a half-installed leftover from a power cut
            self.releases.install(offer.version, wheels, base=self.base)
            try:
                # The units exec bin/kiosk (kiosk.launch): its script must start, not only the imports work.
                self.releases.check(offer.version, ENTRY_POINT_CHECK)
                self.releases.check(offer.version, self.check)
            except UpdateError:
                self.releases.remove(offer.version)
                raise
        except DownloadError:
            raise
        except UpdateError as exc:
            log.error("update to %s refused: %s", offer.version, exc)
            return self._outcome(offer, running, "refused", str(exc))
        self.releases.switch(offer.version)
        problem = self._restart_and_check(offer.version)
        if problem is None:
            self._prune()
            log.info("now running %s (was %s)", offer.version, running)
            return self._outcome(offer, running, "installed", "")
        log.error("version %s is unhealthy, rolling back to %s: %s", offer.version, running, problem)
        self.releases.rollback()
        self.releases.remove(offer.version)
        again = self._restart_and_check(running)
        self.recovered = again is None
        if again is not None:
            problem += f"\nafter rolling back: {again}"
        return self._outcome(offer, running, "rolled_back", problem)

    def _restart_and_check(self, version: str) -> str | None:
        since = time.time()
        try:
            result = subprocess.run(
                self.restart, capture_output=True, text=True, timeout=self.health.timeout, check=False
            )
        except subprocess.TimeoutExpired:
            return f"restart did not finish within {self.health.timeout:g} s / 重启超时"
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()[-2:]
            return f"restart failed (exit {result.returncode}): {' | '.join(detail)} / 重启失败"
        return self.health.wait(version, since)

    def _prune(self) -> None:
        """Keep two versions: current and previous."""
        keep = {self.releases.current, self.releases.previous}
        for version in self.releases.installed():
            if version not in keep:
                self.releases.remove(version)
