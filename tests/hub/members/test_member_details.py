"""Details staff corrected at a terminal reach the hub: a real terminal database writes the
``member.updated``, a real hub database (SQLite and PostgreSQL) books it encrypted under the hub's
key, once however often it arrives, shows it on the member page, and quarantines with the reason a
change it cannot accept."""

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.ingest.models import Quarantine
from hub.members import details as member_details
from hub.members import ledger as loyalty
from hub.members.book import settings
from hub.members.key_store import MemberKeyStore
from hub.members.models import HubMember
from hub.messaging import queue as messages
from hub.staff.accounts import add_staff
from hub.web.app import create_app
from kiosk.domain.loyalty import LoyaltyRules
from kiosk.domain.loyalty.member_details import DetailsChange
from kiosk.store import members
from kiosk.store.pii import PiiKey
from kiosk.store.sales import Terminal
from kiosk.sync.schema import make_event
from tests.hub.members.test_loyalty import CONSENT, KEY, NOW, PHONE, TZ, ingest, on_terminal

EDITED = NOW + dt.timedelta(minutes=10)


@pytest.fixture(autouse=True)
def hub_key(tmp_path: Path) -> Iterator[None]:
    store = MemberKeyStore(
        tmp_path / "data" / "member_keys.db"
    )  # members' data keys, as hub serve keeps them
    loyalty.configure(LoyaltyRules(), KEY, key_store=store)
    yield
    loyalty.configure(LoyaltyRules(), None)
    store.close()


def register_and_edit(terminal: Terminal, staff_id: str) -> None:
    members.register_member(KEY, terminal, NOW, PHONE, CONSENT, name="李四", member_id="m-1")
    change = DetailsChange(name="王女士", birthday=dt.date(1990, 5, 17), marketing=True)
    members.change_details(KEY, terminal, EDITED, "m-1", change, staff_id)


def clear(member_id: str, field: str) -> str:
    member = HubMember.get_by_id(member_id)
    return settings.key.decrypt(getattr(member, f"{field}_enc"), f"{member_id}:{field}")  # type: ignore[union-attr]


def test_a_details_change_is_booked_encrypted_once_and_shown_on_the_member_page(
    hub_db, tmp_path: Path, signed_in
) -> None:  # type: ignore[no-untyped-def]
    staff_id = add_staff("王芳", "attendant", ["S01"], "2468", NOW, "owner").id
    events = on_terminal(tmp_path, "K01", lambda terminal: register_and_edit(terminal, staff_id))
    assert [e["type"] for e in events] == ["member.registered", "member.updated", "audit.action"]
    assert ingest("K01", events).rejected == []
    assert (clear("m-1", "name"), clear("m-1", "birthday")) == ("王女士", "1990-05-17")
    consent = messages.consent_state("m-1")
    assert consent is not None and (consent.granted, consent.where) == (True, "S01/K01")
    again = ingest("K01", events)  # a resent batch books nothing twice
    assert (again.duplicates, again.rejected) == (3, [])
    [change] = member_details.changes("m-1")  # its time is checked on the page below
    assert {k: v for k, v in change.items() if k != "at"} == {
        "where": "S01/K01",
        "staff": "王芳",
        "fields": ["name", "birthday", "marketing"],
    }
    client = signed_in(create_app(TZ))
    page = client.get("/members/m-1").text
    assert re.search(r'<span id="member-name">([^<]*)</span>', page).group(1) == "王**"  # type: ignore[union-attr]
    shown = re.search(r'<p id="details-changes">(.*?)</p>', page, re.S).group(1)  # type: ignore[union-attr]
    assert (
        shown == '店员代改资料：<span class="details-change">'
        "2026-11-24 15:40 · S01/K01 · 王芳 · 称呼、生日、营销信息</span>"
    )
    english = client.get("/members/m-1?lang=en").text
    assert (
        'Details changed by staff: <span class="details-change">'
        "2026-11-24 15:40 · S01/K01 · 王芳 · name, birthday, offers</span>" in english
    )


def bad_update(events: list[dict[str, Any]], data: dict[str, Any]) -> dict[str, Any]:
    last = events[-1]
    return make_event(
        event_id="bad-update", device="K01", seq=last["seq"] + 1, boot="K01-boot", ts=EDITED.isoformat(),
        type="member.updated", prev=last["hash"], data={"member_id": "m-1", "changed_by": "st-0001", **data},
    )  # fmt: skip


def test_a_change_the_hub_cannot_accept_is_quarantined_with_why_and_changes_nothing(
    hub_db, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    def registered(terminal: Terminal) -> None:
        members.register_member(KEY, terminal, NOW, PHONE, CONSENT, name="李四", member_id="m-1")

    events = on_terminal(tmp_path, "K01", registered)
    ingest("K01", events)
    stranger = PiiKey(bytes(range(1, 33)))
    cases = [
        ({"name_enc": KEY.encrypt("王" * 21, "m-1:name")}, "称呼最多 20 个字"),
        ({"birthday_enc": KEY.encrypt("2030-01-01", "m-1:birthday")}, "应在 1900-01-01 至今天之间"),
        (
            {"name_enc": stranger.encrypt("王女士", "m-1:name")},
            "the name cannot be opened with the hub's keys",
        ),
        ({"name_enc": KEY.encrypt("王女士", "m-2:name")}, "the name cannot be opened with the hub's keys"),
        (
            {"marketing_consent": {"granted": "yes"}},
            "the marketing answer {'granted': 'yes'} is not yes or no",
        ),
    ]
    for data, why in cases:
        result = ingest("K01", [bad_update(events, data)])
        [rejected] = result.rejected
        assert rejected["id"] == "bad-update" and why in rejected["reason"], rejected
        assert clear("m-1", "name") == "李四" and HubMember.get_by_id("m-1").birthday_enc == ""
        Quarantine.delete().execute()
    assert messages.consent_state("m-1") is None and member_details.changes("m-1") == []
    unknown = bad_update(events, {"member_id": "m-404", "name_enc": ""})
    assert ingest("K01", [unknown]).rejected == [
        {"id": "bad-update", "reason": "member.updated: member m-404 is not known at the hub"}
    ]
