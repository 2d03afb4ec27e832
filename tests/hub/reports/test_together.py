"""Often bought together: support, confidence and lift worked out by hand, from sales booked
through the real ingest, recomputed by the job and shown on the owner's page. SQLite and PostgreSQL."""

import datetime as dt
import html
import re

from hub.catalog.models import CatalogProduct
from hub.ingest.batch import ingest_batch
from hub.jobs import catalog, runner
from hub.reports import summary, together
from hub.reports.summary import TogetherDay
from hub.web.app import create_app
from kiosk.sync.schema import GENESIS, batch, make_event
from tests.events import sale_data
from tests.hub.web.test_receipt_page import TZ

# 10 baskets: beer+chips 4, beer 2, chips+salsa 3, milk 1
BASKETS = [("beer", "chips")] * 4 + [("beer",)] * 2 + [("chips", "salsa")] * 3 + [("milk",)]


def test_rules_by_hand() -> None:
    found = together.rules_from(frozenset(b) for b in BASKETS)
    # beer -> chips: lift 4*10/(6*7) = 0.95, not above 1: left out both ways.
    # chips -> salsa: support 3/10, confidence 3/7 = 42.86 %, lift 3*10/(7*3) = 1.429; salsa -> chips 100 %
    assert found == [
        together.Rule("chips", "salsa", 3, 10, 3000, 4286, 1429),
        together.Rule("salsa", "chips", 3, 10, 3000, 10000, 1429),
    ]
    assert together.rules_from((frozenset(b) for b in BASKETS), min_together=5) == []


def test_the_job_recomputes_from_booked_sales_and_the_page_shows_them(hub_db, signed_in) -> None:  # type: ignore[no-untyped-def]
    events, prev = [], GENESIS
    for seq, basket in enumerate(BASKETS, start=1):
        data = sale_data(f"K01-s{seq}", [(sku, 500, 1) for sku in basket])
        event = make_event(event_id=f"ev-{seq}", device="K01", seq=seq, boot="b", type="sale.completed",
                           ts="2026-11-20T10:00:00.000+08:00", prev=prev, data=data)  # fmt: skip
        events.append(event)
        prev = event["hash"]
    ingest_batch("pos/K01/up/events", batch("K01", events), dt.datetime.now(dt.UTC), TZ)
    for sku, zh, en in (("chips", "薯片", "Chips"), ("salsa", "莎莎酱", "Salsa")):
        CatalogProduct.create(sku=sku, name_zh=zh, name_en=en, price_fen=500)
    job = catalog.job_named("bought_together")
    done = runner.run_job(job, runner.JobContext(dt.datetime(2026, 11, 24, 5, 30, tzinfo=TZ), TZ))
    assert done.status == "ok" and done.result is not None and done.result.figures == {"rules": 2}
    client = signed_in(create_app(TZ))
    page = html.unescape(client.get("/reports/together").text)
    rows = re.findall(r'<tr id="together-([^"]+)">(.*?)</tr>', page, re.S)
    cells = {key: re.findall(r"<td[^>]*>([^<]*)</td>", body) for key, body in rows}
    assert cells == {
        "chips-salsa": ["薯片", "莎莎酱", "3 / 10", "30.00%", "42.86%", "1.43"],
        "salsa-chips": ["莎莎酱", "薯片", "3 / 10", "30.00%", "100.00%", "1.43"],
    }
    assert 'id="together-link"' in client.get("/reports").text
    # 90 days later the baskets have left the window: the next run clears the table
    later = runner.run_job(job, runner.JobContext(dt.datetime(2027, 2, 20, 5, 30, tzinfo=TZ), TZ))
    assert later.result is not None and later.result.figures == {"rules": 0}
    assert 'id="together-empty"' in client.get("/reports/together?lang=en").text


def test_the_page_counts_the_terminals_suggestions_shown_and_taken(hub_db, signed_in) -> None:  # type: ignore[no-untyped-def]
    today = dt.datetime.now(TZ).replace(hour=10, minute=0, second=0, microsecond=0)
    sales = [  # (lines of sku, price, source; what the cart suggested)
        ([("milk", 350, ""), ("yogurt", 600, "together")], ["yogurt", "chips"]),
        ([("water", 200, "")], ["chips"]),
        ([("water", 200, ""), ("chips", 750, "together")], ["chips"]),
        ([("bread", 900, "")], []),  # nothing suggested: nothing counted
    ]
    events, prev = [], GENESIS
    for seq, (lines, shown) in enumerate(sales, start=1):
        data = sale_data(f"K01-g{seq}", [(sku, fen, 1) for sku, fen, _ in lines])
        for line, (_sku, _fen, source) in zip(data["lines"], lines, strict=True):
            if source:
                line["source"] = source
        if shown:
            data["together_shown"] = shown
        event = make_event(event_id=f"g-{seq}", device="K01", seq=seq, boot="b", type="sale.completed",
                           ts=today.isoformat(timespec="milliseconds"), prev=prev, data=data)  # fmt: skip
        events.append(event)
        prev = event["hash"]
    ingest_batch("pos/K01/up/events", batch("K01", events), dt.datetime.now(dt.UTC), TZ)
    booked = [(d.store, d.shown, d.taken, d.taken_fen) for d in TogetherDay.select()]
    assert booked == [("S01", 4, 2, 1350)]
    summary.rebuild(TZ)  # rebuilt from the booked sales: the same figures, not twice
    assert [(d.shown, d.taken, d.taken_fen) for d in TogetherDay.select()] == [(4, 2, 1350)]

    client = signed_in(create_app(TZ))
    zh = html.unescape(client.get("/reports/together").text)
    assert re.search(r'<p id="together-shown">([^<]*)</p>', zh)[1] == (  # type: ignore[index]
        "近 90 天，收银机推荐 4 次，顾客加入 2 次（50.00%），加入金额 ¥13.50。"
    )
    assert re.search(r'<p id="together-sent">([^<]*)</p>', zh)[1] == (  # type: ignore[index]
        "发给收银机作推荐的规则：支持度不低于 0.50%、提升度不低于 1.20，"
        "每个商品最多 2 条（用 hub jobs set 修改）。"
    )
    en = html.unescape(client.get("/reports/together?lang=en").text)
    assert re.search(r'<p id="together-shown">([^<]*)</p>', en)[1] == (  # type: ignore[index]
        "Last 90 days: the terminals suggested 4 times and shoppers took 2 (50.00%), ¥13.50 in all."
    )
