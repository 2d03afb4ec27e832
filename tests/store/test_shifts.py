"""Shift close: the X and Z figures are the sums of the shift's own events, on a real SQLite file;
the hub books the Z report (SQLite and PostgreSQL)."""

import datetime as dt
import json
import re
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from hub.devtools.signed_in import session_for
from hub.ingest.batch import ingest_batch
from hub.staff.shifts import ShiftReport, ShiftXReport, closed_shifts, x_reports
from hub.web.app import create_app
from hub.web.auth import COOKIE
from kiosk.domain.cart import Cart
from kiosk.domain.refunds import Pick
from kiosk.hw.receipt_render import render_receipt
from kiosk.store import audit, members, outbox, refunds, shifts
from kiosk.store.models import Outbox
from kiosk.store.sales import PaymentIntent, commit_sale
from kiosk.sync.schema import batch
from tests.store.test_members import NOW, SV_RULE, TERMINAL, register
from tests.store.test_refunds import SOAP, TEA

TZ = ZoneInfo("Asia/Shanghai")


def events_after(seq: int) -> list[dict]:  # type: ignore[type-arg]
    rows = Outbox.select().where(Outbox.seq > seq).order_by(Outbox.seq)
    return [{"type": r.type, **json.loads(r.body)} for r in rows]


def a_shift(start: dt.datetime) -> None:
    """Sales by cash and WeChat, a partial refund, a void, an override and a cash top-up."""
    commit_sale(Cart().add(TEA, 3), [PaymentIntent("cash", 3000, "staff:a")], TERMINAL, start, "s-1")
    pay = [PaymentIntent("wechat", 1000, "TX1"), PaymentIntent("cash", 350, "staff:a")]
    commit_sale(Cart().add(TEA, 1).add(SOAP, 1), pay, TERMINAL, start, "s-2")
    refunds.refund_sale("s-1", [Pick(1, 1)], TERMINAL, start, "a", "r-1")  # ¥10 cash back
    audit.record_action(TERMINAL, start, "void", "a", {"scope": "sale", "total_fen": 700, "lines": []})
    audit.record_action(TERMINAL, start, "price_override", "a", {"sku": "tea"})
    register(member_id="m-9", phone="13900001111")
    members.top_up_stored_value(TERMINAL, start, "m-9", 10000, SV_RULE, "a")  # ¥100 cash, ¥20 bonus


def test_the_z_report_is_the_sum_of_the_shifts_events_and_the_next_shift_starts_empty(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    a_shift(NOW)
    x = shifts.shift_figures()
    # the same sums, straight from the events
    events = events_after(0)
    sales = [e["data"] for e in events if e["type"] == "sale.completed"]
    refunded = [e["data"] for e in events if e["type"] == "sale.refunded"]
    assert (x.sales, x.sales_fen) == (len(sales), sum(s["total_fen"] for s in sales)) == (2, 4350)
    assert x.by_method == {"cash": 3350, "wechat": 1000}
    assert (x.refunds, x.refunds_fen, x.refunds_by_method) == (1, 1000, {"cash": 1000})
    assert sum(r["amount_fen"] for r in refunded) == x.refunds_fen
    assert (x.voids, x.voids_fen, x.overrides, x.top_ups, x.top_ups_fen) == (1, 700, 1, 1, 10000)
    assert x.expected_cash_fen == 3350 + 10000 - 1000

    closed = shifts.close_shift(TERMINAL, NOW + dt.timedelta(hours=8), "st-zhao", 12300)
    assert closed.figures == x and closed.over_short_fen == -50  # ¥0.50 short
    z_event = events_after(x.last_seq)[-1]
    assert z_event["type"] == "shift.closed"
    assert z_event["data"]["figures"] == {**x.to_dict(), "expected_cash_fen": 12350}
    assert (z_event["data"]["counted_cash_fen"], z_event["data"]["over_short_fen"]) == (12300, -50)
    slip = shifts.shift_slip(x, "邻里便利店", "S01-K01-Z1", NOW, closed)
    assert slip.total_fen == 4350 and "长短款 Over/short -¥0.50" in slip.extra
    assert render_receipt(slip, 384).width == 384

    # the next shift holds only what came after the Z report
    commit_sale(Cart().add(SOAP, 2), [PaymentIntent("cash", 700, "staff:a")], TERMINAL, NOW, "s-3")
    after = shifts.shift_figures()
    assert (after.sales, after.by_method, after.refunds, after.expected_cash_fen) == (
        1,
        {"cash": 700},
        0,
        700,
    )
    with pytest.raises(ValueError, match="negative"):
        shifts.close_shift(TERMINAL, NOW, "st-zhao", -1)


def test_the_hub_books_every_z_report_per_terminal(kiosk_db, hub_db) -> None:  # type: ignore[no-untyped-def]
    a_shift(NOW)
    mid = shifts.record_x_report(TERMINAL, NOW + dt.timedelta(hours=4), "st-wang")  # X: sent, stays open
    assert shifts.shift_figures() == replace(mid, last_seq=mid.last_seq + 1)  # the X event counts as nothing
    closed = shifts.close_shift(TERMINAL, NOW + dt.timedelta(hours=8), "st-zhao", 12350)
    assert (closed.figures.sales_fen, closed.figures.expected_cash_fen) == (mid.sales_fen, 12350)
    result = ingest_batch("pos/K01/up/events", batch("K01", outbox.pending()), NOW, TZ)
    assert result is not None and result.rejected == []
    [x] = x_reports(dt.date(2026, 11, 1), dt.date(2026, 12, 31))
    assert (x.device, x.store, x.attendant, x.opened_at) == ("K01", "S01", "st-wang", mid.opened_at)
    assert (x.sales_fen, x.refunds_fen, x.expected_cash_fen) == (4350, 1000, 12350)
    assert json.loads(ShiftXReport.get().figures) == mid.to_dict()
    [shift] = closed_shifts(dt.date(2026, 11, 1), dt.date(2026, 12, 31))
    assert (shift.device, shift.store, shift.attendant) == ("K01", "S01", "st-zhao")
    figures = (shift.sales_fen, shift.refunds_fen, shift.expected_cash_fen, shift.over_short_fen)
    assert figures == (4350, 1000, 12350, 0)
    assert ShiftReport.select().count() == 1
    cookie, _csrf = session_for("owner")
    web = TestClient(create_app(TZ), cookies={COOKIE: cookie})
    page = web.get("/staff-hours?from=2026-11-01&to=2026-12-31&lang=en")
    row = re.search(r'<tr class="close" data-device="K01">(.*?)</tr>', page.text, re.S)
    assert row and re.findall(r">([^<>]+)</td>", row.group(1))[2:] == [
        "st-zhao", "¥43.50", "¥10.00", "¥123.50", "¥123.50", "¥0.00",
    ]  # fmt: skip
    x_row = re.search(r'<tr class="x-report" data-device="K01">(.*?)</tr>', page.text, re.S)
    assert x_row and re.findall(r">([^<>]+)</td>", x_row.group(1))[3:] == [
        "st-wang", "¥43.50", "¥10.00", "¥123.50",
    ]  # fmt: skip
