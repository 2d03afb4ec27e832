"""Ack marks: committed without waiting for the disk, and the connection back to FULL afterwards."""

import datetime as dt

from kiosk.store import outbox
from kiosk.store.connection import database
from kiosk.store.models import Outbox
from tests.sync.harness import sell

NOW = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)


def test_ack_marks_commit_with_synchronous_normal_and_sales_stay_full(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    sell(3)
    ids = [row.id for row in Outbox.select().order_by(Outbox.seq)]
    statements: list[str] = []
    database.connection().set_trace_callback(statements.append)
    try:
        assert outbox.mark_acked(ids[:2], NOW) == 2
    finally:
        database.connection().set_trace_callback(None)
    kinds = [s.split()[0] + (" " + s.split()[-1] if s.startswith("PRAGMA") else "") for s in statements]
    assert kinds == ["PRAGMA NORMAL", "BEGIN", "UPDATE", "COMMIT", "PRAGMA FULL"]
    assert database.execute_sql("PRAGMA synchronous").fetchone() == (2,)  # FULL again for the next sale
    assert [row.sent_at is not None for row in Outbox.select().order_by(Outbox.seq)] == [True, True, False]
    assert outbox.mark_acked(ids[:2], NOW) == 0  # a repeated ack changes nothing
