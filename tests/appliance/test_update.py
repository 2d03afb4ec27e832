"""A/B updates with real venvs and real wheels: install, health check, switch, roll back."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kiosk.updates.venvs import Releases, UpdateError
from tests.appliance.wheels import make_wheel

CHECK = ["python", "-c", "import kiosk_probe; print(kiosk_probe.VERSION)"]


@pytest.fixture(scope="module")
def house(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("wheels")
    make_wheel(path, "0.2.0", 'VERSION = "0.2.0"\n')
    make_wheel(path, "0.3.0", 'VERSION = "0.3.0"\n')
    make_wheel(path, "0.4.0", 'raise SystemExit("0.4.0 is broken")\n')
    return path


def test_update_switches_and_rollback_returns(tmp_path: Path, house: Path) -> None:
    releases = Releases(tmp_path / "venvs")
    assert (releases.current, releases.previous, releases.installed()) == (None, None, [])
    releases.update("0.2.0", house, CHECK)
    assert (releases.current, releases.previous) == ("0.2.0", None)
    releases.update("0.3.0", house, CHECK)
    assert (releases.current, releases.previous) == ("0.3.0", "0.2.0")
    assert releases.installed() == ["0.2.0", "0.3.0"]
    assert os.path.realpath(tmp_path / "venvs/current") == str(tmp_path / "venvs/0.3.0")
    assert releases.rollback() == "0.2.0"
    assert (releases.current, releases.previous) == ("0.2.0", "0.3.0")


def test_failed_health_check_changes_nothing(tmp_path: Path, house: Path) -> None:
    releases = Releases(tmp_path / "venvs")
    releases.update("0.3.0", house, CHECK)
    with pytest.raises(UpdateError, match=r"health check of 0\.4\.0.*0\.4\.0 is broken"):
        releases.update("0.4.0", house, CHECK)
    assert (releases.current, releases.previous) == ("0.3.0", None)
    assert releases.installed() == ["0.3.0"]
    assert sorted(os.listdir(tmp_path / "venvs")) == ["0.3.0", "current"]


def test_missing_wheel_and_nothing_to_roll_back_are_errors(tmp_path: Path, house: Path) -> None:
    releases = Releases(tmp_path / "venvs")
    with pytest.raises(UpdateError, match="could not install the wheels"):
        releases.install("9.9.9", house)
    assert releases.installed() == []
    with pytest.raises(UpdateError, match="没有可回退的旧版本"):
        releases.rollback()
    with pytest.raises(UpdateError, match=r"版本 0\.2\.0 未安装"):
        releases.switch("0.2.0")
