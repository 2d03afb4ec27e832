"""The sales report: range sums, days, terminals, payments, products, loyalty flows; page, CSV, API.

The data is a real week from :mod:`hub.devtools.report_story` (three terminal databases, booked by
the real ingest) on SQLite and on PostgreSQL.
"""

import csv
import dataclasses
import datetime as dt
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from PIL import Image

from hub.devtools.report_story import NOW, TERMINALS, TZ, capture, seed
from hub.ingest.models import Event
from hub.members import ledger as loyalty
from hub.reports import queries as reports
from hub.web.app import create_app
from kiosk.domain.loyalty import LoyaltyRules

DAY = NOW.date()
WEEK = (DAY - dt.timedelta(days=6), DAY)
MEMBER_SALES_FEN = 5000 * 1 + 5000 * 2 + 5000 * 2 - 2000 - 2000 - 2000  # the loyalty story's three sales
PLAIN_SALES = sum(2 + (back + t) % 4 for t in range(len(TERMINALS)) for back in range(7))


@pytest.fixture(autouse=True)
def reset_rules() -> Iterator[None]:
    yield
    loyalty.configure(LoyaltyRules(), None)


@pytest.fixture
def sold(hub_db, tmp_path: Path) -> dict[tuple[str, str], int]:  # type: ignore[no-untyped-def]
    return seed(tmp_path)


def test_week_totals_days_and_stores_add_up_to_what_the_tills_sold(sold) -> None:  # type: ignore[no-untyped-def]
    summary = reports.range_summary(*WEEK)
    plain_fen = sum(sold.values())
    assert (summary.sales, summary.total_fen) == (PLAIN_SALES + 3, plain_fen + MEMBER_SALES_FEN)
    assert (summary.member_sales, summary.member_fen) == (3, MEMBER_SALES_FEN)
    # one milk (¥6.50) of a K04 cash sale from yesterday came back today
    assert (summary.refunds, summary.refunded_fen, summary.net_fen) == (1, 650, summary.total_fen - 650)
    assert reports.range_summary(*WEEK, store="S01").refunds == 0
    assert reports.range_summary(DAY - dt.timedelta(days=1), DAY - dt.timedelta(days=1)).refunds == 0
    assert summary.average_fen == summary.total_fen // summary.sales
    assert summary.member_share_pct == MEMBER_SALES_FEN * 100 // summary.total_fen

    days = reports.daily(*WEEK, store="S02")
    assert [d.day for d in days] == [(WEEK[0] + dt.timedelta(days=i)).isoformat() for i in range(7)]
    assert [d.total_fen for d in days] == [sold[(d.day, "S02")] for d in days]

    earlier = reports.daily(WEEK[0] - dt.timedelta(days=3), WEEK[0])
    assert [(d.sales, d.total_fen) for d in earlier[:3]] == [(0, 0)] * 3  # days without sales are rows too

    terminals = {(r.store, r.device): (r.sales, r.total_fen) for r in reports.by_terminal(*WEEK)}
    assert set(terminals) == {("S01", "K01"), ("S01", "K02"), ("S01", "K03"), ("S02", "K04")}
    assert terminals[("S02", "K04")] == (
        sum(2 + (back + 2) % 4 for back in range(7)),
        sum(fen for (day, store), fen in sold.items() if store == "S02"),
    )
    assert [r.device for r in reports.by_terminal(*WEEK, store="S02")] == ["K04"]


def test_payments_and_products_sum_to_revenue(sold) -> None:  # type: ignore[no-untyped-def]
    total = reports.range_summary(*WEEK).total_fen
    payments = reports.by_payment(*WEEK)
    assert sum(p.amount_fen for p in payments) == total
    assert {p.method for p in payments} == {"cash", "wechat", "alipay", "points"}
    assert [p.amount_fen for p in payments] == sorted((p.amount_fen for p in payments), reverse=True)
    products = reports.top_products(*WEEK)
    assert [p.sku for p in products][:1] == ["milk"]
    assert sum(p.total_fen for p in products) == total + 6000  # line totals are before the three ¥20 coupons
    rice = next(p for p in products if p.sku == "rice")
    assert (rice.quantity, rice.total_fen, rice.name_zh) == (5, 25000, "大米 5kg")


