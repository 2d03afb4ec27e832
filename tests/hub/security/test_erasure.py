"""Erasure reaches every copy at the hub: the member rows, and the raw events the terminals sent.

Two stores register the same phone (merged at the hub), link a card and top up; the member is
erased through the API as the owner. No raw event or quarantined message holds anything the
business key opens or the card's number any more; the ledger still adds up and the terminal's
chain still links.
"""

import contextlib
import datetime as dt
import json
from pathlib import Path

from fastapi.testclient import TestClient

from hub.ingest.models import Event, Quarantine
from hub.members import ledger as loyalty
from hub.members.models import HubCard, HubMember
from hub.web.app import create_app
from kiosk.domain.loyalty import BONUS, POINTS, PRINCIPAL
from kiosk.store import members
from kiosk.store.pii import PiiError
from kiosk.store.sales import Terminal
from tests.hub.members.test_loyalty import CONSENT, KEY, NOW, PHONE, SV, TZ, grant, ingest, on_terminal


def store_a(terminal: Terminal) -> None:
    members.register_member(KEY, terminal, NOW, PHONE, CONSENT, member_id="m-1", name="张三")
    grant(terminal, "m-1", 300)


def store_b(terminal: Terminal) -> None:
    members.register_member(
        KEY, terminal, NOW + dt.timedelta(hours=1), PHONE, CONSENT, member_id="m-2", name="张三"
    )
    members.link_card(terminal, NOW, "m-2", "04A1B2C3")
    members.top_up_stored_value(terminal, NOW, "m-2", 10000, SV, "staff-2")


def opened_by_the_key(text: str) -> list[str]:
    """Every string field of a JSON text that the business key decrypts (for any member id), with the
    members' data keys the text itself carries (a hub without a key store keeps them there)."""
    found: list[str] = []
    data_keys: dict[str, str] = {}

    def collect(value: object) -> None:
        if isinstance(value, dict):
            if value.get("data_key") and value.get("id"):
                data_keys[str(value["id"])] = str(value["data_key"])
            for item in value.values():
                collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    collect(json.loads(text))
    key = KEY.with_data_keys(data_keys.get)

    def walk(value: object, member_id: str) -> None:
        if isinstance(value, dict):
            member_id = str(value.get("id", member_id))
            for item in value.values():
                walk(item, member_id)
        elif isinstance(value, list):
            for item in value:
                walk(item, member_id)
        elif isinstance(value, str) and value:
            for field in ("phone", "name", "birthday"):
                with contextlib.suppress(PiiError, ValueError):  # not sealed, or not for this field
                    found.append(key.decrypt(value, f"{member_id}:{field}"))

    walk(json.loads(text), "")
    return found


def test_erasure_blanks_the_members_raw_events_and_keeps_the_books(hub_db, tmp_path: Path, signed_in) -> None:  # type: ignore[no-untyped-def]
    events_b = on_terminal(tmp_path, "K02", store_b)
    ingest("K01", on_terminal(tmp_path, "K01", store_a))
    ingest("K02", events_b)
    Quarantine.create(topic="pos/K02/up/events", device="K02", event_id=events_b[0]["id"], reason="test copy",
                      payload=json.dumps(events_b[0]), received_at=NOW)  # fmt: skip
    assert HubMember.get_by_id("m-2").merged_into == "m-1"
    assert sorted(opened_by_the_key(Event.get_by_id(events_b[0]["id"]).body)) == ["+86" + PHONE, "张三"]
    before = loyalty.member_balances("m-1")
    hashes = {e.id: e.hash for e in Event.select()}

    client: TestClient = signed_in(create_app(TZ))
    answer = client.post("/api/v1/members/m-1/erase")
    assert answer.status_code == 200, answer.text

    for body in [e.body for e in Event.select()] + [q.payload for q in Quarantine.select()]:
        assert opened_by_the_key(body) == [] and "04A1B2C3" not in body
    registered = json.loads(Event.get_by_id(events_b[0]["id"]).body)["data"]
    assert (registered["erased"], registered["member"]["phone_index"]) == (True, "erased:m-2")
    assert [(m.id, m.phone_enc, m.name_enc) for m in HubMember.select().order_by(HubMember.id)] == [
        ("m-1", "", ""), ("m-2", "", "")
    ]  # fmt: skip
    assert HubCard.select().count() == 0
    assert loyalty.member_balances("m-1") == before == {POINTS: 300, PRINCIPAL: 10000, BONUS: 2000}
    assert {e.id: e.hash for e in Event.select()} == hashes  # the chains still link by hash

    def next_day(terminal: Terminal) -> None:  # K01 goes on after the erasure: its chain still links
        grant(terminal, "m-1", 5)

    later = on_terminal(tmp_path, "K01", next_day)[-1:]
    result = ingest("K01", later)
    assert (result.applied, result.rejected) == (1, [])
