"""A staff PIN against a big roster on a real SQLite file: with the hub's lookup tags the terminal
checks one tag and the matching person's salted hash, not every hash; people the hub sent without
a tag (added before tags) and a roster without a tag key are still found, by trying their hashes."""

import datetime as dt
import json
from typing import Any

import pytest

from kiosk.domain import staff as staff_rules
from kiosk.domain.staff import DEFAULT_PERMISSIONS, hash_pin, new_tag_key, pin_tag
from kiosk.store import staff

ROSTER = 200
TAG_KEY = new_tag_key(b"roster-tag-salt1")
NOW = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)


def person(n: int, pin: str, tagged: bool = True) -> dict[str, Any]:
    return {
        "id": f"st-{n:03d}", "name": f"员工{n:03d}", "role": "attendant", "badge": None, "active": True,
        "pin_hash": hash_pin(pin, f"salt-{n:011d}".encode()),
        "pin_tag": pin_tag(pin, TAG_KEY) if tagged else "",
    }  # fmt: skip


def roster(people: list[dict[str, Any]], tag_key: str = TAG_KEY) -> bytes:
    permissions = {role: list(actions) for role, actions in DEFAULT_PERMISSIONS.items()}
    body = {"v": 1, "version": 1, "store": "S01", "permissions": permissions, "staff": people}
    return json.dumps({**body, "pin_tag_key": tag_key} if tag_key else body).encode()


@pytest.fixture(scope="module")
def people() -> list[dict[str, Any]]:
    """200 people with PINs 100000..100199 (six digits: no two alike), each hashed and tagged once."""
    return [person(n, str(100000 + n)) for n in range(ROSTER)]


@pytest.fixture
def hashes_tried(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The PIN hashes :func:`kiosk.store.staff.match_pin` checks, in order (each really checked)."""
    tried: list[str] = []

    def counted(pin: str, encoded: str) -> bool:
        tried.append(encoded)
        return staff_rules.verify_pin(pin, encoded)

    monkeypatch.setattr(staff, "verify_pin", counted)
    return tried


def test_a_tagged_roster_checks_only_the_matching_persons_hash(kiosk_db, people, hashes_tried) -> None:  # type: ignore[no-untyped-def]
    assert staff.apply_roster(roster(people), NOW)
    last = staff.staff_for_pin("100199")
    assert last is not None and (last.id, last.name) == ("st-199", "员工199")
    assert hashes_tried == [people[199]["pin_hash"]]
    hashes_tried.clear()
    assert staff.staff_for_pin("999999") is None
    # a wrong PIN tries only people who happen to share its 16-bit tag: none or very few
    assert len(hashes_tried) == sum(p["pin_tag"] == pin_tag("999999", TAG_KEY) for p in people) <= 2


def test_people_without_a_tag_are_still_found_after_the_tagged_ones(kiosk_db, people, hashes_tried) -> None:  # type: ignore[no-untyped-def]
    untagged = [person(900, "246810", tagged=False), person(901, "135790", tagged=False)]
    assert staff.apply_roster(roster(people[:10] + untagged), NOW)
    found = staff.staff_for_pin("135790")
    assert found is not None and found.id == "st-901"
    assert hashes_tried == [untagged[0]["pin_hash"], untagged[1]["pin_hash"]]


def test_a_roster_without_a_tag_key_tries_every_hash_as_before(kiosk_db, people, hashes_tried) -> None:  # type: ignore[no-untyped-def]
    assert staff.apply_roster(roster(people[:20], tag_key=""), NOW)
    found = staff.staff_for_pin("100019")
    assert found is not None and found.id == "st-019"
    assert len(hashes_tried) == 20


def test_a_tag_key_that_cannot_be_read_tags_nothing() -> None:
    assert pin_tag("1357", "scrypt$4096$8$1") == "" and pin_tag("1357", "bcrypt$1$2$3$c2FsdA==") == ""
    assert pin_tag("1357", TAG_KEY) == pin_tag("1357", TAG_KEY) != pin_tag("1358", TAG_KEY)
