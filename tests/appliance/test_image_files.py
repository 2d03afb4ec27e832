"""The image's scripts and files agree with each other (labels, units, mounts) and lint clean."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
IMAGE = REPO / "image"


def test_shell_scripts_are_shellcheck_clean() -> None:
    scripts = sorted(
        [IMAGE / "build.sh", *IMAGE.glob("steps/*.sh"), *IMAGE.glob("files/usr/local/lib/kiosk/*.sh")]
    )
    assert len(scripts) == 13
    assert shutil.which("shellcheck"), "bootstrap installs shellcheck"
    result = subprocess.run(["shellcheck", *map(str, scripts)], capture_output=True, text=True)
    assert (result.returncode, result.stdout) == (0, "")


def test_steps_are_numbered_and_strict() -> None:
    steps = sorted(p.name for p in IMAGE.glob("steps/*.sh"))
    assert steps == [
        "00-essential.sh",
        "10-files.sh",
        "20-user.sh",
        "30-venv.sh",
        "35-initramfs.sh",
        "40-system.sh",
        "80-manifest.sh",
        "85-fonts.sh",
        "90-assemble.sh",
    ]
    for step in IMAGE.glob("steps/*.sh"):
        assert "set -euo pipefail" in step.read_text(), step.name


def test_labels_agree_between_assembly_fstab_and_kernel_command_line() -> None:
    assemble = (IMAGE / "steps/90-assemble.sh").read_text()
    fstab = (IMAGE / "files/etc/fstab").read_text()
    system = (IMAGE / "steps/40-system.sh").read_text()
    made = set(re.findall(r"-[nL] (\S+)", assemble))
    assert made == {"KIOSKBOOT", "kiosk-root", "kiosk-data"}
    mounted = set(re.findall(r"^LABEL=(\S+)", fstab, re.M))
    assert mounted == made
    assert "root=LABEL=kiosk-root ro " in system
    grow = (IMAGE / "files/usr/local/lib/kiosk/growdata.sh").read_text()
    assert "/dev/disk/by-label/kiosk-data" in grow


def test_root_is_read_only_and_state_lives_on_data() -> None:
    mounts = {}
    for line in (IMAGE / "files/etc/fstab").read_text().splitlines():
        if line and not line.startswith("#"):
            source, target, kind, options, *_ = line.split()
            mounts[target] = (source, kind, options.split(","))
    assert mounts["/"][2][0] == "ro"
    assert "x-systemd.growfs" in mounts["/data"][2]
    assert mounts["/var/lib/kiosk"][:2] == ("/data/kiosk", "none")
    assert mounts["/var/log"][:2] == ("/data/log", "none")
    assert mounts["/var/lib/systemd"][:2] == ("/data/systemd", "none")
    assert mounts["/tmp"][1] == "tmpfs"


def test_image_enables_exactly_the_units_in_systemd_dir() -> None:
    system = (IMAGE / "steps/40-system.sh").read_text()
    copied = (IMAGE / "steps/10-files.sh").read_text()
    terminal_units = sorted(p for p in (REPO / "systemd").glob("kiosk*") if p.suffix != ".md")
    assert len(terminal_units) == 7
    for unit in terminal_units:
        assert f"systemd/{unit.name}" in copied
        # A unit without [Install] (kiosk-update.service) is started by its .path and .timer only.
        assert (unit.name in system) == ("[Install]" in unit.read_text()), unit.name
    assert "hub.service" not in copied


def test_nothing_secret_or_per_device_in_the_image_tree() -> None:
    names = [p.relative_to(IMAGE / "files").as_posix() for p in (IMAGE / "files").rglob("*")]
    assert not [n for n in names if "kiosk.toml" in n or n.endswith((".pem", ".key"))]
    for path in (IMAGE / "files").rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert "password" not in text.lower(), path
            assert "PRIVATE KEY" not in text, path


def test_os_list_entry(tmp_path: Path) -> None:
    image = tmp_path / "member-kiosk-0.1.0-abc.img.xz"
    image.write_bytes(b"xz bytes")
    result = subprocess.run(
        [
            sys.executable,
            str(IMAGE / "os_list.py"),
            "--name",
            "member-kiosk-0.1.0-abc",
            "--version",
            "0.1.0",
            "--commit",
            "abc",
            "--image",
            str(image),
            "--extract-size",
            "1048576",
            "--extract-sha256",
            "ab" * 32,
            "--url-base",
            "https://hub.example/images/",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    (entry,) = json.loads(result.stdout)["os_list"]
    assert entry["name"] == "Member Kiosk 0.1.0"
    assert entry["url"] == "https://hub.example/images/member-kiosk-0.1.0-abc.img.xz"
    assert entry["extract_size"] == 1048576
    assert entry["image_download_size"] == 8
    assert entry["image_download_sha256"] == (
        "bef91a0af03f3b7707a1fb86bb13cdde7edfb8f39354f0d8e78b5cc19bb89987"
    )
    assert entry["devices"] == ["pi4-64bit"]
    assert entry["init_format"] == "none"
