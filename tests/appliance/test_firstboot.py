"""First boot against a temporary root: file installed 0600 kiosk, settings applied."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from kiosk.config import (
    BrokerConfig,
    DataConfig,
    DeviceConfig,
    KioskConfig,
    StoreConfig,
    WifiConfig,
    dump_config,
)
from kiosk.firstboot import FirstBootError, install, main, wpa_supplicant_conf

NOW = datetime(2026, 11, 24, 1, 2, 3, tzinfo=UTC)


def make_config(wifi: WifiConfig | None = None) -> KioskConfig:
    return KioskConfig(
        store=StoreConfig(id="s-001", name="一号店", timezone="Asia/Urumqi"),
        device=DeviceConfig(id="K07", name="Till 7"),
        broker=BrokerConfig(host="hub.lan", username="K07", password="p" * 20),
        data=DataConfig(encryption_key=base64.b64encode(b"k" * 32).decode()),
        wifi=wifi,
    )


@pytest.fixture
def root(tmp_path: Path) -> Path:
    tree = tmp_path / "root"
    (tree / "etc").mkdir(parents=True)
    (tree / "etc/passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\nkiosk:x:1234:2345:Kiosk:/var/lib/kiosk:/usr/sbin/nologin\n"
    )
    (tree / "etc/hosts").write_text("127.0.0.1\tlocalhost\n127.0.1.1\tkiosk\n")
    (tree / "etc/localtime").symlink_to("/usr/share/zoneinfo/Etc/UTC")
    (tree / "boot/firmware").mkdir(parents=True)
    return tree


def put(root: Path, text: str) -> Path:
    source = root / "boot/firmware/kiosk.toml"
    source.write_text(text, encoding="utf-8")
    return source


def test_installs_file_private_to_kiosk_and_removes_it_from_boot(root: Path) -> None:
    text = dump_config(make_config())
    source = put(root, text)
    install(source, root, now=NOW)
    installed = root / "etc/kiosk/kiosk.toml"
    info = installed.stat()
    assert installed.read_text(encoding="utf-8") == text
    assert stat.S_IMODE(info.st_mode) == 0o600
    assert (info.st_uid, info.st_gid) == (1234, 2345)
    assert stat.S_IMODE((root / "etc/kiosk").stat().st_mode) == 0o700
    assert (root / "etc/kiosk").stat().st_uid == 1234
    assert not source.exists()
    assert sorted(os.listdir(root / "boot/firmware")) == []


def test_applies_hostname_timezone_and_stamp(root: Path) -> None:
    text = dump_config(make_config())
    install(put(root, text), root, now=NOW)
    assert (root / "etc/hostname").read_text() == "kiosk-k07\n"
    assert (root / "etc/hosts").read_text() == "127.0.0.1\tlocalhost\n127.0.1.1\tkiosk-k07\n"
    assert os.readlink(root / "etc/localtime") == "/usr/share/zoneinfo/Asia/Urumqi"
    assert (root / "etc/timezone").read_text() == "Asia/Urumqi\n"
    assert json.loads((root / "etc/kiosk/firstboot.done").read_text()) == {
        "device": "K07",
        "installed_at": "2026-11-24T01:02:03+00:00",
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
        "store": "s-001",
    }
    assert not (root / "etc/wpa_supplicant/wpa_supplicant-wlan0.conf").exists()


def test_wifi_written_with_derived_key_not_passphrase(root: Path) -> None:
    wifi = WifiConfig(ssid="ShopNet", psk="correct horse battery", country="CN")
    install(put(root, dump_config(make_config(wifi))), root, now=NOW)
    conf = root / "etc/wpa_supplicant/wpa_supplicant-wlan0.conf"
    assert stat.S_IMODE(conf.stat().st_mode) == 0o600
    body = conf.read_text()
    assert "correct horse battery" not in body
    expected = hashlib.pbkdf2_hmac("sha1", b"correct horse battery", b"ShopNet", 4096, 32).hex()
    assert body == (
        "# Written by kiosk first boot from kiosk.toml [wifi].\n"
        "ctrl_interface=DIR=/run/wpa_supplicant GROUP=netdev\n"
        "country=CN\n"
        "network={\n"
        '\tssid="ShopNet"\n'
        f"\tpsk={expected}\n"
        "\tkey_mgmt=WPA-PSK\n"
        "}\n"
    )


def test_wpa_psk_matches_the_ieee_test_vector() -> None:
    # IEEE 802.11i-2004 Annex H.4 test vector: "password" / "IEEE".
    conf = wpa_supplicant_conf(WifiConfig(ssid="IEEE", psk="password"))
    assert "psk=f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e\n" in conf


def test_reprovisioning_without_wifi_removes_old_wifi(root: Path) -> None:
    wifi = WifiConfig(ssid="ShopNet", psk="correct horse battery")
    install(put(root, dump_config(make_config(wifi))), root, now=NOW)
    install(put(root, dump_config(make_config())), root, now=NOW)
    assert not (root / "etc/wpa_supplicant/wpa_supplicant-wlan0.conf").exists()


def test_invalid_file_stays_on_boot_with_a_readable_error(root: Path) -> None:
    text = dump_config(make_config()).replace("[broker]", "[brokr]")
    source = put(root, text)
    with pytest.raises(FirstBootError):
        install(source, root, now=NOW)
    assert source.read_text(encoding="utf-8") == text
    error = (root / "boot/firmware/kiosk-error.txt").read_text(encoding="utf-8")
    assert "unknown key; did you mean `broker`?" in error
    assert "是不是想写 `broker`？" in error
    assert not (root / "etc/kiosk").exists()


def test_error_file_is_removed_once_fixed(root: Path) -> None:
    source = put(root, "[store]\n")
    with pytest.raises(FirstBootError):
        install(source, root, now=NOW)
    install(put(root, dump_config(make_config())), root, now=NOW)
    assert sorted(os.listdir(root / "boot/firmware")) == []


def test_image_without_kiosk_user_is_reported(root: Path) -> None:
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    source = put(root, dump_config(make_config()))
    with pytest.raises(FirstBootError, match="镜像中缺少用户 `kiosk`"):
        install(source, root, now=NOW)
    assert source.exists()


def test_command_exit_codes(root: Path) -> None:
    runner = CliRunner()
    bad = runner.invoke(main, ["--root", str(root), str(put(root, "x = 1\n"))])
    assert bad.exit_code == 1
    assert "unknown key; valid keys: store, device, broker, data, wifi" in bad.output
    good = runner.invoke(main, ["--root", str(root), str(put(root, dump_config(make_config())))])
    assert good.exit_code == 0
    assert good.output == "kiosk firstboot: installed device K07 of store s-001 / 已安装终端 K07\n"
