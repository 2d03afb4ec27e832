import datetime as dt
import json
import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from kiosk.domain.cart import Cart
from kiosk.store import catalog, outbox
from kiosk.store.models import ChainHead, Outbox, Payment, Sale, SaleLine
from kiosk.store.sales import Approval, PaymentIntent, PaymentMismatch, Terminal, commit_sale
from kiosk.sync.schema import GENESIS, check_event

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 24, 15, 30, 0, tzinfo=SHANGHAI)
TERMINAL = Terminal(store="S01", device="K01", boot="boot-1")


@pytest.fixture
def cart(kiosk_db) -> Cart:  # type: ignore[no-untyped-def]
    catalog.seed_demo_catalog()
    water = catalog.find_by_barcode("6901010370005")
    milk = catalog.find_by_barcode("6902010370187")
    assert water is not None and milk is not None
    return Cart().add(water, 2).add(milk)


def test_commit_sale_stores_sale_lines_payment_and_event_together(cart: Cart) -> None:
    sale = commit_sale(cart, [PaymentIntent("cash", 750, "attendant")], TERMINAL, NOW, sale_id="sale-1")
    assert sale.receipt_no == "S01-K01-202611240001"
    assert Sale.get_by_id("sale-1").total_fen == 750
    lines = [(r.sku, r.quantity, r.total_fen) for r in SaleLine.select().order_by(SaleLine.position)]
    assert lines == [("DRK-001", 2, 400), ("DRY-001", 1, 350)]
    assert [(p.method, p.amount_fen) for p in Payment.select()] == [("cash", 750)]
    [event] = outbox.pending()
    assert event["type"] == "sale.completed"
    assert event["seq"] == 1 and event["prev"] == GENESIS
    assert event["ts"] == "2026-11-24T15:30:00.000+08:00"
    assert event["data"]["sale_id"] == "sale-1"
    assert event["data"]["total_fen"] == 750
    assert check_event(event, "K01") is None


def test_events_form_a_hash_chain_and_receipts_count_up(cart: Cart) -> None:
    for i in range(3):
        commit_sale(cart, [PaymentIntent("cash", 750)], TERMINAL, NOW + dt.timedelta(minutes=i))
    events = outbox.pending()
    assert [e["seq"] for e in events] == [1, 2, 3]
    assert events[1]["prev"] == events[0]["hash"]
    assert events[2]["prev"] == events[1]["hash"]
    assert ChainHead.get_by_id(1).hash == events[2]["hash"]
    receipts = [r.receipt_no for r in Sale.select().order_by(Sale.created_at)]
    assert receipts == [f"S01-K01-2026112400{n:02d}" for n in (1, 2, 3)]


def test_receipt_sequence_restarts_each_day(cart: Cart) -> None:
    commit_sale(cart, [PaymentIntent("cash", 750)], TERMINAL, NOW)
    sale = commit_sale(cart, [PaymentIntent("cash", 750)], TERMINAL, NOW + dt.timedelta(days=1))
    assert sale.receipt_no == "S01-K01-202611250001"


def test_payment_mismatch_writes_nothing(cart: Cart) -> None:
    with pytest.raises(PaymentMismatch):
        commit_sale(cart, [PaymentIntent("cash", 700)], TERMINAL, NOW)
    assert Sale.select().count() == 0
    assert Outbox.select().count() == 0


def test_failure_inside_the_transaction_rolls_back_sale_and_event(cart: Cart) -> None:
    commit_sale(cart, [PaymentIntent("cash", 750)], TERMINAL, NOW, sale_id="dup")
    with pytest.raises(Exception, match="UNIQUE"):
        commit_sale(cart, [PaymentIntent("cash", 750)], TERMINAL, NOW, sale_id="dup")
    assert Sale.select().count() == 1
    assert Outbox.select().count() == 1
    assert ChainHead.get_by_id(1).seq == 1


