"""The e-receipt page ``/r/{token}``, served by uvicorn and read by headless Chromium.

The links are signed here as terminal K01 signs them (its key derived from the hub's receipt
secret); tests/hub/web/test_receipt_links.py follows a real terminal's printed link.
"""

import base64
import datetime as dt
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
import uvicorn

from hub.fleet.receipt_keys import device_receipt_key_text
from hub.ingest.batch import ingest_batch
from hub.web.app import create_app
from kiosk.devtools import browser
from kiosk.devtools.ports import free_port, wait_for_port
from kiosk.domain import receipt_link
from kiosk.sync.schema import GENESIS, batch, make_event
from tests.events import sale_data

TZ = ZoneInfo("Asia/Shanghai")
RECEIPT = "S01-K-K01-sale-1"
SOLD = dt.datetime(2026, 11, 24, 10, 0, tzinfo=TZ)


def signed(data_dir: Path, receipt_no: str = RECEIPT) -> str:
    """The token terminal K01 prints for ``receipt_no`` (90 days from the sale)."""
    key = base64.b64decode(device_receipt_key_text(data_dir, "K01"))
    return receipt_link.sign(receipt_no, receipt_link.expiry(SOLD, 90), key)


@pytest.fixture
def hub_url(hub_db, tmp_path: Path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    data = sale_data("K01-sale-1", [("A", 150, 2), ("B", 300, 1)])
    data["payments"] = [
        {"method": "stored_value", "amount_fen": 400, "reference": "member"},
        {"method": "wechat", "amount_fen": 200, "reference": "wx-1"},
    ]
    event = make_event(
        event_id="K01-ev-1", device="K01", seq=1, boot="boot", ts="2026-11-24T10:00:00.000+08:00",
        type="sale.completed", prev=GENESIS, data=data,
    )  # fmt: skip
    ingest_batch("pos/K01/up/events", batch("K01", [event]), dt.datetime.now(dt.UTC), TZ)
    port = free_port()
    app = create_app(TZ, today=lambda: dt.date(2026, 11, 24), data_dir=tmp_path / "hub")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for_port(port)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def link(tmp_path: Path) -> str:
    """The path of sale K01-sale-1's e-receipt link."""
    return f"/r/{signed(tmp_path / 'hub')}"


def cells(dom: str, table: str) -> list[list[str]]:
    body = re.search(rf'<table id="{table}">(.*?)</table>', dom, re.S)
    assert body, f"no table #{table}"
    rows = re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
    return [[c.strip() for c in re.findall(r"<t[dh][^>]*>([^<]*)</t[dh]>", row)] for row in rows]


def text_of(dom: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', dom)
    assert match, f"no element #{element_id}"
    return match.group(1).strip()


def test_receipt_shows_lines_totals_and_payments_in_chinese(hub_url: str, link: str) -> None:
    dom = browser.dump_dom(f"{hub_url}{link}")
    assert '<html lang="zh-CN">' in dom
    # the page's own title, not the owner dashboard's (one base template, a title key per page)
    assert re.findall(r"<(?:title|h1)>([^<]*)<", dom) == ["电子小票", "电子小票"]
    assert (text_of(dom, "receipt-no"), text_of(dom, "sold-at")) == (RECEIPT, "2026-11-24 10:00:00")
    assert cells(dom, "lines") == [
        ["商品", "数量", "单价", "金额"],
        ["商品A", "2", "¥1.50", "¥3.00"],
        ["商品B", "1", "¥3.00", "¥3.00"],
    ]
    assert (text_of(dom, "subtotal"), text_of(dom, "total")) == ("¥6.00", "¥6.00")
    assert "discount" not in dom
    assert cells(dom, "payments") == [["会员储值", "¥4.00"], ["微信支付", "¥2.00"]]


def test_receipt_in_english(hub_url: str, link: str) -> None:
    dom = browser.dump_dom(f"{hub_url}{link}?lang=en")
    assert '<html lang="en">' in dom
    assert re.findall(r"<(?:title|h1)>([^<]*)<", dom) == ["E-receipt", "E-receipt"]
    assert cells(dom, "lines")[1:] == [["Item A", "2", "¥1.50", "¥3.00"], ["Item B", "1", "¥3.00", "¥3.00"]]
    assert cells(dom, "payments") == [["Stored value", "¥4.00"], ["WeChat Pay", "¥2.00"]]
    assert text_of(dom, "lang-switch") == "中文"
    assert "/quarantine" not in dom and "/fleet" not in dom  # the customer sees no owner pages


def test_unknown_receipt_is_a_404_that_says_so_in_both_languages(hub_url: str, tmp_path: Path) -> None:
    response = httpx.get(f"{hub_url}/r/{signed(tmp_path / 'hub', 'S01-K01-202611249999')}")
    assert response.status_code == 404
    assert text_of(response.text, "not-found") == (
        "这张电子小票无法打开：链接可能已过期或不完整。刚完成的交易可能要几分钟后才能查到；"
        "如仍打不开，请凭纸质小票联系门店。"
    )
    assert text_of(response.text, "not-found-other") == (
        "This e-receipt cannot be opened: the link may have expired or be incomplete. A sale just made "
        "can take a few minutes to arrive; if it still does not open, please ask the shop with your paper "
        "receipt."
    )
    assert "S01-K01-202611249999" not in response.text  # nothing of the asker's echoed back
    assert httpx.get(f"{hub_url}/r/{RECEIPT}").text == response.text  # the bare number: the same page


def test_receipt_shows_refunds_in_both_languages(hub_url: str, link: str) -> None:
    from hub.ingest.models import Event
    from tests.hub.ingest.test_refunds import refund_event

    refund = refund_event(2, Event.get_by_id("K01-ev-1").hash, "r-1", lines=((1, 1, 150),))
    refund["data"]["payments"] = [{"method": "wechat", "amount_fen": 150, "reference": "RF1"}]
    refund = make_event(**{k: refund[k] for k in ("device", "seq", "boot", "ts", "type", "prev", "data")},
                        event_id=refund["id"])  # fmt: skip
    result = ingest_batch("pos/K01/up/events", batch("K01", [refund]), dt.datetime.now(dt.UTC), TZ)
    assert result is not None and result.rejected == []
    dom = browser.dump_dom(f"{hub_url}{link}")
    assert cells(dom, "refunds") == [
        ["时间", "商品", "数量", "金额"],
        ["2026-11-25 09:00:00", "商品A", "-1", "-¥1.50"],
        ["2026-11-25 09:00:00", "退回 微信支付", "", "-¥1.50"],
    ]
    assert text_of(dom, "refunded-total") == "-¥1.50"
    assert text_of(dom, "total") == "¥6.00"  # the sale as paid; the refund is listed under it
    english = browser.dump_dom(f"{hub_url}{link}?lang=en")
    assert cells(english, "refunds")[1:] == [
        ["2026-11-25 09:00:00", "Item A", "-1", "-¥1.50"],
        ["2026-11-25 09:00:00", "Back to WeChat Pay", "", "-¥1.50"],
    ]
