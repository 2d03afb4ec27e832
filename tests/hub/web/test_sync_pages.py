"""The fleet and quarantine pages (zh default, ?lang=en), replay after a fix, and their screenshots."""

import datetime as dt
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hub.cli import main as hub_main
from hub.devtools.sync_story import NOW, ROTATED_KEY, TZ, capture, key_rotation, seed
from hub.fleet.presence import DeviceStatus
from hub.ingest import batch as ingest
from hub.ingest import quarantine
from hub.ingest.batch import ingest_batch
from hub.ingest.models import Quarantine, Sale
from hub.web.sync import router
from kiosk.store.pii import PiiKey
from kiosk.sync.schema import batch
from tests.events import sale_chain


def client() -> TestClient:
    app = FastAPI()
    app.include_router(router(TZ, now=NOW + dt.timedelta(minutes=1)))
    return TestClient(app)


def row(html: str, device: str) -> str:
    match = re.search(rf'<tr id="device-{device}" class="([^"]*)">(.*?)</tr>', html, re.S)
    assert match, f"no row for {device}"
    return match.group(1) + "|" + re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(2))).strip()


def test_fleet_page_flags_the_silent_kiosk_its_gap_and_its_clock(hub_db) -> None:  # type: ignore[no-untyped-def]
    seed()
    html = client().get("/fleet").text
    assert '<html lang="zh-CN">' in html
    assert row(html, "K01") == "|K01 在线 1 分钟前 5 0 – 3 2 0.1.0 12.4 GB 正常 +1 s 0"
    assert re.search(r'id="hub-member-version">总部会员数据版本：<b>2</b>', html)
    assert (
        row(html, "K02")
        == "warn|K02 离线 同步超时 已请求补发 #3–#4 2 小时前 6 41 2 小时 3 0 0.1.0 12.4 GB 缺纸 "
        "−3.0 h 时钟不准 2"
    )
    assert re.search(r'<td class="missing">3, 4</td>', html)
    english = client().get("/fleet?lang=en").text
    assert row(english, "K02") == (
        "warn|K02 offline not syncing asked to resend #3–#4 2 h ago 6 41 2 h 3 0 0.1.0 12.4 GB "
        "out of paper −3.0 h clock off 2"
    )


def test_quarantined_sale_is_replayed_after_the_rule_is_fixed(hub_db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def unknown_product(event: dict[str, object], tz: object) -> None:
        raise ingest.Rejected("unknown product 'A'")

    monkeypatch.setitem(ingest.EFFECTS, "sale.completed", unknown_product)
    result = ingest_batch("pos/K01/up/events", batch("K01", sale_chain("K01", 1)), NOW, TZ)
    assert result is not None and result.rejected == [{"id": "K01-ev-1", "reason": "unknown product 'A'"}]
    monkeypatch.undo()  # the owner adds the product: the rule passes now

    web = client()
    page = web.get("/quarantine?lang=en").text
    assert '<span id="open-count">1</span>' in page and "unknown product &#39;A&#39;" in page
    assert "The sale has an item the hub&#39;s catalog does not have." in page
    assert "Add the item to the catalog, then press Replay." in page
    assert "在商品目录中添加该商品，然后点“重新入账”。" in web.get("/quarantine").text
    [entry] = Quarantine.select()
    reply = web.post(f"/quarantine/{entry.id}/replay", follow_redirects=False)
    assert (reply.status_code, reply.headers["location"]) == (303, f"/quarantine?entry={entry.id}&resolved=1")
    assert Sale.select().count() == 1 and quarantine.open_count() == 0
    assert Quarantine.get_by_id(entry.id).resolution == "applied 1, duplicates 0"
    again = web.post(f"/quarantine/{entry.id}/replay")
    assert again.status_code == 409 and "already resolved" in again.json()["detail"]
    assert '<span id="open-count">0</span>' in web.get("/quarantine").text


def test_replay_of_an_unusable_message_says_why_in_both_languages(hub_db, hub_db_url: str) -> None:  # type: ignore[no-untyped-def]
    assert ingest_batch("pos/K09/up/events", b'{"v": 1, "device": "K09"}', NOW, TZ) is None
    [entry] = Quarantine.select()
    assert (entry.device, entry.event_id) == ("K09", None)
    result = CliRunner().invoke(hub_main, ["quarantine", "replay", str(entry.id), "--db", hub_db_url])
    assert result.exit_code == 1
    assert "消息格式仍然无效：'events' is missing or not a list" in result.output
    assert "The message is still unusable" in result.output
    listing = CliRunner().invoke(hub_main, ["quarantine", "list", "--db", hub_db_url])
    assert listing.output == f"{entry.id}\topen\tK09\t-\t'events' is missing or not a list\n"


def test_fleet_page_names_the_terminals_not_yet_on_a_new_business_key(hub_db) -> None:  # type: ignore[no-untyped-def]
    seed()
    assert 'id="key-rotation"' not in client().get("/fleet").text  # no rotation: no notice
    with key_rotation():
        new = PiiKey(ROTATED_KEY).key_id
        html = client().get("/fleet").text
        assert (
            f'<p id="key-rotation" class="notice">正在更换商户密钥：新密钥 {new}。尚未切换的终端：K02、K03'
            in html
        )
        english = client().get("/fleet?lang=en").text
        assert f"new key {new}. Terminals not yet on it: K02, K03 (they switch" in english
        DeviceStatus.update(key_id=new).execute()
        assert (
            "Every terminal is on it: `hub keys retire` deletes the old key"
            in client().get("/fleet?lang=en").text
        )


@pytest.mark.parametrize("hub_db_url", ["sqlite"], indirect=True)
def test_screenshots_of_fleet_and_quarantine_pages(tmp_path: Path, hub_db_url: str) -> None:
    from PIL import Image

    shots = capture(tmp_path)
    assert [p.name for p in shots] == [
        "hub-fleet-zh.png", "hub-fleet-en.png", "hub-quarantine-zh.png", "hub-quarantine-en.png",
        "hub-receipt-zh.png", "hub-receipt-en.png", "hub-fleet_rotation-zh.png", "hub-fleet_rotation-en.png",
    ]  # fmt: skip
    for shot in shots:
        with Image.open(shot) as image:
            assert image.size == (1280, 720)
            assert image.getpixel((10, 10))[:3] == (255, 255, 255)  # header
            assert image.getpixel((10, 700))[:3] == (245, 247, 250)  # page background


def test_fleet_page_shows_the_range_the_hub_asked_a_terminal_to_resend(hub_db) -> None:  # type: ignore[no-untyped-def]
    chain = sale_chain("K09", 7)
    first = ingest_batch("pos/K09/up/events", batch("K09", chain[:3]), NOW, TZ)
    later = ingest_batch("pos/K09/up/events", batch("K09", chain[5:]), NOW, TZ)  # as to a restored hub
    assert first is not None and later is not None and (first.resend, later.resend) == ([], [(4, 5)])
    asked = row(client().get("/fleet?lang=en").text, "K09")
    assert asked.startswith("warn|") and "asked to resend #4–#5 1 min ago" in asked
    assert '<span class="flag resend" title="1 分钟前">已请求补发 #4–#5</span>' in client().get("/fleet").text
    filled = ingest_batch("pos/K09/up/events", batch("K09", chain[3:5]), NOW, TZ)
    assert filled is not None and filled.resend == []
    done = row(client().get("/fleet?lang=en").text, "K09")
    assert done.startswith("|") and "resent #4–#5 1 min ago" in done
