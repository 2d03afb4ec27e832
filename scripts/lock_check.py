"""Which extras each lock in requirements/ holds, and whether it still covers pyproject.toml.

``python3 scripts/lock_check.py requirements/x86_64.txt``: prints the dependencies that
pyproject.toml names (the project's own and its lock's extras) and the lock lacks, and exits 1
when there are any (scripts/bootstrap.sh refuses then: run ``make lock``).
``python3 scripts/lock_check.py --extras x86_64``: the ``--extra`` options ``make lock`` gives uv.
Plain Python 3.11 (tomllib), no packages: it runs before the venv exists.
"""

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# the lock of each machine kind and the extras it holds besides the project's own dependencies
LOCK_EXTRAS = {
    "x86_64": ["kiosk", "hub", "dev"],  # development and CI
    "aarch64": ["kiosk"],  # the SD-card image: the terminal alone
}

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def normalise(name: str) -> str:
    """A distribution name as pip compares them (PEP 503): ``Tomli_W`` → ``tomli-w``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def required(kind: str, pyproject: Path = ROOT / "pyproject.toml") -> dict[str, str]:
    """normalised name → requirement string, for the project's dependencies and ``kind``'s extras."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    specs = list(project["dependencies"])
    for extra in LOCK_EXTRAS[kind]:
        specs += project["optional-dependencies"][extra]
    found = {}
    for spec in specs:
        match = _NAME.match(spec)
        if match:
            found[normalise(match.group(1))] = spec
    return found


def pinned(lock: Path) -> dict[str, str]:
    """normalised name → pinned version, from a lock's ``name==version`` lines."""
    pins = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        name, sep, rest = line.partition("==")
        if sep and not line.startswith((" ", "#")):
            pins[normalise(name)] = rest.split()[0].rstrip("\\").strip()
    return pins


def missing(lock: Path, pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """The names ``pyproject`` requires for ``lock``'s kind (its file name) that ``lock`` does not pin."""
    return sorted(set(required(lock.stem, pyproject)) - set(pinned(lock)))


def main(argv: list[str]) -> int:
    """Command line: see the module's docstring."""
    if argv[:1] == ["--extras"]:
        print(" ".join(f"--extra {extra}" for extra in LOCK_EXTRAS[argv[1]]))
        return 0
    lacking = missing(Path(argv[0]))
    if lacking:
        print(", ".join(lacking))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
