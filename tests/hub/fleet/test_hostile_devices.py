"""Nothing a person types reaches the broker's password or ACL file: hostile names and ids refused."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from hub.commands.device import device
from hub.fleet.devices import DeviceRecord, RegistryError
from hub.fleet.provision import acl_text

HOSTILE_NAMES = {
    "newline": "Back till\ntopic read pos/#",
    "hash": "Till #2",
    "plus": "Till+",
    "slash": "pos/a",
    "nul": "Till\x00",
    "long": "收银台" * 14,
}


def add(tmp_path: Path, *options: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        device,
        ["add", "--broker-host", "hub.lan", "--data", str(tmp_path / "hub"),
         "--broker-dir", str(tmp_path / "broker"), "--no-reload", *options],
    )  # fmt: skip
    return result.exit_code, result.output


@pytest.mark.parametrize("kind", sorted(HOSTILE_NAMES))
def test_a_hostile_name_is_refused_and_nothing_is_written(tmp_path: Path, kind: str) -> None:
    code, output = add(tmp_path, "--store", "s-001", "--name", HOSTILE_NAMES[kind])
    assert code == 1 and "Traceback" not in output
    assert "terminal name" in output and "终端名称无效" in output
    assert not (tmp_path / "broker").exists() and not (tmp_path / "hub" / "devices.json").exists()


@pytest.mark.parametrize("bad", ["d-1\nuser hub", "d/1", "d+", "#", "a b", "d-1\x00", "x" * 33, ""])
def test_a_hostile_id_or_store_is_refused(tmp_path: Path, bad: str) -> None:
    code, output = add(tmp_path, "--store", "s-001", "--name", "Till", "--id", bad)
    assert code == 1 and "终端编号" in output and "Traceback" not in output
    code, output = add(tmp_path, "--store", bad, "--name", "Till")
    assert code == 1 and "门店编号" in output and "Traceback" not in output
    assert not (tmp_path / "broker").exists()


def test_the_acl_is_written_from_ids_only_and_checks_them_again(tmp_path: Path) -> None:
    code, output = add(tmp_path, "--store", "s-001", "--name", "前台 1 号机", "--id", "K01")
    assert code == 0, output
    acl = (tmp_path / "broker" / "acl").read_text()
    assert "前台" not in acl and "s-001" not in acl
    assert acl.endswith(
        "user K01\ntopic write pos/K01/up/#\ntopic write pos/K01/status\ntopic read pos/K01/down/#\n"
    )
    smuggled = DeviceRecord("d-1\ntopic read pos/#", "s-001", "x", "2026-11-24T00:00:00+00:00")
    with pytest.raises(RegistryError, match="device id"):
        acl_text([smuggled])
