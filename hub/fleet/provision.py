"""Provisioning: broker credentials and ACL, a device's kiosk.toml, and writing it to a card.

The broker side is two files Mosquitto reads (and re-reads on SIGHUP):
``passwd`` (maintained with ``mosquitto_passwd``, so hashing is Mosquitto's own)
and ``acl`` (regenerated whole from the registry, so a revoked device's lines
are gone, not commented out). A device may publish only under
``pos/{id}/up/#`` and ``pos/{id}/status`` and read only ``pos/{id}/down/#``.
"""

from __future__ import annotations

import base64
import grp
import json
import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from hub.fleet.devices import DeviceRecord, check_device_id
from kiosk.config import (
    BrokerConfig,
    DataConfig,
    DeviceConfig,
    KioskConfig,
    PaymentsConfig,
    StoreConfig,
    TlsConfig,
    WifiConfig,
    dump_config,
    parse_config,
)
from kiosk.domain.receipt_link import DEFAULT_DAYS

__all__ = [
    "BOOT_FILE_NAME",
    "BrokerFiles",
    "ProvisionError",
    "acl_text",
    "find_boot_partition",
    "kiosk_config_for",
    "read_from_image",
    "render",
    "validate_text",
    "write_to_boot",
    "write_to_image",
]

BOOT_FILE_NAME = "kiosk.toml"
HUB_USER = "hub"
# Mosquitto drops root for this group's user before it reads the password and ACL files.
BROKER_GROUP = "mosquitto"
# MBR types of FAT partitions, and GPT's "Microsoft basic data" / EFI system types.
FAT_TYPES = {
    "b",
    "c",
    "e",
    "6",
    "ef",
    "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7",
    "C12A7328-F81F-11D2-BA4B-00A0C93EC93B",
}


class ProvisionError(Exception):
    """Provisioning failed; the message says what, why and what to do, in English and zh-CN."""


@dataclass(frozen=True)
class BrokerFiles:
    """Mosquitto's password and ACL files for the terminals."""

    directory: Path

    def _share_with_broker(self, path: Path) -> None:
        """Owner read-write, the broker's group read-only, nobody else (0640 / 0750)."""
        try:
            gid = grp.getgrnam(BROKER_GROUP).gr_gid
        except KeyError:
            gid = -1  # no mosquitto user on this machine: the files stay private to their owner
        os.chown(path, -1, gid)
        os.chmod(path, 0o750 if path.is_dir() else 0o640)

    @property
    def passwd(self) -> Path:
        """The password file (``password_file`` in mosquitto.conf)."""
        return self.directory / "passwd"

    @property
    def acl(self) -> Path:
        """The ACL file (``acl_file`` in mosquitto.conf)."""
        return self.directory / "acl"

    def set_password(self, username: str, password: str) -> None:
        """Add or replace ``username`` in the password file via ``mosquitto_passwd -b``."""
        if username != HUB_USER:
            check_device_id(username)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._share_with_broker(self.directory)
        if not self.passwd.exists():
            self.passwd.touch(mode=0o600)
        _run(["mosquitto_passwd", "-b", str(self.passwd), username, password])
        self._share_with_broker(self.passwd)

    def remove_user(self, username: str) -> None:
        """Delete ``username`` from the password file (``mosquitto_passwd -D``)."""
        if self.passwd.exists() and self.has_user(username):
            _run(["mosquitto_passwd", "-D", str(self.passwd), username])
            self._share_with_broker(self.passwd)

    def has_user(self, username: str) -> bool:
        """Whether the password file has an entry for ``username``."""
        if not self.passwd.exists():
            return False
        return any(ln.split(":", 1)[0] == username for ln in self.passwd.read_text().splitlines())

    def write_acl(self, devices: list[DeviceRecord]) -> None:
        """Rewrite the ACL for the hub and every active device, atomically."""
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.acl.with_name(".acl.tmp")
        tmp.write_text(acl_text(devices))
        self._share_with_broker(tmp)
        os.replace(tmp, self.acl)


