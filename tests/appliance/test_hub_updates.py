"""Hub-offered updates end to end: release on the hub, retained offer through a real Mosquitto,
download over the hub's HTTP server, SHA-256 check, real venvs, restart, health check, rollback,
and the outcome back at the hub as an ``app.update`` event.

The restart is a small shell script standing in for ``systemctl restart``: it stops the running
processes and starts them again through the image's real ``kiosk-python`` wrapper, so what runs
after the switch is whatever ``current`` points at.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import uvicorn
from click.testing import CliRunner

from hub.cli import main as hub_main
from hub.db.schema import open_hub_database
from hub.devtools.signed_in import session_for, with_cookie
from hub.fleet import releases as app_releases
from hub.ingest.models import Event
from hub.ingest.worker import HubIngestor
from hub.web.app import create_app
from kiosk.devtools import browser
from kiosk.devtools.broker import MosquittoBroker
from kiosk.devtools.ports import free_port, wait_for_port
from kiosk.store.models import Outbox
from kiosk.sync import updates
from kiosk.sync.update_offer import parse_offer
from kiosk.updates.runner import HealthCheck, Outcome, UpdatePaths, Updater
from kiosk.updates.venvs import Releases, site_packages
from tests.appliance.wheels import CRASHING_APP, DIES_AFTER_READY_APP, GOOD_APP, make_wheel
from tests.sync.harness import wait_until

REPO = Path(__file__).resolve().parents[2]
WRAPPER = REPO / "image/files/usr/local/lib/kiosk/kiosk-python"
TZ = ZoneInfo("Asia/Shanghai")
DEVICE = "d-0a0b0c"
CHECK = ["python", "-c", "import kiosk.cli, kiosk.sync.agent, kiosk_probe"]


class Services:
    """Stands in for systemd: the app (and optionally the sync agent) run through kiosk-python.

    The restart command is ``service_manager.py``, which behaves like ``systemctl restart``
    of ``Type=notify`` units: it returns once each service is ready, or fails when one exits first.
    """

    def __init__(self, root: Path, venvs: Path, sync_args: list[str] | None = None) -> None:
        self.root = root
        self.health = root / "health"
        env = {"KIOSK_VENVS": str(venvs), "KIOSK_BASE": str(Path(sys.executable).parent.parent)}
        app = {
            "name": "app", "argv": [str(WRAPPER), "-m", "kiosk_probe"], "env": env,
            "health": str(self.health / "kiosk.json"), "requires": str(venvs / "current/bin/python"),
        }  # fmt: skip
        services = [app]
        if sync_args:
            sync = {
                "name": "sync", "argv": [str(WRAPPER), "-m", "kiosk.cli", "sync", *sync_args], "env": env,
                "health": str(self.health / "sync.json"), "requires": str(root),
            }  # fmt: skip
            services.append(sync)
        self.spec = root / "services.json"
        self.spec.write_text(json.dumps({"dir": str(root), "services": services}))
        self.command = [sys.executable, str(Path(__file__).with_name("service_manager.py")), str(self.spec)]

    def restart(self) -> None:
        """What ``systemctl restart`` would do, used to start the first time too."""
        subprocess.run(self.command, check=True, timeout=150)

    def stop(self) -> None:
        """Kill what is still running (test clean-up)."""
        for name in ("app", "sync"):
            pid_file = self.root / f"{name}.pid"
            if pid_file.exists():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid_file.read_text()), signal.SIGKILL)

    def running(self, name: str) -> dict[str, object]:
        """The health file a service wrote when it became ready."""
        return json.loads((self.health / f"{name}.json").read_text())


def updater(
    paths: UpdatePaths, venvs: Path, services: Services, files: tuple[str, ...], settle: float
) -> Updater:
    # Generous: a good version is ready in a second or two even on a loaded machine, and is not waited for.
    health = HealthCheck(tuple(services.health / f for f in files), timeout=60.0, settle=settle, poll=0.05)
    return Updater(
        paths,
        Releases(venvs),
        image_version="0.1.0",
        health=health,
        restart=services.command,
        check=CHECK,
        base=site_packages(),
    )


@pytest.fixture
def hub_web(tmp_path: Path) -> Iterator[tuple[str, Path, str]]:
    """The hub's database (SQLite), data directory and web server; yields (db url, data dir, base URL)."""
    db_url = f"sqlite:///{tmp_path / 'hub.db'}"
    db = open_hub_database(db_url)
    data_dir = tmp_path / "hubdata"
    port = free_port()
    # the releases page needs a session: a browser signed in as the owner (hub.devtools.signed_in)
    app = with_cookie(create_app(TZ, data_dir=data_dir), session_for()[0])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for_port(port)
    yield db_url, data_dir, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    db.close()


