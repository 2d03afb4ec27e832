"""The dependency locks: they pin every package pyproject.toml names, and installs use them."""

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import lock_check  # noqa: E402  (scripts/ is not a package: the same code bootstrap runs)


def _names(specs: list[str]) -> dict[str, Requirement]:
    return {lock_check.normalise(Requirement(s).name): Requirement(s) for s in specs}


@pytest.mark.parametrize(("kind", "extras"), [("x86_64", ["kiosk", "hub", "dev"]), ("aarch64", ["kiosk"])])
def test_lock_pins_every_dependency_of_pyproject(kind: str, extras: list[str]) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extra_specs = [s for e in extras for s in project["optional-dependencies"][e]]
    wanted = _names(project["dependencies"] + extra_specs)
    lock = ROOT / "requirements" / f"{kind}.txt"
    pins = lock_check.pinned(lock)

    assert lock_check.LOCK_EXTRAS[kind] == extras
    assert sorted(set(wanted) - set(pins)) == [], "run `make lock`"
    for name, requirement in wanted.items():
        assert Version(pins[name]) in requirement.specifier, f"{name}=={pins[name]} breaks {requirement}"
    # every pin carries its hashes (pip --require-hashes refuses the whole lock otherwise)
    entries = re.split(r"\n(?=[A-Za-z0-9])", lock.read_text().split("\n", 2)[2].strip())
    assert len(entries) == len(pins)
    assert [e.split(" ")[0] for e in entries if "--hash=sha256:" not in e] == []


def test_image_lock_has_no_hub_or_dev_package() -> None:
    pins = lock_check.pinned(ROOT / "requirements" / "aarch64.txt")
    assert {"fastapi", "uvicorn", "psycopg2-binary", "pytest", "uv"} & set(pins) == set()
    assert {"kivy", "evdev", "paho-mqtt", "peewee"} <= set(pins)


def test_lock_check_names_what_a_lock_lacks(tmp_path: Path) -> None:
    """A package added to pyproject.toml without `make lock`: bootstrap's check names it."""
    text = (ROOT / "pyproject.toml").read_text()
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(text.replace('  "fastapi>=0.110",', '  "fastapi>=0.110",\n  "Ba_bel>=2",'))
    lock = ROOT / "requirements" / "x86_64.txt"

    assert lock_check.missing(lock, pyproject) == ["ba-bel"]
    assert lock_check.missing(ROOT / "requirements" / "aarch64.txt", pyproject) == []  # a hub package
    assert lock_check.missing(lock) == []


def test_installs_read_the_locks() -> None:
    bootstrap = (ROOT / "scripts/bootstrap.sh").read_text()
    assert "lock=requirements/$(uname -m).txt" in bootstrap
    assert 'pip install --require-hashes -r "$lock"' in bootstrap
    assert "pip install --no-deps -e ." in bootstrap
    image = (ROOT / "image/steps/30-venv.sh").read_text()
    assert "requirements/aarch64.txt" in image and "--require-hashes" in image
    assert "lock:" in (ROOT / "Makefile").read_text()
    assert shutil.which("shellcheck"), "bootstrap installs shellcheck"
    scripts = [str(ROOT / "scripts" / name) for name in ("bootstrap.sh", "lock.sh")]
    result = subprocess.run(["shellcheck", *scripts], capture_output=True, text=True)
    assert (result.returncode, result.stdout) == (0, "")