def _run(argv: list[str]) -> None:
    if shutil.which(argv[0]) is None:
        raise ProvisionError(
            f"`{argv[0]}` is not installed; install the Debian package `mosquitto`\n"
            f"未安装 `{argv[0]}`；请安装 Debian 软件包 `mosquitto`"
        )
    result = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=30)
    if result.returncode != 0:
        raise ProvisionError(
            f"`{' '.join(argv[:2])}` failed: {result.stderr.strip() or result.stdout.strip()}\n"
            f"`{' '.join(argv[:2])}` 执行失败"
        )


def acl_text(devices: list[DeviceRecord]) -> str:
    """The Mosquitto ACL: the hub reads and writes ``pos/#``; each device only its own topics."""
    lines = [
        "# Written by `hub device`; edits are overwritten. 由 `hub device` 生成，请勿手改。",
        f"user {HUB_USER}",
        "topic readwrite pos/#",
        "",
    ]
    for device in devices:
        if not device.active:
            continue
        # written from the id alone, checked again here: a registry edited by hand cannot smuggle a
        # line into the broker's ACL (names and stores never reach this file)
        check_device_id(device.id)
        lines += [
            f"user {device.id}",
            f"topic write pos/{device.id}/up/#",
            f"topic write pos/{device.id}/status",
            f"topic read pos/{device.id}/down/#",
            "",
        ]
    return "\n".join(lines)


BUSINESS_KEY_FILE = "business.key"


def business_key(data_dir: Path) -> str:
    """The business's personal-data key (base64 of 32 bytes), made once in ``data_dir``.

    Every terminal of a business gets the same key, so a phone's blind index is
    the same in every store (the hub merges duplicates by it) and the hub can read
    what the terminals encrypted. The file is the hub's most sensitive secret: 0600.
    """
    path = data_dir / BUSINESS_KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = base64.b64encode(secrets.token_bytes(32)).decode()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another `hub device add` made it first; use theirs
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(key + "\n")
    return path.read_text().strip()


def kiosk_config_for(
    device: DeviceRecord,
    *,
    encryption_key: str,
    password: str,
    store_name: str,
    broker_host: str,
    broker_port: int,
    timezone: str = "Asia/Shanghai",
    ca_pem: str | None = None,
    client_cert: tuple[str, str] | None = None,
    wifi: WifiConfig | None = None,
    hub_url: str | None = None,
    receipt_key: str | None = None,
    receipt_link_days: int = DEFAULT_DAYS,
    gateway_url: str | None = None,
) -> KioskConfig:
    """The validated kiosk.toml model for ``device``; ``encryption_key`` is :func:`business_key`,
    ``receipt_key`` :func:`hub.fleet.receipt_keys.device_receipt_key_text` (None: no receipt QR);
    ``gateway_url``: the shop's payment gateway for scanned payment codes (none: cash and members only)."""
    return KioskConfig(
        store=StoreConfig(id=device.store, name=store_name, timezone=timezone),
        device=DeviceConfig(
            id=device.id, name=device.name, receipt_key=receipt_key, receipt_link_days=receipt_link_days
        ),
        broker=BrokerConfig(
            host=broker_host,
            port=broker_port,
            username=device.id,
            password=password,
            tls=_tls(ca_pem, client_cert),
            hub_url=hub_url,
        ),
        data=DataConfig(encryption_key=encryption_key),
        wifi=wifi,
        payments=PaymentsConfig(gateway_url=gateway_url) if gateway_url else None,
    )


def _tls(ca_pem: str | None, client_cert: tuple[str, str] | None) -> TlsConfig | None:
    if client_cert and not ca_pem:
        raise ProvisionError("a client certificate needs the broker's CA / 客户端证书需要 CA 证书")
    if not ca_pem:
        return None
    if client_cert is None:
        return TlsConfig(ca=ca_pem)
    return TlsConfig(ca=ca_pem, client_cert=client_cert[0], client_key=client_cert[1])


