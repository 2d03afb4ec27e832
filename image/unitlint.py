#!/usr/bin/env python3
"""The project's own check for systemd units: what ``systemd-analyze verify`` misses.

``verify`` accepts ``After=network.online.target`` (a unit that does not
exist is not an error for ordering) and only warns about ``Type=notfy`` with
exit status 0. This lint fails on both, plus the project's rules:
``Type=notify`` needs ``WatchdogSec``, exec paths are absolute, enumerated
values are spelled right, and singular keys are not set twice.

Usage: ``python3 image/unitlint.py [--units-dir DIR]... UNIT...``; exit 1 on problems.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LintProblem", "Unit", "known_units", "lint_unit", "ordered_after", "parse_unit"]

SYSTEM_UNIT_DIRS = (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system"))
# Units the image gets from Debian packages or fstab that a build machine may lack.
IMAGE_PROVIDED_UNITS = frozenset(
    {
        "mosquitto.service",
        "wpa_supplicant@.service",
        "boot-firmware.mount",
        "data.mount",
        "getty@.service",
    }
)
SECTIONS = frozenset({"Unit", "Service", "Install", "Socket", "Timer", "Mount", "Path"})
UNIT_LIST_KEYS = frozenset(
    {
        "After",
        "Before",
        "Wants",
        "Requires",
        "Requisite",
        "BindsTo",
        "PartOf",
        "Conflicts",
        "Upholds",
        "OnFailure",
        "OnSuccess",
        "WantedBy",
        "RequiredBy",
        "Also",
        "Unit",  # [Path] and [Timer]: the service they start
    }
)
ENUMS: dict[str, frozenset[str]] = {
    "Type": frozenset({"simple", "exec", "forking", "oneshot", "dbus", "notify", "idle"}),
    "Restart": frozenset(
        {"no", "always", "on-success", "on-failure", "on-abnormal", "on-abort", "on-watchdog"}
    ),
    "NotifyAccess": frozenset({"none", "main", "exec", "all"}),
    "ProtectSystem": frozenset({"yes", "no", "true", "false", "full", "strict"}),
    "ProtectHome": frozenset({"yes", "no", "true", "false", "read-only", "tmpfs"}),
    "DevicePolicy": frozenset({"auto", "closed", "strict"}),
    "StandardInput": frozenset({"null", "tty", "tty-force", "tty-fail", "data", "socket"}),
}
BOOLEANS = frozenset(
    {
        "NoNewPrivileges",
        "PrivateTmp",
        "PrivateDevices",
        "ProtectKernelTunables",
        "ProtectKernelModules",
        "ProtectKernelLogs",
        "ProtectControlGroups",
        "ProtectClock",
        "ProtectHostname",
        "RestrictRealtime",
        "RestrictSUIDSGID",
        "LockPersonality",
        "MemoryDenyWriteExecute",
        "RemainAfterExit",
        "DefaultDependencies",
        "RestrictNamespaces",
    }
)
BOOLEAN_VALUES = frozenset({"yes", "no", "true", "false", "on", "off", "1", "0"})
SINGULAR = frozenset({"Type", "Restart", "ExecStart", "WatchdogSec", "User", "Group"})
EXEC_KEYS = re.compile(r"^Exec(Start|StartPre|StartPost|Stop|StopPost|Reload|Condition)$")
UNIT_SUFFIXES = (
    ".service",
    ".target",
    ".mount",
    ".socket",
    ".timer",
    ".path",
    ".slice",
    ".device",
    ".swap",
    ".scope",
    ".automount",
)


@dataclass(frozen=True)
class LintProblem:
    """One mistake in a unit file, with its line."""

    path: str
    line: int
    en: str
    zh: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.en} / {self.zh}"


@dataclass
class Unit:
    """A parsed unit: ``(section, key, value, line)`` in file order."""

    path: str
    entries: list[tuple[str, str, str, int]]

    def values(self, section: str, key: str) -> list[tuple[str, int]]:
        """Every value of ``key`` in ``section`` with its line."""
        return [(v, n) for s, k, v, n in self.entries if s == section and k == key]


def parse_unit(path: Path) -> tuple[Unit, list[LintProblem]]:
    """Parse a unit file the way systemd reads it (comments, continuations, sections)."""
    entries: list[tuple[str, str, str, int]] = []
    problems: list[LintProblem] = []
    section = ""
    pending = ""
    start = 0
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = pending + raw.strip() if pending else raw.strip()
        start = start if pending else number
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            if section not in SECTIONS and not section.startswith("X-"):
                problems.append(
                    _problem(path, start, f"unknown section [{section}]", f"未知的节 [{section}]")
                )
        elif "=" in line:
            key, value = (part.strip() for part in line.split("=", 1))
            entries.append((section, key, value, start))
        else:
            problems.append(_problem(path, start, "line is not `Key=value`", "该行不是 `键=值`"))
    return Unit(str(path), entries), problems


def _problem(path: Path | str, line: int, en: str, zh: str) -> LintProblem:
    return LintProblem(str(path), line, en, zh)


def known_units(dirs: list[Path]) -> set[str]:
    """Names of every unit file in ``dirs`` plus those the image provides."""
    names = set(IMAGE_PROVIDED_UNITS)
    for directory in dirs:
        if directory.is_dir():
            names.update(p.name for p in directory.iterdir() if p.name.endswith(UNIT_SUFFIXES))
    return names


def _template_of(name: str) -> str:
    """``getty@tty1.service`` -> ``getty@.service`` (the file that provides it)."""
    if "@" in name:
        prefix, _, rest = name.partition("@")
        return f"{prefix}@{rest[rest.rfind('.') :]}"
    return name


def _unit_files(dirs: list[Path]) -> dict[str, Unit]:
    """Every unit file in ``dirs``, parsed, by name (the first directory wins, as in systemd)."""
    units: dict[str, Unit] = {}
    for directory in reversed(dirs):
        if directory.is_dir():
            for path in directory.iterdir():
                if path.name.endswith(UNIT_SUFFIXES) and path.is_file():
                    units[path.name] = parse_unit(path)[0]
    return units


def _names(unit: Unit | None, section: str, key: str) -> set[str]:
    return {n for value, _ in (unit.values(section, key) if unit else []) for n in value.split()}


def ordered_after(name: str, dirs: list[Path]) -> set[str]:
    """Every unit ``name`` waits for when they start together: its ``After=``, the units that
    say ``Before=`` it, and theirs in turn, as written in the files of ``dirs``.

    A service's implicit ``After=basic.target`` is added (``DefaultDependencies=no`` drops it);
    other implicit orderings (of mounts, sockets) are not. Units ``name`` conflicts with are
    stopped when it starts, not waited for, and are left out.
    """
    units = _unit_files(dirs)
    before: dict[str, set[str]] = {}
    for other, unit in units.items():
        for target in _names(unit, "Unit", "Before"):
            before.setdefault(target, set()).add(other)
    first = units.get(name) or units.get(_template_of(name))
    skip = _names(first, "Unit", "Conflicts")
    waits: set[str] = set()
    pending = [name]
    while pending:
        current = pending.pop()
        unit = units.get(current) or units.get(_template_of(current))
        following = _names(unit, "Unit", "After") | before.get(current, set())
        defaults = [v for v, _ in unit.values("Unit", "DefaultDependencies")] if unit else []
        if current.endswith(".service") and defaults[-1:] != ["no"]:
            following.add("basic.target")
        for nxt in following - waits - skip - {name}:
            waits.add(nxt)
            pending.append(nxt)
    return waits


def _check_references(unit: Unit, known: set[str]) -> list[LintProblem]:
    problems = []
    for section, key, value, line in unit.entries:
        if key not in UNIT_LIST_KEYS or section not in ("Unit", "Install", "Path", "Timer"):
            continue
        for name in value.split():
            # Device units appear when udev sees the hardware; no file provides them.
            if name in known or _template_of(name) in known or name.endswith(".device"):
                continue
            close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.8)
            hint = f"; did you mean {close[0]}?" if close else ""
            hint_zh = f"；是不是 {close[0]}？" if close else ""
            problems.append(
                _problem(
                    unit.path,
                    line,
                    f"{key}= names unknown unit {name}{hint}",
                    f"{key}= 引用了不存在的单元 {name}{hint_zh}",
                )
            )
    return problems


def _check_values(unit: Unit) -> list[LintProblem]:
    problems = []
    seen: dict[tuple[str, str], int] = {}
    # Only a oneshot service may list several ExecStart= commands.
    oneshot = [v for v, _ in unit.values("Service", "Type")][-1:] == ["oneshot"]
    for section, key, value, line in unit.entries:
        allowed = ENUMS.get(key)
        if allowed is not None and value not in allowed:
            close = difflib.get_close_matches(value, sorted(allowed), n=1)
            hint = f"; did you mean {key}={close[0]}?" if close else ""
            problems.append(
                _problem(unit.path, line, f"{key}={value} is not valid{hint}", f"{key}={value} 不是有效值")
            )
        if key in BOOLEANS and value.lower() not in BOOLEAN_VALUES:
            problems.append(
                _problem(
                    unit.path, line, f"{key}= needs yes or no, got {value!r}", f"{key}= 只能是 yes 或 no"
                )
            )
        if EXEC_KEYS.match(key) and not value.lstrip("-@:+!").startswith("/"):
            problems.append(
                _problem(unit.path, line, f"{key}= needs an absolute path", f"{key}= 需要绝对路径")
            )
        repeatable = oneshot and key == "ExecStart"
        if key in SINGULAR and (section, key) in seen and not repeatable:
            problems.append(
                _problem(
                    unit.path,
                    line,
                    f"{key}= set twice (first on line {seen[section, key]})",
                    f"{key}= 重复设置",
                )
            )
        seen.setdefault((section, key), line)
    return problems


def _check_watchdog(unit: Unit) -> list[LintProblem]:
    types = unit.values("Service", "Type")
    watchdog = unit.values("Service", "WatchdogSec")
    if types and types[-1][0] == "notify" and not watchdog:
        return [
            _problem(
                unit.path,
                types[-1][1],
                "Type=notify without WatchdogSec: a hung app is never restarted",
                "Type=notify 缺少 WatchdogSec",
            )
        ]
    if (
        watchdog
        and not (types and types[-1][0] not in ENUMS["Type"])
        and not (types and types[-1][0] == "notify")
    ):
        line = watchdog[-1][1]
        return [
            _problem(
                unit.path,
                line,
                "WatchdogSec without Type=notify: nothing pings it",
                "WatchdogSec 需要 Type=notify",
            )
        ]
    return []


def lint_unit(path: Path, known: set[str]) -> list[LintProblem]:
    """Every problem in the unit file at ``path``; ``known`` is from :func:`known_units`."""
    unit, problems = parse_unit(path)
    problems += _check_references(unit, known)
    problems += _check_values(unit)
    problems += _check_watchdog(unit)
    return sorted(problems, key=lambda p: p.line)


def main(argv: list[str] | None = None) -> int:
    """Lint the given units; print problems; return 1 if there were any."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("units", nargs="+", type=Path)
    parser.add_argument("--units-dir", action="append", type=Path, default=[])
    args = parser.parse_args(argv)
    dirs = [*SYSTEM_UNIT_DIRS, *args.units_dir, *{u.parent for u in args.units}]
    known = known_units(dirs)
    problems = [p for unit in args.units for p in lint_unit(unit, known)]
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
