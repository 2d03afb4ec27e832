"""The e-receipt's one-tap rating: 1–5 stars and a comment through the signed link, stored once per
receipt, refused with a zh/en reason otherwise; the owner's /ratings page per store and day.
SQLite and PostgreSQL."""

import base64
import datetime as dt
import html
import re
from pathlib import Path

from fastapi.testclient import TestClient

from hub.fleet.receipt_keys import device_receipt_key_text
from hub.ingest.batch import ingest_batch
from hub.reports.ratings import ReceiptRating
from hub.web.app import create_app
from kiosk.domain import receipt_link
from kiosk.sync.schema import GENESIS, batch, make_event
from tests.events import sale_data
from tests.hub.web.test_receipt_page import TZ

SALES = [  # sale id, local time
    ("K01-sale-1", "2026-11-23T10:00:00.000+08:00"),
    ("K01-sale-2", "2026-11-24T09:00:00.000+08:00"),
    ("K01-sale-3", "2026-11-24T18:30:00.000+08:00"),
    ("K01-sale-4", "2026-11-24T19:00:00.000+08:00"),
]


def book_sales() -> None:
    events, prev = [], GENESIS
    for seq, (sale_id, ts) in enumerate(SALES, start=1):
        event = make_event(
            event_id=f"ev-{seq}", device="K01", seq=seq, boot="boot", ts=ts, type="sale.completed",
            prev=prev, data=sale_data(sale_id, [("A", 150, 2)]),
        )  # fmt: skip
        events.append(event)
        prev = event["hash"]
    ingest_batch("pos/K01/up/events", batch("K01", events), dt.datetime.now(dt.UTC), TZ)


def link(data_dir: Path, sale_id: str) -> str:
    key = base64.b64decode(device_receipt_key_text(data_dir, "K01"))
    sold = dt.datetime(2026, 11, 24, tzinfo=TZ)
    return f"/r/{receipt_link.sign(f'S01-K-{sale_id}', receipt_link.expiry(sold, 90), key)}"


def test_a_shopper_rates_a_receipt_once_and_the_owner_reads_it_by_store_and_day(  # type: ignore[no-untyped-def]
    hub_db, tmp_path: Path, signed_in
) -> None:
    book_sales()
    data_dir = tmp_path / "hub"
    app = create_app(TZ, today=lambda: dt.date(2026, 11, 24), data_dir=data_dir)
    shopper = TestClient(app, follow_redirects=False)
    first = link(data_dir, "K01-sale-2")
    page = shopper.get(first).text
    assert re.findall(r'id="star-(\d)"', page) == ["1", "2", "3", "4", "5"]
    assert 'name="csrf"' not in page  # the signed link is the key: no session to ride on
    long = "好" * 201
    refused = shopper.post(f"{first}/rating", data={"stars": "5", "comment": long})
    assert refused.status_code == 422
    assert "留言最多 200 个字" in refused.text and long in refused.text  # the comment kept to shorten
    assert shopper.post(f"{first}/rating", data={"stars": "6"}).status_code == 422
    assert (
        shopper.post(f"{first}/rating?lang=en", data={"stars": ""}).text.count("Please tap 1 to 5 stars.")
        == 1
    )
    assert ReceiptRating.select().count() == 0
    rated = shopper.post(f"{first}/rating", data={"stars": "4", "comment": " 收银快，\n<b>米</b>新鲜 "})
    assert (rated.status_code, rated.headers["location"]) == (303, f"{first}?rated=1#rating")
    thanks = shopper.get(f"{first}?rated=1").text
    assert "谢谢您的评价！" in thanks and 'id="rating-form"' not in thanks
    assert "收银快， &lt;b&gt;米&lt;/b&gt;新鲜" in thanks  # folded and escaped
    again = shopper.post(f"{first}/rating", data={"stars": "1"})
    assert again.status_code == 422 and "这张小票已经评价过了" in again.text
    foreign = shopper.post(f"{first}/rating", data={"stars": "1"}, headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403
    forged = first[:-4] + ("AAAA" if not first.endswith("AAAA") else "BBBB")
    assert shopper.post(f"{forged}/rating", data={"stars": "5"}).status_code == 404
    for sale_id, stars in (("K01-sale-3", "5"), ("K01-sale-4", "5"), ("K01-sale-1", "2")):
        assert shopper.post(f"{link(data_dir, sale_id)}/rating", data={"stars": stars}).status_code == 303
    row = ReceiptRating.get_by_id("S01-K-K01-sale-2")
    assert (row.store, row.day, row.stars, row.comment) == ("S01", "2026-11-24", 4, "收银快， <b>米</b>新鲜")

    owner = signed_in(app)
    report = owner.get("/ratings?days=7&lang=en").text
    rows = re.findall(r'<tr id="rating-([^"]+)">(.*?)</tr>', report, re.S)
    cells = {day: re.findall(r"<td[^>]*>([^<]*)</td>", body) for day, body in rows}
    # 24 Nov: 4, 5, 5 -> 3 ratings, 14/3 = 4.67 -> 4.7; 23 Nov: one 2
    assert cells == {
        "2026-11-24-S01": ["2026-11-24", "S01", "3", "4.7", "2", "1", "0", "0", "0"],
        "2026-11-23-S01": ["2026-11-23", "S01", "1", "2.0", "0", "0", "0", "1", "0"],
    }
    assert [m for m, _ in rows] == ["2026-11-24-S01", "2026-11-23-S01"]  # newest day first
    assert re.search(r'id="rating-count">(\d+)<', report).group(1) == "4"  # type: ignore[union-attr]
    assert re.search(r'id="rating-average">([^<]+)<', report).group(1) == "4.0"  # type: ignore[union-attr]  # 16/4
    comments = html.unescape(report.split('id="rating-comments"')[1])
    assert "收银快， <b>米</b>新鲜" in comments and "S01-K-K01-sale-2" in comments
    assert 'id="ratings-link"' in owner.get("/reports").text  # the dashboard links it
    elsewhere = signed_in(app, "manager", stores="S02").get("/ratings?days=7").text
    assert (
        '<table id="ratings">' not in elsewhere and 'id="rating-count">0<' in elsewhere
    )  # another store's manager