def _partitions(image: Path) -> tuple[list[dict[str, object]], int]:
    if not image.is_file():
        raise ProvisionError(f"{image}: no such image file\n{image}：找不到镜像文件")
    result = subprocess.run(
        ["sfdisk", "--json", str(image)], capture_output=True, text=True, check=False, timeout=30
    )
    if result.returncode != 0:
        raise ProvisionError(
            f"{image}: no partition table ({result.stderr.strip()}); is this the terminal image?\n"
            f"{image}：没有分区表，这是终端镜像吗？"
        )
    table = json.loads(result.stdout)["partitiontable"]
    return table["partitions"], int(table.get("sectorsize", 512))


def find_boot_partition(image: Path) -> int:
    """Byte offset of the first FAT partition in ``image`` (the Pi's boot partition)."""
    partitions, sector = _partitions(image)
    for part in partitions:
        if str(part["type"]).upper() in {t.upper() for t in FAT_TYPES}:
            return int(str(part["start"])) * sector
    raise ProvisionError(
        f"{image}: no FAT boot partition; is this the terminal image?\n"
        f"{image}：没有 FAT 启动分区，这是终端镜像吗？"
    )


def _mtools(argv: list[str], stdin: bytes | None = None) -> bytes:
    # mtools refuses FAT file systems whose geometry it finds odd; ours are made by mkfs.vfat.
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    result = subprocess.run(argv, input=stdin, capture_output=True, check=False, env=env, timeout=60)
    if result.returncode != 0:
        raise ProvisionError(
            f"`{argv[0]}` failed: {result.stderr.decode(errors='replace').strip()}\n"
            f"`{argv[0]}` 执行失败；请确认已安装 mtools 且镜像未损坏"
        )
    return result.stdout


def read_from_image(image: Path, name: str = BOOT_FILE_NAME) -> bytes:
    """The bytes of ``name`` in the image's boot partition."""
    offset = find_boot_partition(image)
    return _mtools(["mcopy", "-n", "-i", f"{image}@@{offset}", f"::{name}", "-"])


def write_to_image(image: Path, data: bytes, name: str = BOOT_FILE_NAME) -> int:
    """Copy ``data`` as ``name`` into the image's boot partition, without root; verify it.

    Returns the partition's byte offset. Raises :class:`ProvisionError` if the
    bytes read back differ.
    """
    offset = find_boot_partition(image)
    target = f"{image}@@{offset}"
    _mtools(["mcopy", "-o", "-i", target, "-", f"::{name}"], stdin=data)
    if read_from_image(image, name) != data:
        raise ProvisionError(
            f"{image}: {name} reads back differently; the image may be damaged\n"
            f"{image}：{name} 写入后校验不一致，镜像可能已损坏"
        )
    return offset


def write_to_boot(boot_dir: Path, data: bytes, name: str = BOOT_FILE_NAME) -> Path:
    """Write ``data`` onto a mounted boot partition (the card in a card reader), synced."""
    if not (boot_dir / "config.txt").exists():
        raise ProvisionError(
            f"{boot_dir} has no config.txt, so it is not a Raspberry Pi boot partition; "
            f"mount the card's first (FAT) partition and pass that folder\n"
            f"{boot_dir} 中没有 config.txt，不是树莓派启动分区；请挂载存储卡的第一个（FAT）分区"
        )
    target = boot_dir / name
    with open(target, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    return target


def validate_text(text: str, origin: str) -> KioskConfig:
    """Re-validate a kiosk.toml before it goes onto a card (same model as the terminal)."""
    return parse_config(text, origin)


def render(config: KioskConfig) -> bytes:
    """The kiosk.toml bytes for ``config``, validated by parsing them back."""
    text = dump_config(config)
    if validate_text(text, "(generated)") != config:
        raise ProvisionError("generated kiosk.toml does not round-trip / 生成的配置无法往返校验")
    return text.encode("utf-8")
