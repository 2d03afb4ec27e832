"""A member's own account on a real SQLite file: joining with consent, PIN changes, history, erasure."""

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from kiosk.domain.loyalty import POINTS, CountCardProduct, Kind, check_usable
from kiosk.domain.loyalty.registration import (
    CONSENT_VERSION,
    InvalidPin,
    RegistrationCoupon,
    consent_text,
    registration_coupon,
)
from kiosk.store import members
from kiosk.store.member_models import CouponRow, Member, MemberCard
from kiosk.store.models import Outbox
from kiosk.store.pii import PiiKey, hash_pin, verify_pin
from kiosk.store.sales import Terminal

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 24, 15, 30, tzinfo=SHANGHAI)
TERMINAL = Terminal(store="S01", device="K01", boot="boot-1")
KEY = PiiKey(bytes(range(32)))
CONSENT = members.Consent(version=CONSENT_VERSION, where="S01/K01")
WELCOME = RegistrationCoupon(name_zh="新会员满20减3", min_spend_fen=2000, off_fen=300, valid_days=30)


def events(type_: str) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(r.body) for r in Outbox.select().where(Outbox.type == type_).order_by(Outbox.seq)]


def join(phone: str = "138 1234 1234", pin: str = "2580", member_id: str = "m-1") -> Member:
    coupon = registration_coupon(WELCOME, member_id, "c-welcome-1", NOW)
    registration = members.register_member(
        KEY,
        TERMINAL,
        NOW,
        phone,
        CONSENT,
        name="李四",
        member_id=member_id,
        pin_hash=hash_pin(pin),
        coupon=coupon,
    )
    return registration.member


def test_consent_text_names_what_is_stored_in_both_languages() -> None:
    assert consent_text("zh").startswith("我们保存：您的手机号（用于在各门店识别您）")
    assert consent_text("en").startswith("We store: your phone number (to recognise you in every shop)")
    assert "erase" in consent_text("en") and "删除" in consent_text("zh")


