"""Shared fixtures: a small disk image shaped like the terminal's (MBR, FAT boot, ext4 root)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

MIB = 1024 * 1024
BOOT_START_SECTOR = 2048  # 1 MiB, as on the real image


def run(*argv: str, stdin: str | None = None) -> str:
    """Run a real tool; fail the test with its stderr if it fails."""
    result = subprocess.run(argv, input=stdin, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{argv[0]} failed: {result.stderr}"
    return result.stdout


@pytest.fixture
def disk_image(tmp_path: Path) -> Path:
    """A 24 MiB image: partition 1 FAT32-LBA (boot, 16 MiB, with config.txt), partition 2 Linux."""
    image = tmp_path / "terminal.img"
    with open(image, "wb") as handle:
        handle.truncate(24 * MIB)
    run(
        "sfdisk", "--quiet", str(image), stdin="label: dos\nstart=2048, size=16MiB, type=c\nsize=+, type=83\n"
    )
    boot = tmp_path / "boot.fat"
    with open(boot, "wb") as handle:
        handle.truncate(16 * MIB)
    run("mkfs.vfat", "-n", "BOOT", str(boot))
    (tmp_path / "config.txt").write_text("arm_64bit=1\n")
    env_run_mcopy(boot, tmp_path / "config.txt", "::config.txt")
    run(
        "dd",
        f"if={boot}",
        f"of={image}",
        "bs=512",
        f"seek={BOOT_START_SECTOR}",
        "conv=notrunc",
        "status=none",
    )
    boot.unlink()
    return image


def env_run_mcopy(fat: Path, source: Path, target: str) -> None:
    """mcopy a file into a FAT file system image."""
    result = subprocess.run(
        ["mcopy", "-i", str(fat), str(source), target],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "MTOOLS_SKIP_CHECK": "1"},
    )
    assert result.returncode == 0, result.stderr


def mtools_read(image: Path, offset: int, name: str) -> bytes:
    """Read a file out of the FAT partition at ``offset`` with mtools, independently of hub code."""
    result = subprocess.run(
        ["mcopy", "-n", "-i", f"{image}@@{offset}", f"::{name}", "-"],
        capture_output=True,
        check=False,
        env={**os.environ, "MTOOLS_SKIP_CHECK": "1"},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout
