"""The PostgreSQL fast path for plain sales batches: three statements, the same bookings."""

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import peewee
import pytest

from hub.db.schema import open_hub_database
from hub.fleet import presence as fleet
from hub.ingest.batch import ingest_batch
from hub.ingest.models import DeviceHead, Event, Gap, Quarantine, Sale, SaleLine
from kiosk.sync.schema import batch
from tests.conftest import _postgres_database
from tests.events import sale_chain

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 24, 3, 0, tzinfo=dt.UTC)


@pytest.fixture
def pg_hub():  # type: ignore[no-untyped-def]
    for url in _postgres_database():
        db = open_hub_database(url)
        yield db
        db.close()


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    seen: list[str] = []
    execute = peewee.Database.execute_sql

    def counting(self, sql, params=None, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(sql.split(" ", 1)[0])
        return execute(self, sql, params, *args, **kwargs)

    monkeypatch.setattr(peewee.Database, "execute_sql", counting)
    yield seen


def test_a_plain_batch_is_booked_in_three_statements_with_its_gap_skew_and_head(pg_hub, statements) -> None:  # type: ignore[no-untyped-def]
    events = sale_chain("K01", 54)
    ingest_batch("pos/K01/up/events", batch("K01", events[:2]), NOW, TZ)
    Quarantine.create(topic="pos/K01/up/events", device="K01", event_id="K01-ev-9", reason="forked",
                      payload="{}", received_at=NOW)  # fmt: skip
    sent_at = (NOW - dt.timedelta(seconds=90)).isoformat()
    statements.clear()
    result = ingest_batch("pos/K01/up/events", batch("K01", events[4:], sent_at=sent_at), NOW, TZ)
    assert statements == ["INSERT", "SELECT", "WITH"]  # lock the head, read what is known, book
    assert result is not None
    assert (result.acked, result.rejected, result.applied) == ([f"K01-ev-{n}" for n in range(5, 55)], [], 50)
    assert (Event.select().count(), Sale.select().count(), SaleLine.select().count()) == (52, 52, 104)
    assert Sale.select(peewee.fn.SUM(Sale.total_fen)).scalar() == 52 * 600
    sale = Sale.get(Sale.id == "K01-sale-7")
    assert (sale.event_id, sale.receipt_no, sale.day, sale.item_count) == ("K01-ev-7", "S01-K-K01-sale-7",
                                                                           "2026-11-24", 3)  # fmt: skip
    assert [(g.device, g.expected, g.got) for g in Gap.select()] == [("K01", 3, 5)]
    head = DeviceHead.get(DeviceHead.device == "K01")
    assert (head.seq, head.hash) == (54, events[53]["hash"])
    status = fleet.DeviceStatus.get(fleet.DeviceStatus.device == "K01")
    assert (status.clock_skew_s, status.resend_asked) == (90.0, "3-4")  # the fleet page's "asked to resend"
    entry = Quarantine.get(Quarantine.event_id == "K01-ev-9")
    assert (entry.resolution, entry.resolved_at is not None) == (
        "applied when the terminal sent it again",
        True,
    )


def test_a_batch_with_a_known_id_takes_the_general_path_and_changes_nothing(pg_hub, statements) -> None:  # type: ignore[no-untyped-def]
    events = sale_chain("K01", 3)
    ingest_batch("pos/K01/up/events", batch("K01", events[:2]), NOW, TZ)
    statements.clear()
    result = ingest_batch("pos/K01/up/events", batch("K01", events), NOW, TZ)
    assert result is not None
    assert (result.acked, result.applied, result.duplicates) == (["K01-ev-1", "K01-ev-2", "K01-ev-3"], 1, 2)
    assert statements[:2] == ["INSERT", "SELECT"] and "WITH" not in statements  # rolled back, then general
    assert (Sale.select().count(), Sale.select(peewee.fn.SUM(Sale.total_fen)).scalar()) == (3, 1800)
