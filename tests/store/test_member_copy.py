"""The terminal's copy of the hub's members on a real SQLite file: versions, erasure, balances."""

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

from kiosk.domain.loyalty import POINTS, PRINCIPAL, Kind
from kiosk.store import members, outbox
from kiosk.store.member_models import Member, MemberCard
from kiosk.store.members import hub_copy
from kiosk.store.models import Outbox
from kiosk.store.pii import PiiKey
from kiosk.store.sales import Terminal

NOW = dt.datetime(2026, 11, 24, 15, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
KEY = PiiKey(bytes(range(32)))
TERMINAL = Terminal(store="S02", device="K02", boot="boot-1")
PHONE = "+8613812341234"


def state(member_id: str, version: int, points: int = 0, through: int = 0, **fields: Any) -> dict[str, Any]:
    """A member state as the hub sends it (profile encrypted with the business key)."""
    profile = {
        "id": member_id,
        "phone_index": KEY.blind_index(fields.pop("phone", PHONE)),
        "phone_enc": KEY.encrypt(PHONE, f"{member_id}:phone"),
        "name_enc": KEY.encrypt("张三", f"{member_id}:name"),
        "birthday_enc": "",
        "tier_code": "silver",
        "created_at": "2026-11-01T10:00:00+08:00",
        "merged_into": None,
        **fields,
    }
    cards = [{"uid": f"card-{member_id}", "member_id": member_id, "kind": "nfc", "linked_at": "x"}]
    balances = {POINTS: points} if points else {}
    return {"id": member_id, "version": version, "erased": False, "member": profile, "cards": cards,
            "balances": balances, "through_seq": through}  # fmt: skip


def snapshot(*states: dict[str, Any], version: int) -> None:
    hub_copy.apply_snapshot_page(list(states))
    hub_copy.finish_snapshot(version, NOW)


def test_a_new_terminal_takes_no_delta_before_its_snapshot(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    assert hub_copy.position() == hub_copy.FeedPosition(0, False)
    assert hub_copy.apply_delta(0, 1, [state("m-1", 1)]) == "gap"
    assert Member.select().count() == 0
    snapshot(state("m-1", 1, points=70), version=1)
    assert hub_copy.position() == hub_copy.FeedPosition(1, True)
    found = members.find_by_card("card-m-1")
    assert found is not None and members.profile(KEY, found)["name"] == "张三"
    assert members.member_balances("m-1") == {POINTS: 70}


def test_deltas_apply_in_order_once_and_never_go_back(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    snapshot(state("m-1", 3, points=10), version=3)
    assert hub_copy.apply_delta(3, 5, [state("m-1", 5, points=50)]) == "applied"
    assert hub_copy.apply_delta(3, 5, [state("m-1", 5, points=50)]) == "duplicate"
    assert hub_copy.apply_delta(6, 7, [state("m-1", 7, points=70)]) == "gap"  # version 6 is missing
    assert (hub_copy.position().version, members.member_balances("m-1")) == (5, {POINTS: 50})
    # a late message that overlaps: its older state of m-1 is skipped, m-2 is new
    assert hub_copy.apply_delta(4, 6, [state("m-1", 4, points=40), state("m-2", 6, phone="13900000000")]) == (
        "applied"
    )
    assert members.member_balances("m-1") == {POINTS: 50}
    assert hub_copy.position().version == 6
    assert hub_copy.MemberHubVersion.get_by_id("m-2").version == 6


def test_a_snapshot_page_newer_than_its_version_is_not_undone_by_deltas(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    # page 1 read at version 8; m-1 changed at 9 before page 2 was read
    snapshot(state("m-1", 9, points=90), version=8)
    assert hub_copy.apply_delta(8, 9, [state("m-1", 9, points=90)]) == "applied"
    assert members.member_balances("m-1") == {POINTS: 90}
    hub_copy.finish_snapshot(4, NOW)  # an older snapshot finishing late never moves the version back
    assert hub_copy.position().version == 9


def test_erasure_removes_personal_data_and_cards_but_keeps_the_ledger(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    snapshot(state("m-1", 1, points=100), version=1)
    members.adjust(TERMINAL, NOW, [members.new_stamp(TERMINAL, NOW).entry(
        member_id="m-1", account=POINTS, kind=Kind.REDEEM, amount=-30)], "reward")  # fmt: skip
    assert hub_copy.apply_delta(1, 2, [{"id": "m-1", "version": 2, "erased": True}]) == "applied"
    member = Member.get_by_id("m-1")
    assert (member.phone_enc, member.name_enc, member.pin_hash, member.phone_index) == (
        "",
        "",
        "",
        "erased:m-1",
    )
    assert MemberCard.select().count() == 0
    assert members.find_by_card("card-m-1") is None and members.find_by_phone(KEY, PHONE) is None
    assert members.member_balances("m-1") == {POINTS: 70}


def test_erasure_scrubs_delivered_events_but_never_unsent_ones(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    consent = members.Consent(version="privacy-2026-01", where="S02/K02")
    members.register_member(KEY, TERMINAL, NOW, PHONE, consent, name="王五", member_id="m-1")
    members.set_pin(TERMINAL, NOW, "m-1", "2468")
    members.register_member(KEY, TERMINAL, NOW, "13900000000", consent, name="赵六", member_id="m-2")
    registered, pin, other = [e["id"] for e in outbox.pending(limit=10)]
    outbox.mark_acked([registered, pin], NOW)
    hashes = {row.id: row.hash for row in Outbox.select()}
    snapshot(version=0)
    assert hub_copy.apply_delta(0, 1, [{"id": "m-1", "version": 1, "erased": True}]) == "applied"
    body = json.loads(Outbox.get_by_id(registered).body)["data"]["member"]
    assert (body["phone_enc"], body["name_enc"], body["phone_index"]) == ("", "", "erased:m-1")
    assert json.loads(Outbox.get_by_id(pin).body)["data"]["pin_hash"] == ""
    assert json.loads(Outbox.get_by_id(other).body)["data"]["member"]["name_enc"] != ""  # m-2 untouched
    assert {row.id: row.hash for row in Outbox.select()} == hashes  # the chain stays as it was


def test_own_unsynced_spend_is_never_hidden_by_an_older_hub_balance(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    snapshot(state("m-1", 1, through=0), version=1)
    members.top_up_stored_value(TERMINAL, NOW, "m-1", 10000, members_rule(), "staff-1")  # ledger seq 1
    spend = members.new_stamp(TERMINAL, NOW).entry(
        member_id="m-1", account=PRINCIPAL, kind=Kind.SPEND, amount=-3000
    )
    members.adjust(TERMINAL, NOW, [spend], "sale")  # ledger seq 2, not at the hub yet
    assert members.member_balances("m-1") == {PRINCIPAL: 7000}
    # the hub booked the top-up (through seq 1) and another store's 500 points, not the spend
    hub_state = state("m-1", 2, points=500, through=1)
    hub_state["balances"][PRINCIPAL] = 10000
    assert hub_copy.apply_delta(1, 2, [hub_state]) == "applied"
    assert members.member_balances("m-1") == {POINTS: 500, PRINCIPAL: 7000}


def test_a_member_merged_away_keeps_no_claim_on_the_phone(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    survivor, duplicate = state("m-1", 2), state("m-2", 3, merged_into="m-1")
    snapshot(survivor, duplicate, version=3)
    assert members.find_by_phone(KEY, PHONE).id == "m-1"  # type: ignore[union-attr]
    assert Member.get_by_id("m-2").phone_index == "merged:m-2"
    assert members.find_by_card("card-m-2").id == "m-1"  # type: ignore[union-attr]


def members_rule():  # type: ignore[no-untyped-def]
    from kiosk.domain.loyalty.rules import StoredValueRule

    return StoredValueRule()


def test_coupons_come_with_the_member_and_a_use_at_the_hub_marks_them_used(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    from kiosk.domain.loyalty import Coupon, CouponKind
    from kiosk.domain.loyalty.coupons import coupon_to_dict

    def coupon(coupon_id: str) -> dict[str, Any]:
        terms = Coupon(id=coupon_id, kind=CouponKind.PERCENT, name_zh="9折", percent_off=10,
                       valid_from=NOW, valid_until=NOW + dt.timedelta(days=7), member_id="m-1")  # fmt: skip
        return coupon_to_dict(terms)

    first = state("m-1", 1)
    first["coupons"] = [
        {"body": coupon("c-1"), "used_sale_id": None},
        {"body": coupon("c-2"), "used_sale_id": None},
    ]
    snapshot(first, version=1)
    assert [(c.id, c.used) for c in members.member_coupons("m-1")] == [("c-1", False), ("c-2", False)]
    later = state("m-1", 2)
    later["coupons"] = [
        {"body": coupon("c-1"), "used_sale_id": "s-9"},
        {"body": coupon("c-2"), "used_sale_id": None},
    ]
    assert hub_copy.apply_delta(1, 2, [later]) == "applied"
    assert [(c.id, c.used) for c in members.member_coupons("m-1")] == [("c-1", True), ("c-2", False)]
