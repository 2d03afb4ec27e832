"""The report summary rows: kept by every booking path, equal to sums computed from the raw sales here.

The expected figures are computed in the test from the booked ``sale``/``sale_line``/``refund`` rows
and the events' own payments (never through :mod:`hub.reports`), on SQLite and PostgreSQL.
"""

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import pytest

from hub.devtools.report_story import NOW, TZ, seed
from hub.ingest.batch import ingest_batch
from hub.ingest.models import Event, Refund, RefundLine, RefundPayment, Sale, SaleLine
from hub.members import ledger as loyalty
from hub.reports import queries as reports
from hub.reports import summary
from kiosk.domain.loyalty import LoyaltyRules
from kiosk.sync.schema import GENESIS, batch
from tests.events import sale_chain

WEEK = (NOW.date() - dt.timedelta(days=6), NOW.date())


@pytest.fixture
def sold(hub_db, tmp_path: Path):  # type: ignore[no-untyped-def]
    yield seed(tmp_path)
    loyalty.configure(LoyaltyRules(), None)


def _table(model: type) -> list[tuple[object, ...]]:
    return sorted(tuple(row.values()) for row in model.select().dicts())


def test_hours_days_weeks_and_heatmap_equal_the_raw_sales(sold) -> None:  # type: ignore[no-untyped-def]
    raw = list(Sale.select())
    hours: Counter[str] = Counter()
    fen: Counter[str] = Counter()
    grid = [[0] * 24 for _ in range(7)]
    for sale in raw:
        local = dt.datetime.fromisoformat(sale.sold_at).astimezone(TZ)
        hours[f"{local.hour:02d}"] += 1
        fen[f"{local.hour:02d}"] += sale.total_fen
        grid[local.weekday()][local.hour] += 1
    by_hour = reports.by_period("hour", *WEEK)
    assert {r.key: (r.sales, r.total_fen) for r in by_hour if r.sales} == {
        h: (hours[h], fen[h]) for h in hours
    }
    assert reports.heatmap(*WEEK) == grid
    by_day = {r.key: r.total_fen for r in reports.by_period("day", *WEEK)}
    assert by_day == dict(Counter({s.day: 0 for s in raw}) + Counter(_sum_by(raw, "day")))
    weeks = {r.key: r.sales for r in reports.by_period("week", *WEEK)}
    assert weeks == Counter("{}-W{:02d}".format(*dt.date.fromisoformat(s.day).isocalendar()[:2]) for s in raw)
    assert [(r.key, r.sales) for r in reports.by_period("month", *WEEK)] == [("2026-11", len(raw))]
    # the one refund (a milk, ¥6.50, at 14:30 today) counts in the refund's own hour and day
    refund = Refund.get()
    local = dt.datetime.fromisoformat(refund.refunded_at).astimezone(TZ)
    row = next(r for r in by_hour if r.key == f"{local.hour:02d}")
    assert (row.refunds, row.refunded_fen, row.net_fen) == (1, 650, fen[row.key] - 650)  # no sale then: -650


def _sum_by(sales: list[Sale], attr: str) -> dict[str, int]:
    out: Counter[str] = Counter()
    for sale in sales:
        out[getattr(sale, attr)] += sale.total_fen
    return out


def test_stores_payments_products_and_members_equal_the_raw_sales(sold) -> None:  # type: ignore[no-untyped-def]
    raw = list(Sale.select())
    assert {r.store: r.total_fen for r in reports.by_store(*WEEK)} == _sum_by(raw, "store")
    paid: Counter[str] = Counter()
    for (body,) in Event.select(Event.body).where(Event.type == "sale.completed").tuples():
        for payment in json.loads(body)["data"]["payments"]:
            paid[payment["method"]] += payment["amount_fen"]
    back = Counter({p.method: p.amount_fen for p in RefundPayment.select()})
    assert {p.method: (p.amount_fen, p.refunded_fen) for p in reports.by_payment(*WEEK)} == {
        m: (paid[m], back[m]) for m in paid
    }
    units: Counter[str] = Counter()
    for line in SaleLine.select():
        units[line.sku] += line.quantity
    returned = {
        SaleLine.get(SaleLine.sale == x.refund.sale_id, SaleLine.position == x.position).sku: x.quantity
        for x in RefundLine.select()
    }
    listed = {p.sku: (p.quantity, p.refunded_quantity) for p in reports.products(*WEEK) if p.quantity}
    assert listed == {sku: (n, returned.get(sku, 0)) for sku, n in units.items()}
    members = [s for s in raw if json.loads(Event.get_by_id(s.event_id).body)["data"].get("member_id")]
    summary_ = reports.range_summary(*WEEK)
    assert (summary_.member_sales, summary_.member_fen) == (len(members), sum(s.total_fen for s in members))
    # unsold catalog products are listed as zeros among the slow sellers
    slow = reports.slow_products(*WEEK, limit=3)
    assert [p.quantity for p in slow] == [0, 0, 0] and all(p.sku not in units for p in slow)


def test_a_rebuild_gives_the_rows_the_bookings_kept(sold) -> None:  # type: ignore[no-untyped-def]
    kept = [_table(m) for m in summary.MODELS]
    assert summary.rebuild(TZ) == Sale.select().count()
    assert [_table(m) for m in summary.MODELS] == kept
    assert summary.ensure(TZ) == 0  # not empty: nothing to do
    for model in summary.MODELS:
        model.delete().execute()
    assert summary.ensure(TZ) == Sale.select().count()
    assert [_table(m) for m in summary.MODELS] == kept


def test_the_bulk_path_and_a_duplicate_batch_count_each_sale_once(hub_db) -> None:  # type: ignore[no-untyped-def]
    events = sale_chain("K01", 30, ts="2026-11-24T10:15:00.000+08:00")
    ingest_batch("pos/K01/up/events", batch("K01", events[:20]), NOW, TZ)
    ingest_batch("pos/K01/up/events", batch("K01", events[10:]), NOW, TZ)  # ten sent again
    rows = [
        (r.day, r.hour, r.device, r.member, r.sales, r.total_fen, r.items) for r in summary.SalesHour.select()
    ]
    assert rows == [("2026-11-24", 10, "K01", False, 30, 30 * 600, 90)]
    assert {(p.sku, p.quantity, p.total_fen) for p in summary.SalesProductDay.select()} == {
        ("A", 60, 30 * 300),
        ("B", 30, 30 * 300),
    }


def test_products_over_whole_and_partial_months_equal_the_raw_lines(hub_db) -> None:  # type: ignore[no-untyped-def]
    days = ["2026-09-30", "2026-10-01", "2026-10-15", "2026-10-31", "2026-11-01", "2026-11-30", "2026-12-01"]
    prev, seq = GENESIS, 1
    for n, day in enumerate(days):
        events = sale_chain("K01", n + 1, start_seq=seq, prev=prev, ts=f"{day}T12:00:00.000+08:00")
        prev, seq = events[-1]["hash"], seq + len(events)
        ingest_batch("pos/K01/up/events", batch("K01", events), NOW, TZ)
    ranges = [
        ("2026-09-30", "2026-12-01"),
        ("2026-10-01", "2026-10-31"),
        ("2026-10-02", "2026-11-30"),
        ("2026-10-15", "2026-10-15"),
        ("2026-09-01", "2026-11-01"),
        ("2026-11-02", "2026-11-29"),
    ]
    for first, last in ranges:
        sold = [s.id for s in Sale.select() if first <= s.day <= last]
        units: Counter[str] = Counter()
        for line in SaleLine.select().where(SaleLine.sale.in_(sold)):
            units[line.sku] += line.quantity
        got = {
            p.sku: p.quantity
            for p in reports.products(dt.date.fromisoformat(first), dt.date.fromisoformat(last))
        }
        assert got == dict(units), (first, last)
        one = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
        assert {p.sku: p.quantity for p in reports.products(*one, store="S01")} == dict(
            units
        )  # the store's rows
