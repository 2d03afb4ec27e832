"""The MQTT envelope on garbage: the parser, the event check and the hub's ingest never crash.

Whatever arrives on ``pos/{d}/up/events`` (random bytes, random JSON, a real batch with one
field replaced, the same re-hashed so it passes the hash check), the hub either books a
well-formed sale, rejects the event with a reason, or quarantines the message: never an
exception, never a sale whose lines do not add up.
"""

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.db import database
from hub.db.schema import open_hub_database
from hub.ingest.batch import ingest_batch
from hub.ingest.models import Sale, SaleLine
from kiosk.sync.schema import SchemaError, batch, check_event, event_hash, parse_uplink
from tests.events import sale_chain
from tests.fuzz.budget import budget
from tests.sync.harness import TZ

NOW = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
VALID = sale_chain("K01", 2)
FIELDS = sorted(VALID[0]) + [f"data.{k}" for k in sorted(VALID[0]["data"])]


@pytest.fixture(scope="module")
def fuzz_hub(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One SQLite hub for every example (SQLite: the parser and checks are the same on both)."""
    db = open_hub_database(f"sqlite:///{tmp_path_factory.mktemp('fuzzhub') / 'hub.db'}")
    yield db
    db.close()


def mutated(field: str, value: Any, rehash: bool) -> dict[str, Any]:
    event = json.loads(json.dumps(VALID[0]))
    holder, key = (event["data"], field[5:]) if field.startswith("data.") else (event, field)
    holder[key] = value
    if rehash and isinstance(event.get("prev"), str):
        event["hash"] = event_hash(event)
    return event


@budget(400)
@given(st.binary(max_size=300) | JSON.map(lambda v: json.dumps(v).encode()))
def test_parser_refuses_garbage_with_a_schema_error(payload: bytes) -> None:
    try:
        events, _sent = parse_uplink(payload, "K01")
    except (SchemaError, ValueError):
        return
    assert isinstance(events, list) and events  # parsed: 1..n events, each checked one by one later


@budget(400)
@given(st.sampled_from(FIELDS), JSON, st.booleans())
def test_event_check_answers_a_reason_or_none_for_any_field_value(
    field: str, value: Any, rehash: bool
) -> None:
    reason = check_event(mutated(field, value, rehash), "K01")
    assert reason is None or (isinstance(reason, str) and reason)


@budget(150)
@given(st.sampled_from(FIELDS), JSON, st.booleans(), st.integers(0, 2))
def test_ingest_books_only_sales_that_add_up(
    fuzz_hub, field: str, value: Any, rehash: bool, where: int
) -> None:  # type: ignore[no-untyped-def]
    event = mutated(field, value, rehash)
    payloads = [batch("K01", [event]), json.dumps({"v": 1, "device": "K01", "events": [value]}).encode(),
                json.dumps(value).encode()]  # fmt: skip
    with database.atomic() as outer:  # every example starts from the same empty hub
        result = ingest_batch("pos/K01/up/events", payloads[where], NOW, TZ)
        assert result is None or len(result.acked) + len(result.rejected) <= 1
        for sale in Sale.select():
            lines = SaleLine.select().where(SaleLine.sale == sale.id)
            assert sale.total_fen == sum(line.total_fen for line in lines)
        outer.rollback()


def test_a_real_batch_is_booked_by_the_same_fixture(fuzz_hub) -> None:  # type: ignore[no-untyped-def]
    """The property above is not vacuous: the unmutated batch books two sales of 600 fen."""
    with database.atomic() as outer:
        result = ingest_batch("pos/K01/up/events", batch("K01", VALID), NOW, TZ)
        assert result is not None and result.applied == 2
        assert [s.total_fen for s in Sale.select()] == [600, 600]
        outer.rollback()


def test_a_sale_naming_its_member_by_a_list_is_rejected_not_raised(fuzz_hub) -> None:  # type: ignore[no-untyped-def]
    """Found by `make fuzz`: ``member_id: [null, null]`` (re-hashed) reached SQLite as a row value and
    the ingest raised, so the batch was never acked and the terminal resent it forever."""
    event = mutated("data.member_id", [None, None], rehash=True)
    assert check_event(event, "K01") == "sale.completed data field 'member_id' has the wrong type"
    with database.atomic() as outer:
        result = ingest_batch("pos/K01/up/events", batch("K01", [event]), NOW, TZ)
        assert result is not None and [r["id"] for r in result.rejected] == [event["id"]]
        outer.rollback()
