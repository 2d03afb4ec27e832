import json

import pytest

from kiosk.sync.schema import GENESIS, SchemaError, batch, check_event, make_event, parse_batch


def _event(**overrides: object) -> dict[str, object]:
    event = make_event(
        event_id="e1", device="K01", seq=1, boot="b", ts="2026-11-24T10:00:00.000+08:00",
        type="sale.completed", prev=GENESIS, data={"sale_id": "s1", "total_fen": 100},
    )  # fmt: skip
    event.update(overrides)
    return event


def test_well_formed_event_passes() -> None:
    assert check_event(_event(), "K01") is None


def test_edited_event_fails_its_hash() -> None:
    event = _event()
    event["data"] = {"sale_id": "s1", "total_fen": 1}
    assert check_event(event, "K01") == "hash does not match the event's content"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"device": "K02"}, "event device 'K02' differs from topic device 'K01'"),
        ({"type": "sale.stolen"}, "unknown event type 'sale.stolen'"),
        ({"seq": "1"}, "field 'seq' is missing or not a int"),
        ({"seq": True}, "field 'seq' is missing or not a int"),
        ({"data": []}, "field 'data' is missing or not a dict"),
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
