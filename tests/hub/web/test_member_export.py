"""Joining, erasure and "export my data" at the hub: real terminal databases make the events, a real
hub database books them, and the export page is served by uvicorn and read by Chromium and httpx."""

import csv
import datetime as dt
import io
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import uvicorn

from hub.accounts import audit as owner_audit
from hub.ingest.batch import ingest_batch
from hub.members import ledger as loyalty
from hub.members.models import HubCard, HubMember, IssuedCoupon
from hub.messaging import queue as messages
from hub.web.app import create_app
from hub.web.member_export import ExportPages
from kiosk.devtools import browser
from kiosk.devtools.ports import free_port, wait_for_port
from kiosk.domain.loyalty import POINTS, Kind, LoyaltyRules, sign_member_qr
from kiosk.domain.loyalty.registration import CONSENT_VERSION, RegistrationCoupon, registration_coupon
from kiosk.store import members, open_database, outbox
from kiosk.store.pii import PiiKey, hash_pin, verify_pin
from kiosk.store.sales import Terminal
from kiosk.sync.schema import GENESIS, batch, make_event

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 24, 15, 30, tzinfo=TZ)
KEY = PiiKey(bytes(range(32)))
CONSENT = members.Consent(version=CONSENT_VERSION, where="S01/K01")
WELCOME = RegistrationCoupon(name_zh="新会员满20减3", min_spend_fen=2000, off_fen=300)


@pytest.fixture(autouse=True)
def hub_rules() -> Iterator[None]:
    loyalty.configure(LoyaltyRules(), KEY)
    yield
    loyalty.configure(LoyaltyRules(), None)


def terminal_events(path: Path, device: str, work: Any) -> list[dict[str, Any]]:
    """Run ``work(terminal)`` on a real terminal database; return its pending outbox events."""
    db = open_database(path / f"{device}.db")
    try:
        work(Terminal(store="S01", device=device, boot=f"{device}-boot"))
        return outbox.pending(limit=1000)
    finally:
        db.close()


def ingest(device: str, events: list[dict[str, Any]]) -> None:
    result = ingest_batch(f"pos/{device}/up/events", batch(device, events), NOW, TZ)
    assert result is not None and result.rejected == []


def join(terminal: Terminal, member_id: str = "m-1", pin: str = "2580") -> None:
    coupon = registration_coupon(WELCOME, member_id, f"welcome-{member_id}", NOW)
    members.register_member(
        KEY,
        terminal,
        NOW,
        "13812341234",
        CONSENT,
        name="李四",
        member_id=member_id,
        pin_hash=hash_pin(pin),
        coupon=coupon,
    )


def grant(terminal: Terminal, member_id: str, points: int) -> None:
    stamp = members.new_stamp(terminal, NOW)
    entry = stamp.entry(member_id=member_id, account=POINTS, kind=Kind.ADJUST, amount=points)
    members.adjust(terminal, NOW, [entry], "welcome gift")


