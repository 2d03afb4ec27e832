"""Provisioning round trip: device add -> broker files and kiosk.toml -> onto a FAT image."""

from __future__ import annotations

import base64
import json
import re
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from hub.commands.device import device
from hub.fleet.devices import DeviceRecord
from hub.fleet.provision import (
    ProvisionError,
    acl_text,
    find_boot_partition,
    read_from_image,
    write_to_boot,
    write_to_image,
)
from kiosk.config import load_config, parse_config

from .conftest import BOOT_START_SECTOR, mtools_read, run


def cli(*args: str) -> str:
    result = CliRunner().invoke(device, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "hub", tmp_path / "broker"


def add(dirs: tuple[Path, Path], *extra: str) -> str:
    data, broker = dirs
    out = cli(
        "add",
        "--store",
        "s-001",
        "--name",
        "Front till",
        "--broker-host",
        "hub.lan",
        "--data",
        str(data),
        "--broker-dir",
        str(broker),
        "--no-reload",
        *extra,
    )
    found = re.search(r"device (d-[0-9a-f]{6}) added", out)
    assert found, out
    return found.group(1)


def test_find_boot_partition_offset(disk_image: Path) -> None:
    assert find_boot_partition(disk_image) == BOOT_START_SECTOR * 512


def test_write_to_image_round_trips_bytes(disk_image: Path) -> None:
    data = '# 一号店\n[store]\nid = "s-001"\n'.encode() * 50
    offset = write_to_image(disk_image, data)
    assert offset == 1048576
    assert mtools_read(disk_image, offset, "kiosk.toml") == data
    assert mtools_read(disk_image, offset, "config.txt") == b"arm_64bit=1\n"
    shorter = b"second write replaces the first\n"
    write_to_image(disk_image, shorter)
    assert read_from_image(disk_image) == shorter
    listing = run("mdir", "-b", "-i", f"{disk_image}@@{offset}", "::")
    assert sorted(listing.split()) == ["::/config.txt", "::/kiosk.toml"]


def test_image_without_fat_partition_is_refused(tmp_path: Path) -> None:
    image = tmp_path / "linux-only.img"
    image.write_bytes(b"\0" * 4 * 1048576)
    run("sfdisk", "--quiet", str(image), stdin="label: dos\nstart=2048, type=83\n")
    with pytest.raises(ProvisionError, match="没有 FAT 启动分区"):
        write_to_image(image, b"x")
    blank = tmp_path / "blank.img"
    blank.write_bytes(b"\0" * 1048576)
    with pytest.raises(ProvisionError, match="no partition table"):
        find_boot_partition(blank)


def test_write_to_boot_needs_a_pi_boot_partition(tmp_path: Path) -> None:
    with pytest.raises(ProvisionError, match="not a Raspberry Pi boot partition"):
        write_to_boot(tmp_path, b"x")
    (tmp_path / "config.txt").write_text("")
    assert write_to_boot(tmp_path, b"abc") == tmp_path / "kiosk.toml"
    assert (tmp_path / "kiosk.toml").read_bytes() == b"abc"


def test_acl_lets_each_device_only_its_own_topics() -> None:
    devices = [
        DeviceRecord("d-000001", "s-001", "Till 1", "2026-11-24T00:00:00+00:00"),
        DeviceRecord("d-000002", "s-001", "Old", "2026-11-24T00:00:00+00:00", "2026-11-25"),
    ]
    assert acl_text(devices) == (
        "# Written by `hub device`; edits are overwritten. 由 `hub device` 生成，请勿手改。\n"
        "user hub\n"
        "topic readwrite pos/#\n"
        "\n"
        "user d-000001\n"
        "topic write pos/d-000001/up/#\n"
        "topic write pos/d-000001/status\n"
        "topic read pos/d-000001/down/#\n"
    )


def test_device_add_writes_registry_broker_files_and_valid_kiosk_toml(
    dirs: tuple[Path, Path],
) -> None:
    data, broker = dirs
    device_id = add(
        dirs, "--store-name", "一号店", "--wifi-ssid", "ShopNet", "--wifi-psk", "correct horse battery"
    )
    issued = data / "devices" / device_id / "kiosk.toml"
    assert stat.S_IMODE(issued.stat().st_mode) == 0o600
    config = load_config(issued)
    assert (config.store.id, config.store.name, config.device.id) == ("s-001", "一号店", device_id)
    assert (config.broker.host, config.broker.port, config.broker.username) == ("hub.lan", 1883, device_id)
    assert len(config.broker.password) == 32
    assert len(config.data.key_bytes()) == 32
    assert config.wifi is not None and config.wifi.ssid == "ShopNet"
    registry = json.loads((data / "devices.json").read_text())
    assert registry["version"] == 1
    assert list(registry["devices"]) == [device_id]
    assert registry["devices"][device_id]["store"] == "s-001"
    assert registry["devices"][device_id]["revoked_at"] is None
    (entry,) = (broker / "passwd").read_text().splitlines()
    assert entry.startswith(f"{device_id}:$7$")
    assert f"user {device_id}\ntopic write pos/{device_id}/up/#\n" in (broker / "acl").read_text()


def test_each_device_gets_its_own_password_and_the_business_key(dirs: tuple[Path, Path]) -> None:
    data, _ = dirs
    first, second = add(dirs), add(dirs)
    one = load_config(data / "devices" / first / "kiosk.toml")
    two = load_config(data / "devices" / second / "kiosk.toml")
    assert first != second
    assert one.broker.password != two.broker.password
    # one key per business: the same phone has the same blind index in every store
    key_file = data / "business.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert one.data.encryption_key == two.data.encryption_key == key_file.read_text().strip()
    assert len(base64.b64decode(one.data.encryption_key)) == 32


def test_device_add_names_the_payment_gateway_only_when_given(dirs: tuple[Path, Path]) -> None:
    data, _ = dirs
    plain = load_config(data / "devices" / add(dirs) / "kiosk.toml")
    assert plain.payments is None  # cash and member payment only
    paying = add(dirs, "--gateway-url", "http://pay.shop.lan:8765")
    config = load_config(data / "devices" / paying / "kiosk.toml")
    assert config.payments is not None
    assert (config.payments.gateway_url, config.payments.timeout_s) == ("http://pay.shop.lan:8765", 10.0)


def test_device_add_refuses_a_gateway_that_is_not_an_http_address(dirs: tuple[Path, Path]) -> None:
    data, broker = dirs
    argv = ["add", "--store", "s-001", "--name", "Till", "--broker-host", "hub.lan", "--data", str(data),
            "--broker-dir", str(broker), "--no-reload", "--gateway-url", "pay.shop.lan:8765"]  # fmt: skip
    result = CliRunner().invoke(device, argv)
    assert result.exit_code == 2
    assert "'pay.shop.lan:8765' is not an http(s)://host[:port][/path] address" in result.output
    assert "不是 http(s)://主机[:端口][/路径] 形式的地址" in result.output
    assert not (data / "devices.json").exists()  # nothing registered


def test_hub_serve_reads_the_business_key_for_the_ledger_checks(dirs: tuple[Path, Path]) -> None:
    from hub.members import book as member_book
    from hub.members.settings import configure_loyalty
    from kiosk.store.pii import PiiKey

    data, _ = dirs
    assert configure_loyalty(data) is False
    assert member_book.settings.key is None
    add(dirs)
    assert configure_loyalty(data) is True
    key = PiiKey(base64.b64decode((data / "business.key").read_text()))
    assert member_book.settings.key is not None
    assert member_book.settings.key.blind_index("+8613800138000") == key.blind_index("+8613800138000")
    member_book.settings.key = None


def test_revoke_removes_login_acl_and_issued_file(dirs: tuple[Path, Path]) -> None:
    data, broker = dirs
    keep, gone = add(dirs), add(dirs)
    assert cli("revoke", gone, "--data", str(data), "--broker-dir", str(broker), "--no-reload").startswith(
        f"device {gone} revoked / 已吊销终端 {gone}"
    )
    users = [ln.split(":")[0] for ln in (broker / "passwd").read_text().splitlines()]
    assert users == [keep]
    assert gone not in (broker / "acl").read_text()
    assert not (data / "devices" / gone).joinpath("kiosk.toml").exists()
    listing = cli("list", "--data", str(data)).splitlines()
    assert sorted(line.split("\t")[0] for line in listing) == sorted([keep, gone])
    assert any(line.startswith(f"{gone}\ts-001\tFront till\trevoked 20") for line in listing)
    again = CliRunner().invoke(
        device, ["revoke", gone, "--data", str(data), "--broker-dir", str(broker), "--no-reload"]
    )
    assert again.exit_code == 1
    assert "already revoked" in again.output


def test_device_write_into_image_and_read_back(dirs: tuple[Path, Path], disk_image: Path) -> None:
    data, _ = dirs
    device_id = add(dirs)
    out = cli("write", device_id, "--image", str(disk_image), "--data", str(data))
    assert out == f"kiosk.toml written to {disk_image} (boot partition at byte 1048576) / 已写入\n"
    issued = (data / "devices" / device_id / "kiosk.toml").read_bytes()
    on_card = mtools_read(disk_image, 1048576, "kiosk.toml")
    assert on_card == issued
    assert parse_config(on_card.decode()).device.id == device_id


def test_device_write_refuses_an_invalid_file(tmp_path: Path, disk_image: Path) -> None:
    bad = tmp_path / "kiosk.toml"
    bad.write_text("[stor]\n")
    result = CliRunner().invoke(device, ["write", "--file", str(bad), "--image", str(disk_image)])
    assert result.exit_code == 1
    assert "did you mean `store`?" in result.output
    assert mtools_read(disk_image, 1048576, "config.txt") == b"arm_64bit=1\n"
    listing = run("mdir", "-b", "-i", f"{disk_image}@@1048576", "::")
    assert listing.split() == ["::/config.txt"]