def test_an_approval_follows_the_sale_as_an_audit_event_with_its_id(cart: Cart) -> None:
    approval = Approval("offline_cap_override", "attendant-1", {"stored_value_fen": 750})
    commit_sale(cart, [PaymentIntent("cash", 750)], TERMINAL, NOW, sale_id="sale-1", approvals=[approval])
    sale, audit = outbox.pending()
    assert (sale["type"], sale["seq"], audit["type"], audit["seq"]) == (
        "sale.completed",
        1,
        "audit.action",
        2,
    )
    assert audit["ts"] == sale["ts"]
    assert audit["data"] == {
        "store": "S01",
        "action": "offline_cap_override",
        "attendant": "attendant-1",
        "sale_id": "sale-1",
        "detail": {"stored_value_fen": 750},
    }
    assert check_event(audit, "K01") is None


def test_an_approval_that_cannot_be_written_takes_the_sale_back_too(cart: Cart) -> None:
    unwritable = Approval("offline_cap_override", "attendant-1", {"amounts": {750}})  # a set is not JSON
    with pytest.raises(TypeError):
        commit_sale(cart, [PaymentIntent("cash", 750)], TERMINAL, NOW, approvals=[unwritable])
    assert (Sale.select().count(), Payment.select().count(), Outbox.select().count()) == (0, 0, 0)


def test_ack_marks_sent_and_rejection_stops_resending(cart: Cart) -> None:
    for _ in range(3):
        commit_sale(cart, [PaymentIntent("cash", 750)], TERMINAL, NOW)
    first, second, third = outbox.pending()
    assert outbox.mark_acked([first["id"]], dt.datetime.now(dt.UTC)) == 1
    assert outbox.mark_acked([first["id"]], dt.datetime.now(dt.UTC)) == 0  # a re-ack changes nothing
    outbox.mark_rejected({second["id"]: "bad"})
    assert [e["id"] for e in outbox.pending()] == [third["id"]]
    assert outbox.depth() == 1


def test_append_event_outside_a_transaction_is_refused(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RuntimeError, match="transaction"):
        outbox.append_event(event_id="x", device="K01", boot="b", ts="t", type="sale.completed", data={})


def test_outbox_survives_reopening_the_database(cart: Cart, tmp_path: Path) -> None:
    commit_sale(cart, [PaymentIntent("cash", 750)], TERMINAL, NOW, sale_id="kept")
    from kiosk.store.connection import database
    from kiosk.store.db import open_database

    database.close()
    open_database(tmp_path / "kiosk.db")
    [event] = outbox.pending()
    assert event["data"]["sale_id"] == "kept"


def test_database_runs_wal_full_sync_and_foreign_keys(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    assert kiosk_db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert kiosk_db.execute_sql("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert kiosk_db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1


def test_migrations_run_once_and_back_up_before_new_ones(tmp_path: Path) -> None:
    from kiosk.store import migrations
    from kiosk.store.db import open_database

    db = open_database(tmp_path / "m.db")
    assert migrations.applied(db) == {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
    assert migrations.migrate(db) == []
    ran: list[str] = []
    migrations.MIGRATIONS.append((99, "test", lambda _db: ran.append("99")))
    try:
        assert migrations.migrate(db) == [99]
    finally:
        migrations.MIGRATIONS.pop()
    assert ran == ["99"]
    backup = tmp_path / "m.db.bak-0099"
    assert backup.exists()
    with sqlite3.connect(backup) as copy:
        assert copy.execute("select number from schema_version").fetchall() == [
            (1,),
            (2,),
            (3,),
            (4,),
            (5,),
            (6,),
            (7,),
            (8,),
            (9,),
            (10,),
            (11,),
            (12,),
        ]


def test_event_body_is_the_published_json(cart: Cart) -> None:
    commit_sale(cart, [PaymentIntent("cash", 750)], TERMINAL, NOW)
    row = Outbox.get()
    body = json.loads(row.body)
    assert body["hash"] == row.hash and body["seq"] == row.seq