def test_joining_at_a_kiosk_books_consent_pin_and_welcome_coupon(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ingest("K01", terminal_events(tmp_path, "K01", join))
    member = HubMember.get_by_id("m-1")
    assert (member.consent_version, member.consent_at, member.consent_where) == (
        "kiosk-consent-2026-11", "2026-11-24T15:30:00.000+08:00", "S01/K01",
    )  # fmt: skip
    assert verify_pin("2580", member.pin_hash)
    coupon = IssuedCoupon.get_by_id("welcome-m-1")
    assert (coupon.member_id, coupon.device, coupon.issued_at) == (
        "m-1",
        "K01",
        "2026-11-24T15:30:00.000+08:00",
    )
    assert json.loads(coupon.body)["off_fen"] == 300


def test_the_same_phone_joining_elsewhere_merges_and_keeps_pin_and_coupon(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    def no_pin(terminal: Terminal) -> None:
        members.register_member(
            KEY, terminal, NOW - dt.timedelta(days=1), "13812341234", CONSENT, member_id="m-0"
        )

    ingest("K02", terminal_events(tmp_path, "K02", no_pin))
    ingest("K01", terminal_events(tmp_path, "K01", join))
    survivor = HubMember.get_by_id("m-0")
    assert HubMember.get_by_id("m-1").merged_into == "m-0"
    assert verify_pin("2580", survivor.pin_hash)  # the earlier member had no PIN: the new one counts
    assert IssuedCoupon.get_by_id("welcome-m-1").member_id == "m-0"


def test_erasure_requested_at_a_kiosk_anonymises_the_hub_profile_and_keeps_the_ledger(  # type: ignore[no-untyped-def]
    hub_db, tmp_path: Path
) -> None:
    def day(terminal: Terminal) -> None:
        join(terminal)
        members.link_card(terminal, NOW, "m-1", "04A1B2C3")
        grant(terminal, "m-1", 120)
        members.request_erasure(terminal, NOW, "m-1")

    events = terminal_events(tmp_path, "K01", day)
    assert [e["type"] for e in events] == [
        "member.registered", "card.linked", "ledger.adjusted", "member.erasure_requested",
    ]  # fmt: skip
    ingest("K01", events)
    member = HubMember.get_by_id("m-1")
    assert (member.phone_index, member.phone_enc, member.name_enc, member.pin_hash) == (
        "erased:m-1",
        "",
        "",
        "",
    )
    assert member.erased_at == "2026-11-24T15:30:00+08:00"
    assert HubCard.select().count() == 0
    assert loyalty.member_balances("m-1") == {POINTS: 120}
    ingest("K01", events)  # a resent batch changes nothing
    assert HubMember.get_by_id("m-1").erased_at == "2026-11-24T15:30:00+08:00"


def test_an_erasure_request_without_a_member_is_quarantined_not_applied(hub_db) -> None:  # type: ignore[no-untyped-def]
    event = make_event(
        event_id="K01-ev-1", device="K01", seq=1, boot="boot", ts="2026-11-24T15:30:00.000+08:00",
        type="member.erasure_requested", prev=GENESIS, data={"requested_at": "2026-11-24T15:30:00.000+08:00"},
    )  # fmt: skip
    result = ingest_batch("pos/K01/up/events", batch("K01", [event]), NOW, TZ)
    assert result is not None
    assert result.rejected == [
        {
            "id": "K01-ev-1",
            "reason": "member.erasure_requested data field 'member_id' is missing or has the wrong type",
        }
    ]


class Clock:
    """A monotonic clock the test moves by hand (the export lockout's time)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def hub_site(hub_db, tmp_path: Path) -> Iterator[tuple[str, Clock]]:  # type: ignore[no-untyped-def]
    """The hub on uvicorn with member m-1 (PIN 2580, 120 points) and m-2 (no PIN) booked."""

    def day(terminal: Terminal) -> None:
        join(terminal)
        grant(terminal, "m-1", 120)
        members.register_member(KEY, terminal, NOW, "13900001111", CONSENT, member_id="m-2")

    ingest("K01", terminal_events(tmp_path, "K01", day))
    clock = Clock()
    app = create_app(TZ, export_pages=ExportPages(clock))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for_port(port)
    yield f"http://127.0.0.1:{port}", clock
    server.should_exit = True
    thread.join(timeout=10)


def link(member_id: str, minutes: int = 10) -> str:
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)
    return f"/my-data/{sign_member_qr(member_id, expires, KEY.link_key())}"


@pytest.mark.parametrize("hub_db_url", ["sqlite"], indirect=True)  # the pages; ingest runs on both
def test_export_page_asks_for_the_pin_in_both_languages(hub_site: tuple[str, Clock]) -> None:
    url, _ = hub_site
    dom = browser.dump_dom(url + link("m-1"))
    assert '<html lang="zh-CN">' in dom and "请输入您的会员密码" in dom
    assert 'id="pin" name="pin" type="password"' in dom and "/fleet" not in dom
    dom_en = browser.dump_dom(url + link("m-1") + "?lang=en")
    assert "Enter your member PIN to download your profile" in dom_en


@pytest.mark.parametrize("hub_db_url", ["sqlite"], indirect=True)  # the pages; ingest runs on both
def test_right_pin_downloads_json_and_csv(hub_site: tuple[str, Clock]) -> None:
    url, _ = hub_site
    got = httpx.post(url + link("m-1"), data={"pin": "2580", "format": "json"})
    assert got.status_code == 200
    assert got.headers["content-disposition"] == 'attachment; filename="member-m-1.json"'
    data = got.json()
    assert data["member"] | {"created_at": ""} == {
        "id": "m-1", "phone": "+8613812341234", "name": "李四", "birthday": "", "gender": "", "tier": "",
        "home_store": "S01", "source": "kiosk", "created_at": "",
        "consent": {
            "version": "kiosk-consent-2026-11", "at": "2026-11-24T15:30:00.000+08:00", "where": "S01/K01",
        },
    }  # fmt: skip
    assert data["balances"] == {POINTS: 120}
    assert [(e["account"], e["kind"], e["amount"], e["device"]) for e in data["ledger"]] == [
        (POINTS, "adjust", 120, "K01")
    ]
    assert [(c["body"]["name_zh"], c["used_sale_id"]) for c in data["coupons"]] == [("新会员满20减3", None)]
    as_csv = httpx.post(url + link("m-1"), data={"pin": "2580", "format": "csv"})
    rows = list(csv.reader(io.StringIO(as_csv.text)))
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert rows[:4] == [["field", "value"], ["id", "m-1"], ["phone", "+8613812341234"], ["name", "李四"]]
    assert ["balance_points", "120"] in rows
    ledger_at = rows.index(["at", "account", "kind", "amount", "device", "sale_id", "rule", "id"])
    assert [r[1:5] for r in rows[ledger_at + 1 :]] == [[POINTS, "adjust", "120", "K01"]]


@pytest.mark.parametrize("hub_db_url", ["sqlite"], indirect=True)  # the pages; ingest runs on both
def test_wrong_pins_are_refused_then_locked_until_the_lock_ends(hub_site: tuple[str, Clock]) -> None:
    url, clock = hub_site
    for left in (4, 3, 2, 1):
        refused = httpx.post(url + link("m-1"), data={"pin": "1111"})
        assert refused.status_code == 403
        assert f"密码不正确，资料未导出。还可再试 {left} 次。" in refused.text
        assert "+8613812341234" not in refused.text
    locked = httpx.post(url + link("m-1") + "?lang=en", data={"pin": "1111"})
    assert locked.status_code == 429
    assert "Too many wrong PINs: export is locked. Try again in 15 min." in locked.text
    still = httpx.post(url + link("m-1"), data={"pin": "2580"})  # even the right PIN waits
    assert still.status_code == 429 and "请 15 分钟后再试" in still.text
    clock.now += 900
    assert httpx.post(url + link("m-1"), data={"pin": "2580"}).status_code == 200


@pytest.mark.parametrize("hub_db_url", ["sqlite"], indirect=True)  # the pages; ingest runs on both
def test_forged_expired_and_pinless_links_are_refused(hub_site: tuple[str, Clock]) -> None:
    url, _ = hub_site
    forged = httpx.get(url + link("m-1")[:-3] + "AAA")
    assert forged.status_code == 404 and "会员码无效" in forged.text
    expired = httpx.get(url + link("m-1", minutes=-1) + "?lang=en")
    assert expired.status_code == 404 and "member QR has expired" in expired.text
    pinless = httpx.get(url + link("m-2"))
    assert pinless.status_code == 409 and "您还没有设置会员密码" in pinless.text


@pytest.mark.parametrize("hub_db_url", ["sqlite"], indirect=True)
def test_screenshots_of_the_export_page_on_a_phone(hub_site: tuple[str, Clock], tmp_path: Path) -> None:
    from PIL import Image

    url, _ = hub_site
    shots = Path(os.environ.get("KIOSK_SCREENSHOTS", tmp_path))
    for lang, query in (("zh", ""), ("en", "?lang=en")):
        shot = browser.screenshot(url + link("m-1") + query, shots / f"hub-my_data-{lang}.png", 390, 700)
        with Image.open(shot) as image:
            assert image.size == (390, 700)
            assert image.getpixel((5, 5))[:3] == (255, 255, 255)  # header


@pytest.mark.parametrize("hub_db_url", ["sqlite"], indirect=True)  # the pages; ingest runs on both
def test_the_member_turns_marketing_messages_on_and_off_with_their_pin(hub_site: tuple[str, Clock]) -> None:
    url, _ = hub_site
    page = httpx.get(url + link("m-1")).text
    assert 'id="marketing-form"' in page and "是否通过短信和邮件接收本店的优惠活动信息" in page
    wrong = httpx.post(url + link("m-1") + "/marketing", data={"pin": "1111", "marketing": "1"})
    assert wrong.status_code == 403 and not messages.has_consent("m-1")
    bad = httpx.post(
        url + link("m-1") + "/marketing?lang=en", data={"pin": "2580", "marketing": "1", "email": "li"}
    )
    assert bad.status_code == 422 and "“li” is not an e-mail address" in bad.text
    on = httpx.post(
        url + link("m-1") + "/marketing", data={"pin": "2580", "marketing": "1", "email": "li@example.com"}
    )
    assert on.status_code == 200 and "已开启：您将收到优惠活动信息，可随时退订。" in on.text
    assert messages.has_consent("m-1")
    export = httpx.post(url + link("m-1"), data={"pin": "2580", "format": "json"}).json()
    assert export["marketing_consent"] | {"at": ""} == {
        "granted": True, "version": "kiosk-marketing-2026-12", "where": "my-data", "at": "",
        "email": "li@example.com",
    }  # fmt: skip
    off = httpx.post(url + link("m-1") + "/marketing?lang=en", data={"pin": "2580", "marketing": "0"})
    assert "Done: you will not receive offers any more." in off.text
    assert not messages.has_consent("m-1")
    assert [
        a["detail"]["granted"] for a in owner_audit.trail("m-1") if a["action"] == "member.marketing_consent"
    ] == [
        True,
        False,
    ]
