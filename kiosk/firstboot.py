"""First boot: install ``kiosk.toml`` from the boot partition and apply it.

Run by ``kiosk-firstboot.service`` (as root, root file system opened for
writing) through ``/usr/local/lib/kiosk/firstboot.sh``. Every path is taken
relative to ``root`` so the tests run it against a temporary tree.

The file is validated before anything changes. An invalid file stays on the
boot partition, and the reason is written next to it (``kiosk-error.txt``) so
the owner can read it on any computer, fix the file, and boot again.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from kiosk.config import ConfigError, KioskConfig, WifiConfig, load_config

__all__ = ["FirstBootError", "install", "main", "wpa_supplicant_conf"]

KIOSK_USER = "kiosk"
ERROR_FILE = "kiosk-error.txt"


class FirstBootError(Exception):
    """First boot could not install the provisioning file; the message is bilingual."""


def _write_atomic(path: Path, data: bytes, mode: int, owner: tuple[int, int] | None) -> None:
    """Write, fsync and rename, so power loss leaves the old file or the new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
        os.fchmod(fd, mode)
        if owner is not None:
            os.fchown(fd, *owner)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _user_ids(root: Path, user: str) -> tuple[int, int]:
    """uid and gid of ``user`` from ``root``'s /etc/passwd (not the host's)."""
    for line in (root / "etc/passwd").read_text().splitlines():
        fields = line.split(":")
        if len(fields) >= 4 and fields[0] == user:
            return int(fields[2]), int(fields[3])
    raise FirstBootError(
        f"user `{user}` does not exist in {root / 'etc/passwd'}: the image is incomplete; "
        f"rebuild it with `make image`\n"
        f"镜像中缺少用户 `{user}`：镜像不完整，请用 `make image` 重新构建"
    )


def _apply_hostname(root: Path, hostname: str) -> None:
    _write_atomic(root / "etc/hostname", f"{hostname}\n".encode(), 0o644, None)
    hosts = root / "etc/hosts"
    lines = hosts.read_text().splitlines() if hosts.exists() else ["127.0.0.1\tlocalhost"]
    lines = [ln for ln in lines if not ln.startswith("127.0.1.1")]
    lines.append(f"127.0.1.1\t{hostname}")
    _write_atomic(hosts, ("\n".join(lines) + "\n").encode(), 0o644, None)


def _apply_timezone(root: Path, zone: str) -> None:
    localtime = root / "etc/localtime"
    if localtime.is_symlink() or localtime.exists():
        localtime.unlink()
    localtime.symlink_to(f"/usr/share/zoneinfo/{zone}")
    _write_atomic(root / "etc/timezone", f"{zone}\n".encode(), 0o644, None)


def wpa_supplicant_conf(wifi: WifiConfig) -> str:
    """wpa_supplicant configuration for ``wifi``; stores the derived key, not the passphrase."""
    psk = hashlib.pbkdf2_hmac("sha1", wifi.psk.encode(), wifi.ssid.encode(), 4096, 32).hex()
    scan = "\tscan_ssid=1\n" if wifi.hidden else ""
    return (
        "# Written by kiosk first boot from kiosk.toml [wifi].\n"
        "ctrl_interface=DIR=/run/wpa_supplicant GROUP=netdev\n"
        f"country={wifi.country}\n"
        "network={\n"
        f'\tssid="{wifi.ssid}"\n'
        f"{scan}"
        f"\tpsk={psk}\n"
        "\tkey_mgmt=WPA-PSK\n"
        "}\n"
    )


def _apply_wifi(root: Path, wifi: WifiConfig | None) -> None:
    conf = root / "etc/wpa_supplicant/wpa_supplicant-wlan0.conf"
    if wifi is None:
        conf.unlink(missing_ok=True)
        return
    _write_atomic(conf, wpa_supplicant_conf(wifi).encode(), 0o600, None)


def _stamp(root: Path, config: KioskConfig, digest: str, now: datetime) -> None:
    record = {
        "installed_at": now.isoformat(timespec="seconds"),
        "sha256": digest,
        "store": config.store.id,
        "device": config.device.id,
    }
    data = (json.dumps(record, sort_keys=True) + "\n").encode()
    _write_atomic(root / "etc/kiosk/firstboot.done", data, 0o644, None)


def install(source: Path, root: Path, now: datetime | None = None) -> KioskConfig:
    """Validate ``source``, install it under ``root``, apply it, then delete ``source``.

    Raises :class:`FirstBootError` (and leaves ``source`` in place with an
    error file beside it) when the file is invalid.
    """
    error_file = source.with_name(ERROR_FILE)
    try:
        config = load_config(source)
    except ConfigError as exc:
        error_file.write_text(f"{exc}\n", encoding="utf-8")
        raise FirstBootError(str(exc)) from exc
    raw = source.read_bytes()
    owner = _user_ids(root, KIOSK_USER)
    etc_kiosk = root / "etc/kiosk"
    etc_kiosk.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chown(etc_kiosk, *owner)
    os.chmod(etc_kiosk, 0o700)
    _write_atomic(etc_kiosk / "kiosk.toml", raw, 0o600, owner)
    _apply_hostname(root, config.device.effective_hostname)
    _apply_timezone(root, config.store.timezone)
    _apply_wifi(root, config.wifi)
    _stamp(root, config, hashlib.sha256(raw).hexdigest(), now or datetime.now(UTC))
    # Only now, with everything on disk, may the secret leave the boot partition.
    source.unlink()
    error_file.unlink(missing_ok=True)
    _fsync_dir(source.parent)
    return config


@click.command()
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=Path("/"))
def main(source: Path, root: Path) -> None:
    """Install SOURCE (kiosk.toml on the boot partition) into ROOT. / 安装首启配置文件。"""
    try:
        config = install(source, root)
    except FirstBootError as exc:
        click.echo(f"kiosk firstboot: {exc}", err=True)
        sys.exit(1)
    click.echo(
        f"kiosk firstboot: installed device {config.device.id} of store {config.store.id} "
        f"/ 已安装终端 {config.device.id}"
    )


if __name__ == "__main__":
    main()
