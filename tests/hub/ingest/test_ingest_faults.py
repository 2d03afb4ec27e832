"""Ingest edge cases: oversized messages, clashes inside a bulk write, duplicates within one batch."""

import datetime as dt
import json
from zoneinfo import ZoneInfo

from hub.ingest import batch as ingest
from hub.ingest.batch import MAX_MESSAGE_BYTES, QUARANTINE_KEEP_BYTES, ingest_batch
from hub.ingest.models import Event, Quarantine, Sale
from hub.reports import queries as reports
from kiosk.sync.schema import batch, make_event
from tests.events import sale_chain, sale_data

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 24, 3, 0, tzinfo=dt.UTC)


def test_oversized_message_is_quarantined_truncated_and_not_acked(hub_db) -> None:  # type: ignore[no-untyped-def]
    events = sale_chain("K01", 1)
    events[0]["data"]["padding"] = "x" * MAX_MESSAGE_BYTES  # type: ignore[index]
    payload = batch("K01", events)
    assert ingest_batch("pos/K01/up/events", payload, NOW, TZ) is None
    [entry] = Quarantine.select()
    assert entry.reason == f"message of {len(payload)} bytes exceeds {MAX_MESSAGE_BYTES}"
    assert entry.payload == payload[:QUARANTINE_KEEP_BYTES].decode("utf-8", errors="replace")
    assert Event.select().count() == 0


def test_a_sale_clashing_inside_a_bulk_batch_is_rejected_alone(hub_db) -> None:  # type: ignore[no-untyped-def]
    ingest_batch("pos/K02/up/events", batch("K02", sale_chain("K02", 1)), NOW, TZ)
    events = sale_chain("K01", 3)
    clash = make_event(
        event_id="K01-ev-2", device="K01", seq=2, boot="b", ts=str(events[1]["ts"]), type="sale.completed",
        prev=str(events[0]["hash"]), data=sale_data("K02-sale-1", [("A", 150, 2), ("B", 300, 1)]),
    )  # fmt: skip
    third = make_event(**{**_fields(events[2]), "prev": clash["hash"]})
    result = ingest_batch("pos/K01/up/events", batch("K01", [events[0], clash, third]), NOW, TZ)
    assert result is not None
    assert result.acked == ["K01-ev-1", "K01-ev-3"] and [r["id"] for r in result.rejected] == ["K01-ev-2"]
    assert result.rejected[0]["reason"].startswith("sale conflicts with a booked sale")
    assert sorted(s.id for s in Sale.select()) == ["K01-sale-1", "K01-sale-3", "K02-sale-1"]


def _fields(event: dict[str, object]) -> dict[str, object]:
    renamed = {"id": "event_id"}
    return {renamed.get(k, k): v for k, v in event.items() if k != "hash"}


def test_the_same_event_twice_in_one_batch_is_booked_once(hub_db) -> None:  # type: ignore[no-untyped-def]
    events = sale_chain("K01", 2)
    result = ingest_batch("pos/K01/up/events", batch("K01", [events[0], events[1], events[0]]), NOW, TZ)
    assert result is not None and (result.applied, result.duplicates) == (2, 1)
    assert sorted(result.acked) == ["K01-ev-1", "K01-ev-1", "K01-ev-2"]
    assert reports.day_summary("2026-11-24").total_fen == 1200


def test_a_member_sale_hook_sends_member_sales_the_event_by_event_way_and_may_reject(
    hub_db, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    seen: list[str] = []

    def loyalty_check(event: dict[str, object], tz: ZoneInfo) -> None:
        seen.append(str(event["id"]))
        if event["seq"] == 2:
            raise ingest.Rejected("points earned do not match the rules")

    monkeypatch.setattr(ingest, "MEMBER_SALE_HOOKS", [loyalty_check])
    result = ingest_batch("pos/K01/up/events", batch("K01", sale_chain("K01", 3, member_id="m-1")), NOW, TZ)
    assert result is not None and result.acked == ["K01-ev-1", "K01-ev-3"]
    assert seen == ["K01-ev-1", "K01-ev-2", "K01-ev-3"]
    assert json.loads(Quarantine.get().payload)["id"] == "K01-ev-2"
    assert Sale.select().count() == 2  # the rejected sale's rows were rolled back with its savepoint


def test_a_forked_device_is_held_until_it_links_to_the_hubs_head(hub_db) -> None:  # type: ignore[no-untyped-def]
    from hub.fleet import presence as fleet

    ingest_batch("pos/K01/up/events", batch("K01", sale_chain("K01", 2)), NOW, TZ)
    first_hash = sale_chain("K01", 1)[0]["hash"]
    restored = make_event(
        event_id="restored-3", device="K01", seq=2, boot="b", ts="2026-11-24T10:00:00.000+08:00",
        type="sale.completed", prev=first_hash, data=sale_data("restored-sale", [("A", 1, 1)]),
    )  # fmt: skip
    later = make_event(
        event_id="restored-4", device="K01", seq=3, boot="b", ts="2026-11-24T10:00:00.000+08:00",
        type="sale.completed", prev=restored["hash"], data=sale_data("restored-sale-2", [("A", 1, 1)]),
    )  # fmt: skip
    result = ingest_batch("pos/K01/up/events", batch("K01", [restored, later]), NOW, TZ)
    assert result is not None and [r["reason"] for r in result.rejected] == [
        "sequence 2 already used by another event of this device",
        "waiting for sequence 3 after the hub's head (re-chain)",
    ]
    assert [row.forked for row in fleet.fleet(NOW)] == [True]
    head = result.rejected[0]["rebase"]
    rechained = make_event(**{**_fields(restored), "seq": head["seq"] + 1, "prev": head["hash"]})
    again = ingest_batch("pos/K01/up/events", batch("K01", [rechained]), NOW, TZ)
    assert again is not None and again.acked == ["restored-3"]
    assert [row.forked for row in fleet.fleet(NOW)] == [False]
    assert Quarantine.select().where(Quarantine.resolved_at.is_null()).count() == 1  # restored-4 still waits
