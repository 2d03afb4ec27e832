"""The hub books ``sale.refunded`` against its sale, on SQLite and PostgreSQL."""

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from hub.ingest.batch import ingest_batch
from hub.ingest.models import Event, Quarantine, Refund, RefundLine, RefundPayment
from hub.reports import queries as reports
from kiosk.sync.schema import batch, check_event, make_event
from tests.events import sale_chain

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 24, 3, 0, tzinfo=dt.UTC)
TOPIC = "pos/K01/up/events"


def ingest(events: list[dict[str, Any]]):  # type: ignore[no-untyped-def]
    return ingest_batch(TOPIC, batch("K01", events), NOW, TZ)


def refund_event(
    seq: int,
    prev: str,
    refund_id: str,
    sale_id: str = "K01-sale-1",
    lines: tuple[tuple[int, int, int], ...] = ((1, 1, 150),),
    ts: str = "2026-11-25T09:00:00.000+08:00",
) -> dict[str, Any]:
    """A ``sale.refunded`` of (position, quantity, fen) lines, paid back in cash."""
    amount = sum(fen for _, _, fen in lines)
    data = {
        "refund_id": refund_id, "sale_id": sale_id, "receipt_no": f"S01-K-{sale_id}", "store": "S01",
        "amount_fen": amount, "currency": "CNY",
        "lines": [{"position": p, "sku": "A", "quantity": q, "total_fen": f} for p, q, f in lines],
        "payments": [{"method": "cash", "amount_fen": amount, "reference": ""}],
        "reason": "damaged", "attendant": "attendant-1", "member_id": None, "ledger": [],
        "coupons_restored": [],
    }  # fmt: skip
    return make_event(
        event_id=f"K01-rf-{seq}", device="K01", seq=seq, boot="boot", ts=ts, type="sale.refunded", prev=prev,
        data=data,
    )  # fmt: skip


def test_schema_requires_the_refund_fields() -> None:
    sales = sale_chain("K01", 1)
    event = refund_event(2, sales[0]["hash"], "r-1")
    assert check_event(event, "K01") is None
    broken = make_event(
        event_id="x", device="K01", seq=2, boot="b", ts=event["ts"], type="sale.refunded", prev="p",
        data={k: v for k, v in event["data"].items() if k != "ledger"},
    )  # fmt: skip
    assert check_event(broken, "K01") == "sale.refunded data field 'ledger' is missing or has the wrong type"


def test_refund_is_booked_with_its_lines_and_payments_once(hub_db) -> None:  # type: ignore[no-untyped-def]
    sales = sale_chain("K01", 2)  # the general path on SQLite, the bulk path on PostgreSQL
    refund = refund_event(3, sales[1]["hash"], "r-1", lines=((1, 2, 300), (2, 1, 300)))
    result = ingest([*sales, refund])
    assert (result.applied, result.rejected) == (3, [])
    assert [(r.id, r.sale_id, r.amount_fen, r.day, r.attendant) for r in Refund.select()] == [
        ("r-1", "K01-sale-1", 600, "2026-11-25", "attendant-1")
    ]
    assert sorted((x.position, x.quantity, x.total_fen) for x in RefundLine.select()) == [
        (1, 2, 300),
        (2, 1, 300),
    ]
    assert [(p.method, p.amount_fen) for p in RefundPayment.select()] == [("cash", 600)]
    again = ingest([refund])
    assert (again.applied, again.duplicates, again.acked) == (0, 1, ["K01-rf-3"])
    assert Refund.select().count() == 1
    assert reports.refund_totals("2026-11-25", "2026-11-25") == reports.RefundTotals(1, 600)
    assert reports.refund_totals("2026-11-24", "2026-11-24") == reports.RefundTotals(0, 0)
    assert reports.day_summary("2026-11-24").total_fen == 1200  # sales stay booked on their own day


def test_refund_of_an_unknown_sale_is_quarantined_with_the_reason(hub_db) -> None:  # type: ignore[no-untyped-def]
    sales = sale_chain("K01", 1)
    stray = refund_event(2, sales[0]["hash"], "r-9", sale_id="K09-sale-7")
    result = ingest([*sales, stray])
    reason = (
        "refund r-9 is for sale K09-sale-7, which the hub has not booked; "
        "replay it from quarantine once the sale arrives"
    )
    assert result.rejected == [{"id": "K01-rf-2", "reason": reason}]
    assert [(q.event_id, q.reason) for q in Quarantine.select()] == [("K01-rf-2", reason)]
    assert Refund.select().count() == 0
    assert not Event.select().where(Event.id == "K01-rf-2").exists()


def test_refund_above_what_is_left_is_rejected_and_the_chain_goes_on(hub_db) -> None:  # type: ignore[no-untyped-def]
    sales = sale_chain("K01", 1)
    first = refund_event(2, sales[0]["hash"], "r-1", lines=((1, 2, 300),))
    too_many = refund_event(3, first["hash"], "r-2", lines=((1, 1, 150),))
    too_much = refund_event(4, too_many["hash"], "r-3", lines=((2, 1, 301),))
    fine = refund_event(5, too_much["hash"], "r-4", lines=((2, 1, 300),))
    result = ingest([*sales, first, too_many, too_much, fine])
    assert result.rejected == [
        {"id": "K01-rf-3", "reason": "refund r-2: line 1 of sale S01-K-K01-sale-1 has 0 of 2 left to "
                                     "refund, not 1"},
        {"id": "K01-rf-4", "reason": "refund r-3 of 301 fen exceeds what sale S01-K-K01-sale-1 has left "
                                     "(300 of 600 fen)"},
    ]  # fmt: skip
    assert [r.id for r in Refund.select().order_by(Refund.id)] == ["r-1", "r-4"]
    assert reports.refund_totals("2026-11-01", "2026-11-30") == reports.RefundTotals(2, 600)


def test_refund_whose_lines_do_not_add_up_is_rejected(hub_db) -> None:  # type: ignore[no-untyped-def]
    sales = sale_chain("K01", 1)
    event = refund_event(2, sales[0]["hash"], "r-1")
    event["data"]["payments"][0]["amount_fen"] = 100
    event = make_event(**{k: event[k] for k in ("device", "seq", "boot", "ts", "type", "prev", "data")},
                       event_id=event["id"])  # fmt: skip
    result = ingest([*sales, event])
    assert result.rejected == [
        {"id": "K01-rf-2", "reason": "refund r-1: lines or payments do not add up to 150 fen"}
    ]


def test_refund_that_arrived_before_its_sale_applies_on_replay(hub_db) -> None:  # type: ignore[no-untyped-def]
    from hub.ingest import quarantine

    sales = sale_chain("K01", 1)
    early = refund_event(2, sales[0]["hash"], "r-1", sale_id="K02-sale-1")
    assert len(ingest([*sales, early]).rejected) == 1
    [entry] = quarantine.entries()
    ingest_batch("pos/K02/up/events", batch("K02", sale_chain("K02", 1)), NOW, TZ)
    outcome = quarantine.replay(entry.id, NOW, TZ)
    assert (outcome.resolved, outcome.applied) == (True, 1)
    assert [(r.id, r.sale_id, r.amount_fen) for r in Refund.select()] == [("r-1", "K02-sale-1", 150)]
    assert quarantine.open_count() == 0