def hub(*args: str) -> str:
    """Run a ``hub`` command in-process; fail with its output if it fails."""
    result = CliRunner().invoke(hub_main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_offered_release_is_installed_reported_and_shown(
    tmp_path: Path,
    broker: MosquittoBroker,
    kiosk_db,  # type: ignore[no-untyped-def]
    hub_web: tuple[str, Path, str],
) -> None:
    db_url, data_dir, base_url = hub_web
    wheel = make_wheel(tmp_path / "dist", "0.2.0", GOOD_APP)
    sha = hashlib.sha256(wheel.read_bytes()).hexdigest()
    added = hub("release", "add", str(wheel), "--db", db_url, "--data-dir", str(data_dir))
    assert f"sha256 {sha}" in added and "release 0.2.0 added" in added
    assert (data_dir / "releases/0.2.0" / wheel.name).read_bytes() == wheel.read_bytes()

    ingestor = HubIngestor("127.0.0.1", broker.port, TZ, "u1")
    ingestor.start()
    venvs = tmp_path / "venvs"
    sync_args = ["--db", str(tmp_path / "kiosk.db"), "--device", DEVICE, "--broker-port", str(broker.port)]
    services = Services(tmp_path, venvs, [*sync_args, "--heartbeat", "0.5", "--linger-ms", "20"])
    try:
        services.restart()  # the image's version: only the sync agent runs here (no display)
        wait_until(lambda: (services.health / "sync.json").exists(), what="the agent's first start")
        assert services.running("sync")["version"] == "0.1.0"

        offered = hub(
            "release", "offer", "0.2.0", "--base-url", base_url, "--device", DEVICE,
            "--db", db_url, "--data-dir", str(data_dir), "--mqtt-port", str(broker.port),
        )  # fmt: skip
        assert offered == f"release 0.2.0 offered to 1 terminal(s): {DEVICE}\n"
        paths = UpdatePaths(tmp_path / "update")
        wait_until(paths.offer.exists, what="the retained offer at the terminal")
        offer = parse_offer(paths.offer.read_bytes())
        assert (offer.version, [(f.name, f.sha256, f.size) for f in offer.files]) == (
            "0.2.0",
            [(wheel.name, sha, wheel.stat().st_size)],
        )
        assert offer.files[0].url == f"{base_url}/releases/0.2.0/files/{wheel.name}"

        outcome = updater(paths, venvs, services, ("kiosk.json", "sync.json"), settle=0.5).apply()
        assert outcome is not None
        assert (outcome.outcome, outcome.version, outcome.from_version, outcome.reason) == (
            "installed", "0.2.0", "0.1.0", "",
        )  # fmt: skip
        assert Releases(venvs).current == "0.2.0"
        # What the units exec (kiosk-python -m kiosk.launch -> bin/kiosk) starts from the switched venv.
        status = subprocess.run(
            [str(venvs / "current/bin/kiosk"), "update", "status", "--venvs", str(venvs)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        assert status.stdout == "current: 0.2.0\nprevious: -\ninstalled: 0.2.0\n"
        assert (services.running("kiosk")["version"], services.running("sync")["version"]) == (
            "0.2.0",
            "0.2.0",
        )
        assert not (paths.downloads / "0.2.0").exists()

        # The restarted agent (now 0.2.0) puts the outcome into its outbox; the hub books it.
        wait_until(lambda: Event.select().where(Event.type == "app.update").count() == 1, what="app.update")
        event = json.loads(Event.get(Event.type == "app.update").body)
        assert (event["id"], event["device"], event["data"]) == (
            outcome.id,
            DEVICE,
            {"version": "0.2.0", "from_version": "0.1.0", "outcome": "installed", "reason": ""},
        )
        assert list(paths.outcomes.iterdir()) == []
        wait_until(
            lambda: (
                [
                    (r.running, r.offered, r.outcome)
                    for r in app_releases.terminal_versions()
                    if r.device == DEVICE  # the session broker keeps other tests' retained statuses
                ]
                == [("0.2.0", "0.2.0", "installed")]
            ),
            what="the hub seeing 0.2.0 run",
        )
        dom = browser.dump_dom(f"{base_url}/releases?lang=en")
        assert 'id="release-0.2.0"' in dom
        assert '<td class="running"><strong>0.2.0</strong></td>' in dom
        assert '<span class="tag installed">installed</span> 0.2.0' in dom

        # Nothing left to do: the same offer again changes nothing.
        assert updater(paths, venvs, services, ("kiosk.json",), settle=0.1).apply() is None
    finally:
        services.stop()
        ingestor.stop()


def test_version_that_fails_its_health_check_is_rolled_back(
    tmp_path: Path, hub_web: tuple[str, Path, str]
) -> None:
    db_url, data_dir, base_url = hub_web
    dist = tmp_path / "dist"
    apps = (("0.2.0", GOOD_APP), ("0.3.0", CRASHING_APP), ("0.4.0", DIES_AFTER_READY_APP))
    for version, body in apps:
        hub(
            "release",
            "add",
            str(make_wheel(dist, version, body)),
            "--db",
            db_url,
            "--data-dir",
            str(data_dir),
        )
    venvs, paths = tmp_path / "venvs", UpdatePaths(tmp_path / "update")
    services = Services(tmp_path, venvs)
    now = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)
    outcomes = []
    try:
        for version, _ in apps:
            offer = app_releases.make_offer(version, base_url, now)
            assert updates.store_offer(
                app_releases.offer_messages(offer, [DEVICE])[f"pos/{DEVICE}/down/update"], paths
            )
            runner = updater(paths, venvs, services, ("kiosk.json",), settle=0.4)
            outcomes.append(runner.apply())
            assert services.running("kiosk")["version"] == "0.2.0"  # after each: 0.2.0 runs (again)
            # kiosk-update.service's exit: a rollback to a healthy 0.2.0 is the updater doing its job
            assert (runner.recovered, runner.exit_status(outcomes[-1])) == (
                None if version == "0.2.0" else True,
                0,
            )
        assert [(o.outcome, o.version, o.from_version) for o in outcomes if o] == [
            ("installed", "0.2.0", "0.1.0"),
            ("rolled_back", "0.3.0", "0.2.0"),
            ("rolled_back", "0.4.0", "0.2.0"),
        ]
        assert [o.reason for o in outcomes if o][1:] == [
            "restart failed (exit 1): Job for app.service failed: the process exited (1) before READY=1"
            " / 重启失败",
            "kiosk.json: version 0.4.0 stopped or restarted within 0.4 s of being ready\n"
            "新版本 0.4.0 启动后 0.4 秒内退出或重启（kiosk.json）",
        ]
        releases = Releases(venvs)
        assert (releases.current, releases.installed()) == ("0.2.0", ["0.2.0"])
        assert (paths.failed / "0.4.0").read_text() == outcomes[2].reason  # type: ignore[union-attr]
        assert updater(paths, venvs, services, ("kiosk.json",), settle=0.1).apply() is None  # not tried again
        written = sorted(json.loads(p.read_text())["version"] for p in paths.outcomes.iterdir())
        assert written == ["0.2.0", "0.3.0", "0.4.0"]
    finally:
        services.stop()


def test_a_file_that_does_not_match_its_sha256_is_refused(
    tmp_path: Path, hub_web: tuple[str, Path, str]
) -> None:
    db_url, data_dir, base_url = hub_web
    wheel = make_wheel(tmp_path / "dist", "0.2.0", GOOD_APP)
    hub("release", "add", str(wheel), "--db", db_url, "--data-dir", str(data_dir))
    stored = data_dir / "releases/0.2.0" / wheel.name
    stored.write_bytes(stored.read_bytes() + b"tampered")  # changed on the hub's disk after the add
    paths, venvs = UpdatePaths(tmp_path / "update"), tmp_path / "venvs"
    offer = app_releases.make_offer("0.2.0", base_url, dt.datetime(2026, 11, 24, tzinfo=dt.UTC))
    updates.store_offer(app_releases.offer_messages(offer, [DEVICE])[f"pos/{DEVICE}/down/update"], paths)
    services = Services(tmp_path, venvs)

    runner = updater(paths, venvs, services, ("kiosk.json",), settle=0.1)
    outcome = runner.apply()

    assert outcome is not None and (outcome.outcome, outcome.version) == ("refused", "0.2.0")
    assert runner.exit_status(outcome) == 1  # kiosk-update.service fails: nothing was installed
    sha = offer.files[0].sha256
    assert outcome.reason.startswith(
        f"{wheel.name} does not match the hub's SHA-256 (expected {sha[:16]}…, got "
    )
    assert f"{wheel.stat().st_size + 8} of {wheel.stat().st_size} bytes" in outcome.reason
    assert outcome.reason.endswith(
        "与 hub 给出的 SHA-256 不符，文件在传输中损坏或被改动，已删除，未安装任何内容"
    )
    assert Releases(venvs).current is None and not venvs.exists()
    assert not (paths.downloads / "0.2.0").exists()
    assert not (services.health / "kiosk.json").exists()  # nothing was restarted


def test_outcomes_folder_belongs_to_the_agent_that_deletes_them(tmp_path: Path) -> None:
    paths = UpdatePaths(tmp_path / "update")
    paths.root.mkdir()
    os.chown(paths.root, 4321, 4321)  # the kiosk user's update folder; the updater runs as root
    Outcome("0.2.0", "0.1.0", "installed", "", "2026-11-24T12:00:00+00:00").write(paths)
    assert (paths.outcomes.stat().st_uid, paths.outcomes.stat().st_gid) == (4321, 4321)


def test_outcome_left_behind_by_a_crash_is_not_counted_twice(tmp_path: Path, kiosk_db) -> None:  # type: ignore[no-untyped-def]
    paths = UpdatePaths(tmp_path / "update")
    outcome = Outcome(
        "0.2.0",
        "0.1.0",
        "installed",
        "",
        "2026-11-24T12:00:00+00:00",
        id="7d0c6f2e-0000-4000-8000-000000000001",
    )
    left = outcome.write(paths)
    copy = left.read_bytes()
    assert updates.report_outcomes(paths, DEVICE, "boot-1") == 1
    left.write_bytes(copy)  # the agent died after the commit, before deleting the file
    assert updates.report_outcomes(paths, DEVICE, "boot-2") == 0
    assert not left.exists()
    rows = [(r.id, r.type) for r in Outbox.select()]
    assert rows == [("7d0c6f2e-0000-4000-8000-000000000001", "app.update")]


def test_release_add_refuses_what_is_not_a_release(tmp_path: Path, hub_db) -> None:  # type: ignore[no-untyped-def]
    data_dir = tmp_path / "hubdata"
    now = dt.datetime(2026, 11, 24, tzinfo=dt.UTC)
    junk = tmp_path / "member_kiosk-0.5.0-py3-none-any.whl"
    junk.write_text("not a zip")
    with pytest.raises(
        app_releases.ReleaseError, match=r"not a wheel \(not a zip file\).*\n.*不是 wheel 安装包"
    ):
        app_releases.add_release(junk, data_dir, now)
    other = make_wheel(tmp_path / "house", "0.5.0", GOOD_APP).rename(
        tmp_path / "house/other-1.0-py3-none-any.whl"
    )
    with pytest.raises(
        app_releases.ReleaseError, match=r"exactly one member_kiosk-<version>-….whl \(found: none\)"
    ):
        app_releases.add_release(other.parent, data_dir, now)
    house = tmp_path / "house"
    make_wheel(house, "0.5.0", GOOD_APP)
    added = app_releases.add_release(house, data_dir, now)
    names = [f["name"] for f in app_releases.release_files(added)]
    assert (added.version, names) == (
        "0.5.0",
        ["member_kiosk-0.5.0-py3-none-any.whl", "other-1.0-py3-none-any.whl"],
    )
    with pytest.raises(app_releases.ReleaseError, match=r"release 0\.5\.0 was added before"):
        app_releases.add_release(house, data_dir, now)
    assert [r.version for r in app_releases.releases()] == ["0.5.0"]
    with pytest.raises(app_releases.ReleaseError, match=r"no release 0\.6\.0"):
        app_releases.make_offer("0.6.0", "http://hub:8080", now)


def test_health_check_waits_for_the_new_version_and_then_for_it_to_stay_up(tmp_path: Path) -> None:
    health = tmp_path / "kiosk.json"
    check = HealthCheck((health,), timeout=0.3, settle=0.2, poll=0.05)
    health.write_text(json.dumps({"version": "0.1.0", "pid": os.getpid(), "ready_at": 1.0}))
    assert check.wait("0.2.0", since=0.0) == (
        "kiosk.json: version 0.2.0 did not report ready within 0.3 s\n"
        "新版本 0.2.0 未在 0.3 秒内启动完成（kiosk.json）"
    )
    health.write_text(json.dumps({"version": "0.2.0", "pid": os.getpid(), "ready_at": 1.0}))
    assert check.wait("0.2.0", since=2.0) is not None  # ready before the restart: an old report
    assert check.wait("0.2.0", since=0.5) is None  # this process is alive and stays up