def test_loyalty_flows_of_the_week(sold) -> None:  # type: ignore[no-untyped-def]
    flows = reports.loyalty_flows(*WEEK)
    assert flows.points_earned == 30 + 60 + 120  # Zhang's ¥30 after the coupon; Li's two sales (one at 2x)
    assert flows.points_redeemed == 2000 + 2000  # Li paid ¥20 with points twice
    assert (flows.topped_up_fen, flows.bonus_given_fen, flows.stored_spent_fen) == (50000, 15000, 0)
    assert reports.loyalty_flows(DAY, DAY).topped_up_fen == 0  # the top-up was two days ago
    assert reports.loyalty_flows(
        DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=1)
    ) == reports.LoyaltyFlows(0, 0, 0, 0, 0)


@pytest.mark.parametrize(
    ("first", "last", "en"),
    [
        ("2026-13-01", "2026-11-24", "Dates must look like 2026-11-24"),
        ("2026-11-24", "2026-11-01", "The start is after the end"),
        ("2024-01-01", "2026-11-24", "At most 366 days"),
    ],
)
def test_a_bad_range_is_explained_in_both_languages(  # type: ignore[no-untyped-def]
    hub_db, first: str, last: str, en: str, signed_in
) -> None:
    with pytest.raises(reports.RangeError) as bad:
        reports.parse_range(first, last, DAY)
    assert bad.value.en.startswith(en)
    client = signed_in(create_app(TZ, today=lambda: DAY))
    page = client.get(f"/reports?from={first}&to={last}")
    assert page.status_code == 400
    assert bad.value.zh.replace("'", "&#39;") in page.text
    assert client.get(f"/reports?from={first}&to={last}&lang=en").text.count(en) == 1
    api = client.get(f"/api/v1/reports/sales?from={first}&to={last}")
    assert api.status_code == 400 and en in api.json()["detail"]


