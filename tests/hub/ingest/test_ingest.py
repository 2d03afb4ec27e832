import datetime as dt
import json
from zoneinfo import ZoneInfo

from hub.fleet.devices import DeviceRegistry, StoreBook
from hub.ingest.batch import configure_stores, ingest_batch
from hub.ingest.models import DeviceHead, Event, Gap, Quarantine, Sale, SaleLine
from hub.reports import queries as reports
from kiosk.sync.schema import batch, make_event
from tests.events import sale_chain, sale_data

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 24, 3, 0, tzinfo=dt.UTC)
TOPIC = "pos/K01/up/events"


def ingest(events: list[dict[str, object]], topic: str = TOPIC, device: str = "K01"):  # type: ignore[no-untyped-def]
    return ingest_batch(topic, batch(device, events), NOW, TZ)


def test_sales_are_booked_and_acked(hub_db) -> None:  # type: ignore[no-untyped-def]
    events = sale_chain("K01", 3)
    result = ingest(events)
    assert result.acked == ["K01-ev-1", "K01-ev-2", "K01-ev-3"]
    assert result.rejected == []
    assert (result.applied, result.duplicates) == (3, 0)
    summary = reports.day_summary("2026-11-24")
    assert (summary.sales, summary.total_fen, summary.items) == (3, 1800, 9)
    assert SaleLine.select().count() == 6


def test_duplicate_delivery_is_counted_once_and_reacked(hub_db) -> None:  # type: ignore[no-untyped-def]
    events = sale_chain("K01", 2)
    ingest(events)
    again = ingest(events)
    assert again.acked == ["K01-ev-1", "K01-ev-2"]
    assert (again.applied, again.duplicates) == (0, 2)
    assert Sale.select().count() == 2
    assert reports.day_summary("2026-11-24").total_fen == 1200


def test_sale_day_is_the_shops_local_day(hub_db) -> None:  # type: ignore[no-untyped-def]
    [late] = sale_chain("K01", 1, ts="2026-11-24T23:30:00.000+08:00")
    ingest([late])
    [early_utc] = sale_chain("K02", 1, ts="2026-11-24T16:30:00.000+00:00")  # 00:30 next day in Shanghai
    ingest([early_utc], topic="pos/K02/up/events", device="K02")
    assert reports.day_summary("2026-11-24").sales == 1
    assert reports.day_summary("2026-11-25").sales == 1


def test_malformed_message_is_quarantined_and_hub_goes_on(hub_db) -> None:  # type: ignore[no-untyped-def]
    assert ingest_batch(TOPIC, b"{garbage", NOW, TZ) is None
    [row] = Quarantine.select()
    assert row.topic == TOPIC and row.payload == "{garbage" and row.reason.startswith("not JSON")
    result = ingest(sale_chain("K01", 1))
    assert result.applied == 1


def test_batch_from_another_device_is_quarantined(hub_db) -> None:  # type: ignore[no-untyped-def]
    payload = batch("K02", sale_chain("K02", 1))
    assert ingest_batch(TOPIC, payload, NOW, TZ) is None
    assert Quarantine.get().reason == "batch device 'K02' differs from topic device 'K01'"
    assert Event.select().count() == 0


def test_tampered_event_is_rejected_and_its_neighbours_apply(hub_db) -> None:  # type: ignore[no-untyped-def]
    events = sale_chain("K01", 3)
    events[1]["data"]["total_fen"] = 1  # type: ignore[index]
    result = ingest(events)
    assert result.acked == ["K01-ev-1", "K01-ev-3"]
    assert result.rejected == [{"id": "K01-ev-2", "reason": "hash does not match the event's content"}]
    assert Quarantine.get().event_id == "K01-ev-2"


def test_chain_break_is_rejected(hub_db) -> None:  # type: ignore[no-untyped-def]
    first = sale_chain("K01", 1)
    forged = sale_chain("K01", 1, start_seq=2, prev="f" * 64)
    ingest(first)
    result = ingest(forged)
    head = {"seq": 1, "hash": first[0]["hash"]}  # so a restored terminal can re-chain after it
    assert result.rejected == [
        {"id": "K01-ev-2", "reason": "hash chain does not link at sequence 2", "rebase": head}
    ]
    assert Sale.select().count() == 1


def test_gap_is_recorded_and_late_events_still_apply(hub_db) -> None:  # type: ignore[no-untyped-def]
    events = sale_chain("K01", 5)
    ingest(events[:2])
    ingest(events[4:])
    [gap] = Gap.select()
    assert (gap.device, gap.expected, gap.got) == ("K01", 3, 5)
    late = ingest(events[2:4])
    assert late.acked == ["K01-ev-3", "K01-ev-4"]
    assert Sale.select().count() == 5


def test_reused_sequence_number_is_rejected(hub_db) -> None:  # type: ignore[no-untyped-def]
    ingest(sale_chain("K01", 2))
    replay = make_event(
        event_id="other-id", device="K01", seq=1, boot="b", ts="2026-11-24T10:00:00+08:00",
        type="sale.completed", prev="0" * 64, data=sale_data("other-sale", [("A", 1, 1)]),
    )  # fmt: skip
    result = ingest([replay])
    reason = "sequence 1 already used by another event of this device"
    head = {"seq": 2, "hash": DeviceHead.get().hash}
    assert result.rejected == [{"id": "other-id", "reason": reason, "rebase": head}]


def test_sale_whose_lines_do_not_add_up_is_rejected(hub_db) -> None:  # type: ignore[no-untyped-def]
    [event] = sale_chain("K01", 1)
    data = json.loads(json.dumps(event["data"]))
    data["total_fen"] = 999
    bad = make_event(
        event_id="bad", device="K01", seq=1, boot="b", ts=str(event["ts"]),
        type="sale.completed", prev="0" * 64, data=data,
    )  # fmt: skip
    result = ingest([bad])
    assert result.rejected == [{"id": "bad", "reason": "line totals do not add up to the sale total"}]
    assert Event.select().count() == 0 and Sale.select().count() == 0


def test_the_registry_decides_the_store_an_event_claiming_another_is_quarantined(hub_db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    registry = DeviceRegistry(tmp_path)
    registry.add("S02", "Till", NOW, device_id="K01")
    registry.save()
    configure_stores(StoreBook(tmp_path))
    try:
        result = ingest(sale_chain("K01", 2))  # tests.events sells for S01
    finally:
        configure_stores(None)
    assert result.acked == [] and [r["id"] for r in result.rejected] == ["K01-ev-1", "K01-ev-2"]
    assert Quarantine.select().first().reason == (
        "the event says store 'S01', but terminal K01 is registered for store 'S02'; re-provision it or fix"
        " the registry, then replay / 事件中的门店 S01 与终端 K01 登记的门店 S02 不符，"
        "请重新开通终端或修正登记后重放"
    )
    assert Sale.select().count() == 0


def test_an_empty_batch_is_quarantined_not_acked(hub_db) -> None:  # type: ignore[no-untyped-def]
    assert ingest([]) is None
    assert Quarantine.get().reason == "'events' is empty: a batch holds at least one event"
