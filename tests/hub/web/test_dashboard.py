"""The dashboard page, served by uvicorn and read by headless Chromium."""

import datetime as dt
import re
import threading
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
import uvicorn

from hub.devtools.signed_in import session_for, with_cookie
from hub.ingest.batch import ingest_batch
from hub.web.app import create_app
from kiosk.devtools import browser
from kiosk.devtools.ports import free_port, wait_for_port
from kiosk.sync.schema import batch
from tests.events import sale_chain

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def dashboard(hub_db) -> Iterator[str]:  # type: ignore[no-untyped-def]
    port = free_port()
    # a browser signed in as the owner (hub.devtools.signed_in): the dashboard needs a session
    app = with_cookie(create_app(TZ, today=lambda: dt.date(2026, 11, 24)), session_for()[0])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for_port(port)
    yield f"http://127.0.0.1:{port}/"
    server.should_exit = True
    thread.join(timeout=10)


def text_of(dom: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', dom)
    assert match, f"no element #{element_id}"
    return match.group(1).strip()


def test_dashboard_shows_todays_count_and_total_in_chinese(dashboard: str) -> None:
    now = dt.datetime.now(dt.UTC)
    ingest_batch("pos/K01/up/events", batch("K01", sale_chain("K01", 2)), now, TZ)
    yesterday = sale_chain("K02", 1, ts="2026-11-23T12:00:00.000+08:00")
    ingest_batch("pos/K02/up/events", batch("K02", yesterday), now, TZ)
    dom = browser.dump_dom(dashboard)
    assert '<html lang="zh-CN">' in dom
    assert text_of(dom, "sales-count") == "2"
    assert text_of(dom, "sales-total") == "¥12.00"
    assert text_of(dom, "items") == "6"
    assert "销售总额" in dom and "最近销售" in dom
    rows = re.findall(r"<tr><td>([^<]+)</td><td>([^<]+)</td><td>([^<]+)</td><td[^>]*>([^<]+)</td></tr>", dom)
    assert sorted(rows) == [
        ("S01-K-K01-sale-1", "2026-11-24 10:00:00", "K01", "¥6.00"),
        ("S01-K-K01-sale-2", "2026-11-24 10:00:00", "K01", "¥6.00"),
        ("S01-K-K02-sale-1", "2026-11-23 12:00:00", "K02", "¥6.00"),
    ]


def test_dashboard_switches_to_english(dashboard: str) -> None:
    dom = browser.dump_dom(dashboard + "?lang=en")
    assert '<html lang="en">' in dom
    assert text_of(dom, "sales-count") == "0"
    assert text_of(dom, "sales-total") == "¥0.00"
    assert "No sales yet today." in dom
    assert text_of(dom, "lang-switch") == "中文"
    nav = re.findall(r'<a href="(/[a-z-]*\?lang=en)">([^<]+)</a>', dom)
    assert nav == [
        ("/?lang=en", "Dashboard"),
        ("/reports?lang=en", "Reports"),
        ("/finance?lang=en", "Finance"),
        ("/catalog?lang=en", "Catalog"),
        ("/stock?lang=en", "Stock"),
        ("/fleet?lang=en", "Terminals"),
        ("/quarantine?lang=en", "Quarantine"),
        ("/members?lang=en", "Members"),
        ("/campaigns?lang=en", "Campaigns"),
        ("/messages?lang=en", "Messages"),
        ("/rules?lang=en", "Rules &amp; tiers"),
        ("/reconciliation?lang=en", "Reconciliation"),
        ("/releases?lang=en", "Releases"),
        ("/staff?lang=en", "Staff"),
        ("/staff-hours?lang=en", "Staff hours"),
        ("/jobs?lang=en", "Jobs"),
    ]


def test_dashboard_screenshot_renders(dashboard: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    target = browser.screenshot(dashboard, tmp_path / "dash.png", width=1024, height=700)
    from PIL import Image

    with Image.open(target) as image:
        assert image.size == (1024, 700)
        # the header band is white and the page background is not: something was drawn
        assert image.getpixel((10, 10))[:3] == (255, 255, 255)
        assert image.getpixel((10, 400))[:3] == (245, 247, 250)