def test_joining_stores_consent_pin_and_welcome_coupon_with_one_event(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    member = join()
    assert (member.consent_version, member.consent_at, member.consent_where) == (
        "kiosk-consent-2026-11",
        "2026-11-24T15:30:00.000+08:00",
        "S01/K01",
    )
    assert verify_pin("2580", member.pin_hash) and not verify_pin("2581", member.pin_hash)
    [event] = events("member.registered")
    assert event["data"]["member"]["pin_hash"] == member.pin_hash
    assert event["data"]["member"]["consent_version"] == "kiosk-consent-2026-11"
    coupon = event["data"]["coupon"]
    assert (coupon["id"], coupon["name_zh"], coupon["min_spend_fen"], coupon["off_fen"]) == (
        "c-welcome-1", "新会员满20减3", 2000, 300,
    )  # fmt: skip
    assert (coupon["valid_from"], coupon["valid_until"]) == (
        "2026-11-24T15:30:00+08:00",
        "2026-12-24T15:30:00+08:00",
    )
    [held] = members.member_coupons("m-1")
    check_usable(held, NOW + dt.timedelta(days=29), "m-1")
    assert Outbox.select().count() == 1


def test_joining_with_a_known_phone_returns_that_member_and_issues_nothing(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    join()
    again = members.register_member(KEY, TERMINAL, NOW, "+86 138-1234-1234", CONSENT, member_id="m-2")
    assert (again.member.id, again.created) == ("m-1", False)
    assert CouponRow.select().count() == 1 and Outbox.select().count() == 1


def test_no_welcome_coupon_without_a_rule() -> None:
    assert registration_coupon(None, "m-1", "c-1", NOW) is None


@pytest.mark.parametrize(
    ("new", "again", "message"),
    [
        ("123", "123", "the PIN must be 4 to 6 digits / 密码须为4至6位数字"),
        ("1234567", "1234567", "the PIN must be 4 to 6 digits / 密码须为4至6位数字"),
        ("12a4", "12a4", "the PIN must be 4 to 6 digits / 密码须为4至6位数字"),
        ("7777", "7777", "the PIN must not be one digit repeated / 密码不能全部相同"),
        ("2468", "2469", "the two PINs differ / 两次输入的密码不一致"),
    ],
)
def test_a_bad_new_pin_is_refused_and_the_old_one_stays(kiosk_db, new: str, again: str, message: str) -> None:  # type: ignore[no-untyped-def]
    join()
    with pytest.raises(InvalidPin) as caught:
        members.change_pin(TERMINAL, NOW, "m-1", "2580", new, again)
    assert str(caught.value) == message
    assert verify_pin("2580", Member.get_by_id("m-1").pin_hash)
    assert events("member.updated") == []


def test_change_pin_needs_the_old_pin_and_sends_the_new_hash(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    join()
    with pytest.raises(members.WrongPin, match="原密码不正确"):
        members.change_pin(TERMINAL, NOW, "m-1", "0000", "135790", "135790")
    members.change_pin(TERMINAL, NOW, "m-1", "2580", "135790", "135790")
    member = Member.get_by_id("m-1")
    assert verify_pin("135790", member.pin_hash)
    [event] = events("member.updated")
    assert event["data"] == {"member_id": "m-1", "pin_hash": member.pin_hash}
    assert members.find_by_phone_and_pin(KEY, "13812341234", "135790") == member
    assert members.find_by_phone_and_pin(KEY, "13812341234", "2580") is None


def test_points_history_is_newest_first_and_count_cards_show_visits_left(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    join()
    for amount in (100, -30, 55):
        stamp = members.new_stamp(TERMINAL, NOW)
        entry = stamp.entry(member_id="m-1", account=POINTS, kind=Kind.ADJUST, amount=amount)
        members.adjust(TERMINAL, NOW, [entry], "test")
    assert [e.amount for e in members.points_history("m-1")] == [55, -30, 100]
    assert [e.amount for e in members.points_history("m-1", limit=2)] == [55, -30]
    product = CountCardProduct("CUT10", "理发10次卡", 10, 12, frozenset({"haircut"}))
    card = members.issue_count_card(TERMINAL, NOW, "m-1", product, "s-1", card_id="card-1")
    members.use_count_card(TERMINAL, NOW, card.id, "haircut")
    [held] = members.count_cards("m-1")
    assert (held.card.id, held.card.product_sku, held.visits_left) == ("card-1", "CUT10", 9)


def test_erasure_request_removes_personal_data_and_cards_with_its_event(kiosk_db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    join()
    members.link_card(TERMINAL, NOW, "m-1", "04A1B2C3")
    stamp = members.new_stamp(TERMINAL, NOW)
    members.adjust(
        TERMINAL, NOW, [stamp.entry(member_id="m-1", account=POINTS, kind=Kind.ADJUST, amount=80)], "t"
    )
    event_id = members.request_erasure(TERMINAL, NOW, "m-1")
    member = Member.get_by_id("m-1")
    assert members.is_erased(member)
    assert (member.phone_enc, member.name_enc, member.pin_hash) == ("", "", "")
    assert MemberCard.select().count() == 0
    assert members.find_by_phone(KEY, "13812341234") is None
    assert members.find_by_card("04A1B2C3") is None
    [event] = events("member.erasure_requested")
    assert event["id"] == event_id
    assert event["data"] == {
        "member_id": "m-1",
        "requested_at": "2026-11-24T15:30:00.000+08:00",
        "where": "S01/K01",
    }
    assert members.member_balances("m-1") == {POINTS: 80}  # the anonymous ledger stays
    again = members.register_member(KEY, TERMINAL, NOW, "13812341234", CONSENT, member_id="m-9")
    assert (again.member.id, again.created) == ("m-9", True)  # the phone may join again, as someone new


def test_an_erased_members_old_qr_finds_no_one(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    from kiosk.flows.members_source import StoreMemberSource

    join()
    source = StoreMemberSource(KEY, TERMINAL, lambda: NOW)
    assert source.find_by_qr("member:m-1").phone_masked == "138****1234"  # type: ignore[union-attr]
    members.request_erasure(TERMINAL, NOW, "m-1")
    assert source.find_by_qr("member:m-1") is None


def test_erasure_scrubs_the_registration_this_terminal_already_delivered(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    join()
    Outbox.update(sent_at=NOW).where(Outbox.type == "member.registered").execute()
    members.request_erasure(TERMINAL, NOW, "m-1")
    [registered] = events("member.registered")
    stored = registered["data"]["member"]
    assert (stored["phone_enc"], stored["name_enc"], stored["pin_hash"], stored["phone_index"]) == (
        "", "", "", "erased:m-1",
    )  # fmt: skip
    assert [e["type"] for e in events("member.erasure_requested")] == ["member.erasure_requested"]