def test_page_csv_and_api_agree(sold, signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(create_app(TZ, today=lambda: DAY))
    summary = reports.range_summary(*WEEK)
    html = client.get("/reports").text
    assert f'<div class="value" id="r-sales">{summary.sales}</div>' in html
    assert "2026-11-18 – 2026-11-24" in html
    api = client.get("/api/v1/reports/sales").json()
    assert (api["from"], api["to"], api["store"]) == ("2026-11-18", "2026-11-24", None)
    assert api["summary"]["total_fen"] == summary.total_fen and len(api["days"]) == 7
    assert (api["summary"]["refunded_fen"], api["summary"]["net_fen"]) == (650, summary.total_fen - 650)
    assert '<div class="value" id="r-refunds">¥6.50</div>' in html
    csv = client.get("/reports.csv?from=2026-11-23&to=2026-11-24&store=S02")
    assert csv.headers["content-disposition"] == 'attachment; filename="sales-2026-11-23-2026-11-24-S02.csv"'
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "day,store,sales,revenue_fen,items"
    assert [[*line.split(",")[:2], line.split(",")[3]] for line in lines[1:]] == [
        ["2026-11-23", "S02", str(sold[("2026-11-23", "S02")])],
        ["2026-11-24", "S02", str(sold[("2026-11-24", "S02")])],
    ]


@pytest.mark.parametrize(
    ("first", "last", "store"),
    [(*WEEK, None), (*WEEK, "S02"), (DAY - dt.timedelta(days=1), DAY, None), (DAY, DAY, "S01")],
)
def test_the_api_in_one_statement_gives_what_each_report_query_gives(  # type: ignore[no-untyped-def]
    sold, signed_in, first: dt.date, last: dt.date, store: str | None
) -> None:
    figures = reports.range_figures(first, last, store)
    assert figures.summary == reports.range_summary(first, last, store)
    assert figures.previous == reports.range_summary(*reports.previous_period(first, last), store)
    assert figures.days == reports.daily(first, last, store)
    assert figures.terminals == reports.by_terminal(first, last, store)
    assert figures.payments == reports.by_payment(first, last, store)
    assert figures.loyalty == reports.loyalty_flows(first, last)
    # the cases hold sales, payments and ledger entries, so the sums are tested
    assert figures.summary.sales > 0 and figures.terminals and figures.payments
    assert figures.loyalty.points_earned > 0
    client = signed_in(create_app(TZ, today=lambda: DAY))
    api = client.get(f"/api/v1/reports/sales?from={first}&to={last}" + (f"&store={store}" if store else ""))
    got = api.json()
    assert got["previous"] == dataclasses.asdict(
        reports.range_summary(*reports.previous_period(first, last), store)
    )
    assert got["days"] == [dataclasses.asdict(d) for d in reports.daily(first, last, store)]
    assert got["terminals"] == [dataclasses.asdict(t) for t in reports.by_terminal(first, last, store)]
    assert got["summary"]["sales"] == reports.range_summary(first, last, store).sales
    assert got["payments"] == [dataclasses.asdict(p) for p in reports.by_payment(first, last, store)]
    assert got["loyalty"] == dataclasses.asdict(reports.loyalty_flows(first, last))


def test_the_pages_in_headless_chromium_whole_and_on_a_phone(tmp_path: Path) -> None:
    shots = capture(tmp_path)
    pages = ["dashboard", "reports", "catalog", "finance", "dashboard_phone", "reports_phone"]
    assert [p.name for p in shots] == [f"hub-{page}-{lang}.png" for page in pages for lang in ("zh", "en")]
    for shot in shots:
        with Image.open(shot) as image:
            width, height = image.size
            assert width == (390 if "phone" in shot.name else 1280)
            assert 600 < height < 6000  # trimmed to the page: nothing cut off at the bottom
            assert image.getpixel((5, 5))[:3] == (255, 255, 255)  # header
            assert image.getpixel((width - 3, height - 3))[:3] == (
                245,
                247,
                250,
            )  # page background below it all


def test_every_table_downloads_and_the_accountant_gets_csv_and_xlsx(sold, signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(create_app(TZ, today=lambda: DAY))
    html = client.get("/reports?period=hour").text
    for table in re.findall(r'data-table="(\w+)"', html):
        got = client.get(f"/reports.csv?table={table}&period=hour")
        assert got.status_code == 200 and got.content.startswith("\ufeff".encode()), table
    assert client.get("/reports.csv?table=nope").status_code == 404
    # the accountant's rows add up to the events' own payments, refund on the refund's day and method
    paid: dict[tuple[str, str], int] = {}
    for (body,) in Event.select(Event.body).where(Event.type == "sale.completed").tuples():
        data = json.loads(body)["data"]
        day = dt.datetime.fromisoformat(json.loads(body)["ts"]).astimezone(TZ).date().isoformat()
        for payment in data["payments"]:
            key = (day, data["store"], payment["method"])
            paid[key] = paid.get(key, 0) + payment["amount_fen"]
    rows = list(csv.DictReader(client.get("/finance/payments.csv").content.decode("utf-8-sig").splitlines()))
    assert {(r["date"], r["store"], r["method"]): int(r["amount_fen"]) for r in rows} == {
        k: v for k, v in paid.items() if WEEK[0].isoformat() <= k[0] <= WEEK[1].isoformat()
    }
    back = [r for r in rows if r["refunds"] != "0"]
    assert [(r["date"], r["store"], r["method"], r["refunded"], r["net_fen"]) for r in back] == [
        ("2026-11-24", "S02", "cash", "6.50", str(paid[("2026-11-24", "S02", "cash")] - 650))
    ]
    book = openpyxl.load_workbook(io.BytesIO(client.get("/finance/payments.xlsx").content))
    sheet = [list(r) for r in book.active.iter_rows(values_only=True)]
    assert sheet[0][:5] == ["date", "store", "method", "payments", "amount"]
    assert [[str(v) for v in r] for r in sheet[1:]] == [list(r.values()) for r in rows]
