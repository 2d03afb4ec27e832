"""Every unit passes `systemd-analyze verify` and the project's own unit lint."""

from __future__ import annotations

import importlib.util
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UNITS = sorted(p for p in (REPO / "systemd").iterdir() if p.suffix in (".service", ".path", ".timer"))
SYSTEM_UNITS = Path("/usr/lib/systemd/system")


def _load_unitlint():
    spec = importlib.util.spec_from_file_location("unitlint", REPO / "image/unitlint.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["unitlint"] = module
    spec.loader.exec_module(module)
    return module


unitlint = _load_unitlint()


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file system tree laid out like the image, for `verify --root`.

    verify resolves every path inside the root, so the real executables the
    units name are copied to where the image puts them.
    """
    tree = tmp_path_factory.mktemp("root")
    (tree / "usr/bin").mkdir(parents=True)
    (tree / "usr/lib/systemd").mkdir(parents=True)
    (tree / "bin").symlink_to("usr/bin")
    (tree / "lib").symlink_to("usr/lib")
    shutil.copytree(SYSTEM_UNITS, tree / "usr/lib/systemd/system", symlinks=True)
    for tool in ("mount", "hostname", "systemd-machine-id-setup"):
        shutil.copy2(f"/usr/bin/{tool}", tree / "usr/bin" / tool)
    (tree / "opt/kiosk/bin").mkdir(parents=True)
    for tool in ("kiosk", "hub", "python"):
        shutil.copy2(REPO / ".venv/bin" / tool, tree / "opt/kiosk/bin" / tool)
    shutil.copytree(REPO / "image/files/usr/local/lib/kiosk", tree / "usr/local/lib/kiosk")
    (tree / "etc/systemd/system").mkdir(parents=True)
    # A .path or .timer is verified with the service it starts in place.
    for unit in UNITS:
        shutil.copy2(unit, tree / "etc/systemd/system" / unit.name)
    return tree


def verify(root: Path, unit: Path) -> subprocess.CompletedProcess[str]:
    target = root / "etc/systemd/system" / unit.name
    shutil.copy2(unit, target)
    return subprocess.run(
        ["systemd-analyze", "verify", f"--root={root}", "--man=no", "--generators=no", str(target)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_the_units_we_ship() -> None:
    assert [u.name for u in UNITS] == [
        "hub.service",
        "kiosk-firstboot.service",
        "kiosk-growdata.service",
        "kiosk-sync.service",
        "kiosk-update.path",
        "kiosk-update.service",
        "kiosk-update.timer",
        "kiosk.service",
    ]


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_systemd_analyze_verify_is_silent(root: Path, unit: Path) -> None:
    result = verify(root, unit)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_verify_harness_really_checks(root: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.service"
    text = (REPO / "systemd/kiosk.service").read_text()
    broken.write_text(text.replace("kiosk-python -m", "kiosk-pythonn -m").replace("Restart=", "Restrt="))
    result = verify(root, broken)
    assert result.returncode == 1
    assert "Unknown key 'Restrt' in section [Service]" in result.stderr
    assert "Command /usr/local/lib/kiosk/kiosk-pythonn is not executable" in result.stderr


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_project_lint_is_clean(unit: Path) -> None:
    known = unitlint.known_units([SYSTEM_UNITS, REPO / "systemd"])
    assert [str(p) for p in unitlint.lint_unit(unit, known)] == []


# (text in kiosk.service, planted mistake, the line the lint must name: the first
# line of the planted file that starts with this, message with {restart} = Restart='s line).
PLANTED = [
    (
        "After=kiosk-firstboot.service local-fs.target",
        "After=kiosk-firstboot.service network.online.target",
        "After=kiosk-firstboot.service",
        "After= names unknown unit network.online.target; did you mean network-online.target?",
    ),
    ("Type=notify", "Type=notfy", "Type=", "Type=notfy is not valid; did you mean Type=notify?"),
    (
        "\nRestart=always",
        "\nRestart=allways",
        "Restart=",
        "Restart=allways is not valid; did you mean Restart=always?",
    ),
    (
        "WatchdogSec=30\n",
        "\n",
        "Type=",
        "Type=notify without WatchdogSec: a hung app is never restarted",
    ),
    (
        "NoNewPrivileges=yes",
        "NoNewPrivileges=sure",
        "NoNewPrivileges=",
        "NoNewPrivileges= needs yes or no, got 'sure'",
    ),
    (
        "ExecStart=/usr/local/lib/kiosk/kiosk-python",
        "ExecStart=kiosk-python",
        "ExecStart=",
        "ExecStart= needs an absolute path",
    ),
    (
        "WantedBy=multi-user.target",
        "WantedBy=multi-user.targt",
        "WantedBy=",
        "WantedBy= names unknown unit multi-user.targt; did you mean multi-user.target?",
    ),
    ("[Install]", "[Instal]", "[Instal]", "unknown section [Instal]"),
    (
        "RestartSec=2",
        "RestartSec=2\nRestart=no",
        "Restart=no",
        "Restart= set twice (first on line {restart})",
    ),
]


def line_starting(text: str, prefix: str) -> int:
    """1-based number of the first line of ``text`` that starts with ``prefix``."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if line.startswith(prefix))


@pytest.mark.parametrize(("old", "new", "anchor", "message"), PLANTED, ids=[p[1] for p in PLANTED])
def test_lint_catches_planted_mistake(tmp_path: Path, old: str, new: str, anchor: str, message: str) -> None:
    text = (REPO / "systemd/kiosk.service").read_text()
    assert old in text
    planted_text = text.replace(old, new, 1)
    planted = tmp_path / "kiosk.service"
    planted.write_text(planted_text)
    known = unitlint.known_units([SYSTEM_UNITS, REPO / "systemd"])
    problems = unitlint.lint_unit(planted, known)
    expected = message.format(restart=line_starting(planted_text, "Restart="))
    assert [(p.line, p.en) for p in problems] == [(line_starting(planted_text, anchor), expected)]


def test_lint_command_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert unitlint.main([str(u) for u in UNITS]) == 0
    bad = tmp_path / "bad.service"
    bad.write_text("[Service]\nType=notfy\nExecStart=/bin/true\n")
    assert unitlint.main([str(bad)]) == 1
    assert capsys.readouterr().out == (
        f"{bad}:2: Type=notfy is not valid; did you mean Type=notify? / Type=notfy 不是有效值\n"
    )


def test_kiosk_service_is_notify_watchdog_always_and_offline_first() -> None:
    unit, _ = unitlint.parse_unit(REPO / "systemd/kiosk.service")
    text = (REPO / "systemd/kiosk.service").read_text()
    assert unit.values("Service", "Type") == [("notify", line_starting(text, "Type="))]
    assert unit.values("Service", "WatchdogSec") == [("30", line_starting(text, "WatchdogSec="))]
    assert unit.values("Service", "Restart") == [("always", line_starting(text, "Restart="))]
    assert unit.values("Service", "User") == [("kiosk", line_starting(text, "User="))]
    ordering = " ".join(v for key in ("After", "Wants", "Requires") for v, _ in unit.values("Unit", key))
    assert "network" not in ordering
    hardening = {k: v for s, k, v, _ in unit.entries if s == "Service"}
    assert hardening["NoNewPrivileges"] == "yes"
    assert hardening["ProtectSystem"] == "strict"
    assert hardening["ReadWritePaths"] == "/var/lib/kiosk"
    assert hardening["PrivateTmp"] == "yes"
    assert hardening["CapabilityBoundingSet"] == ""


# What the service's python runs when systemd's watchdog kills it: two threads, one of them stuck.
HUNG = """
import threading, time
def stuck_drawing_a_receipt():
    time.sleep(60)
threading.Thread(target=stuck_drawing_a_receipt, daemon=True).start()
print("up", flush=True)
time.sleep(60)
"""


@pytest.mark.parametrize("name", ["kiosk.service", "kiosk-sync.service"])
def test_a_watchdog_kill_leaves_every_threads_stack_in_the_journal(name: str) -> None:
    unit, _ = unitlint.parse_unit(REPO / "systemd" / name)
    env = dict(
        item.split("=", 1) for value, _ in unit.values("Service", "Environment") for item in value.split()
    )
    assert env["PYTHONFAULTHANDLER"] == "1"
    child = subprocess.Popen(
        [sys.executable, "-c", HUNG], env={"PYTHONFAULTHANDLER": env["PYTHONFAULTHANDLER"]},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert child.stdout is not None and child.stdout.readline() == "up\n"
    child.send_signal(signal.SIGABRT)  # what WatchdogSec does on a missed ping
    _, stderr = child.communicate(timeout=30)
    assert "Fatal Python error: Aborted" in stderr
    assert "line 4 in stuck_drawing_a_receipt" in stderr
    assert "Current thread" in stderr


def test_the_app_does_not_wait_for_the_network_even_through_other_units() -> None:
    # systemd-user-sessions.service is ordered after network.target, so an app ordered
    # after it waited for wpa_supplicant and DHCP (issue 20): ~1.5 min on an Ethernet-only terminal.
    waits = unitlint.ordered_after("kiosk.service", [REPO / "systemd", SYSTEM_UNITS])
    assert {"kiosk-firstboot.service", "local-fs.target", "systemd-udev-trigger.service"} <= waits
    network = {
        "network.target",
        "network-online.target",
        "systemd-networkd.service",
        "systemd-networkd-wait-online.service",
        "systemd-resolved.service",
        "wpa_supplicant@wlan0.service",
        "systemd-user-sessions.service",
    }
    assert waits & network == set()
    # The sync agent does wait for it, and the lint sees that through the same graph.
    assert "network.target" in unitlint.ordered_after("kiosk-sync.service", [REPO / "systemd", SYSTEM_UNITS])


def test_ordered_after_follows_before_lines_of_other_units(tmp_path: Path) -> None:
    (tmp_path / "app.service").write_text(
        "[Unit]\nAfter=a.target\nConflicts=tty.service\nAfter=tty.service\n"
    )
    (tmp_path / "a.target").write_text("[Unit]\nAfter=b.target\n")
    (tmp_path / "b.target").write_text("[Unit]\n")
    (tmp_path / "early.service").write_text("[Unit]\nDefaultDependencies=no\nBefore=b.target\n")
    (tmp_path / "tty.service").write_text("[Unit]\nAfter=network.target\n")
    assert unitlint.ordered_after("app.service", [tmp_path]) == {
        "a.target",
        "b.target",
        "early.service",
        "basic.target",
    }


def test_oneshot_may_repeat_exec_start_but_notify_may_not(tmp_path: Path) -> None:
    known = unitlint.known_units([SYSTEM_UNITS])
    body = "[Service]\nType={}\nExecStart=/bin/true\nExecStart=/bin/false\nWatchdogSec=5\n"
    oneshot = tmp_path / "a.service"
    oneshot.write_text(body.format("oneshot").replace("WatchdogSec=5\n", ""))
    assert unitlint.lint_unit(oneshot, known) == []
    notify = tmp_path / "b.service"
    notify.write_text(body.format("notify"))
    assert [p.en for p in unitlint.lint_unit(notify, known)] == ["ExecStart= set twice (first on line 3)"]


def test_device_units_and_template_instances_are_known(tmp_path: Path) -> None:
    known = unitlint.known_units([SYSTEM_UNITS])
    unit = tmp_path / "c.service"
    unit.write_text(
        "[Unit]\nAfter=dev-disk-by\\x2dlabel-kiosk\\x2ddata.device getty@tty1.service\n"
        "[Service]\nExecStart=/bin/true\n"
    )
    assert unitlint.lint_unit(unit, known) == []
