import json

import orjson
import pytest

from kiosk.sync.schema import (
    GENESIS,
    SchemaError,
    batch,
    batch_of_bodies,
    batch_sent_at,
    check_event,
    make_event,
    parse_ack,
    parse_batch,
    parse_uplink,
)
from tests.events import sale_data


def _event(**overrides: object) -> dict[str, object]:
    event = make_event(
        event_id="e1", device="K01", seq=1, boot="b", ts="2026-11-24T10:00:00.000+08:00",
        type="sale.completed", prev=GENESIS, data=sale_data("s1", [("A", 100, 1)]),
    )  # fmt: skip
    event.update(overrides)
    return event


def test_well_formed_event_passes() -> None:
    assert check_event(_event(), "K01") is None


def test_edited_event_fails_its_hash() -> None:
    event = _event()
    event["data"] = sale_data("s1", [("A", 1, 1)])
    assert check_event(event, "K01") == "hash does not match the event's content"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"device": "K02"}, "event device 'K02' differs from topic device 'K01'"),
        ({"type": "sale.stolen"}, "unknown event type 'sale.stolen'"),
        ({"seq": "1"}, "field 'seq' is missing or not a int"),
        ({"seq": True}, "field 'seq' is missing or not a int"),
        ({"data": []}, "field 'data' is missing or not a dict"),
        ({"seq": 0}, "sequence number 0 is not positive"),
    ],
)
def test_malformed_events_are_named(change: dict[str, object], reason: str) -> None:
    assert check_event(_event(**change), "K01") == reason


def test_non_object_event() -> None:
    assert check_event([1, 2], "K01") == "event is not a JSON object"


def test_batch_round_trip() -> None:
    payload = batch("K01", [_event()])
    assert json.loads(payload)["v"] == 1
    assert parse_batch(payload, "K01") == [_event()]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"\xff\xfe", "not JSON"),
        (b"{not json", "not JSON"),
        (b"[]", "not a JSON object"),
        (b'{"v": 2, "device": "K01", "events": []}', "unknown schema version 2"),
        (b'{"v": 1, "device": "K02", "events": []}', "differs from topic device"),
        (b'{"v": 1, "device": "K01"}', "'events' is missing"),
    ],
)
def test_unusable_batches_raise(payload: bytes, message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        parse_batch(payload, "K01")


def _rehashed(**data_changes: object) -> dict[str, object]:
    data = {**sale_data("s1", [("A", 100, 1)]), **data_changes}
    return make_event(
        event_id="e1", device="K01", seq=1, boot="b", ts="2026-11-24T10:00:00.000+08:00",
        type="sale.completed", prev=GENESIS, data=data,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("change", "field"),
    [({"total_fen": "100"}, "total_fen"), ({"lines": None}, "lines"), ({"store": 7}, "store")],
)
def test_sale_without_the_data_the_hub_books_is_named(change: dict[str, object], field: str) -> None:
    reason = check_event(_rehashed(**change), "K01")
    assert reason == f"sale.completed data field {field!r} is missing or has the wrong type"


def test_rules_version_is_optional_but_a_whole_number_when_given() -> None:
    assert check_event(_rehashed(), "K01") is None  # an older terminal's sale
    assert check_event(_rehashed(rules_version=0), "K01") is None
    assert check_event(_rehashed(rules_version=3), "K01") is None
    for bad in ("3", True, 2.0):
        reason = check_event(_rehashed(rules_version=bad), "K01")
        assert reason == "sale.completed data field 'rules_version' has the wrong type"


def test_batch_carries_the_terminals_send_time() -> None:
    payload = batch("K01", [], sent_at="2099-01-01T00:00:00.000+08:00")
    assert batch_sent_at(payload) == "2099-01-01T00:00:00.000+08:00"
    assert batch_sent_at(batch("K01", [])) is None
    assert batch_sent_at(b"junk") is None


def test_ack_is_parsed_and_junk_entries_dropped() -> None:
    payload = b'{"v":1,"ids":["a",3],"rejected":[{"id":"b","reason":"r"},{"x":1}]}'
    assert parse_ack(payload) == {"ids": ["a"], "rejected": [{"id": "b", "reason": "r"}], "resend": []}
    asked = b'{"v":1,"ids":[],"rejected":[],"resend":[[4,5],[9,7],[0,1],["1",2],[3],[true,2],[8,8]]}'
    assert parse_ack(asked)["resend"] == [(4, 5), (8, 8)]  # backwards, zero, typed wrong: dropped
    with pytest.raises(SchemaError, match="not a version-1 ack"):
        parse_ack(b'{"v":2,"ids":[]}')


def test_a_batch_of_stored_bodies_is_the_same_message_as_a_batch_of_events() -> None:
    first, second = _event(), _event(id="e2", device="K01")
    bodies = [
        json.dumps(e, ensure_ascii=False, sort_keys=True) for e in (first, second)
    ]  # as the outbox stores
    sent_at = "2026-11-24T10:00:00.250+08:00"
    payload = batch_of_bodies("K01", bodies, sent_at)
    assert json.loads(payload) == json.loads(batch("K01", [first, second], sent_at=sent_at))
    assert parse_uplink(payload, "K01") == ([first, second], sent_at)
    assert payload.startswith(b'{"device":"K01","events":[{"boot": "b", "data": {"currency": "CNY", ')


def test_values_orjson_writes_differently_still_verify_and_parse() -> None:
    # 1e-7 is "1e-07" to the reference encoder and "1e-7" to orjson; 2**70 does not fit orjson
    assert orjson.dumps(1e-7) != json.dumps(1e-7).encode()
    event = _rehashed(weight_kg=1e-7, big=2**70)
    assert check_event(event, "K01") is None
    tampered = dict(event, data={**event["data"], "weight_kg": 2e-7})
    assert check_event(tampered, "K01") == "hash does not match the event's content"
    events, _sent_at = parse_uplink(batch("K01", [event]), "K01")
    assert events[0]["data"]["big"] == 2**70 and events[0]["data"]["weight_kg"] == 1e-7
