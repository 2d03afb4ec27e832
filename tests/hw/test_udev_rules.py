"""The udev rules the image installs: every rule uses real udev keys and operators."""

import re
from pathlib import Path

import kiosk.hw

RULES = Path(kiosk.hw.__file__).parent / "udev" / "99-kiosk.rules"
MATCH_KEYS = {"SUBSYSTEM", "KERNEL", "ATTR", "ATTRS", "ENV"}
ASSIGN_KEYS = {"SYMLINK", "GROUP", "MODE", "ENV"}
TERM = re.compile(r'^([A-Z]+)(\{[A-Za-z_]+\})?(==|!=|\+=|=)"([^"]*)"$')


def rules() -> list[str]:
    text = RULES.read_text(encoding="utf-8").replace("\\\n", " ")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_every_rule_matches_a_subsystem_and_assigns_group_and_mode() -> None:
    parsed = []
    for rule in rules():
        terms = [t.strip() for t in rule.split(",") if t.strip()]
        matched = [TERM.match(t) for t in terms]
        assert all(matched), rule
        for m in matched:
            key, op = m.group(1), m.group(3)
            assert key in (MATCH_KEYS if op in ("==", "!=") else ASSIGN_KEYS), rule
        assigned = {m.group(1): m.group(4) for m in matched if m.group(3) != "=="}
        parsed.append(assigned)
    assert len(parsed) == 7
    assert {p["GROUP"] for p in parsed} == {"input", "lp"}
    assert {p["MODE"] for p in parsed} == {"0660"}
    assert sorted(p["SYMLINK"] for p in parsed if "SYMLINK" in p) == [
        "input/kiosk-card",
        "input/kiosk-card",
        "input/kiosk-scanner",
    ]
