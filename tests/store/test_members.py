"""Members on a real SQLite file: registration, cards, ledger, member sales, refunds."""

import dataclasses
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from kiosk.domain.cart import Cart, Product
from kiosk.domain.loyalty import (
    BONUS,
    POINTS,
    PRINCIPAL,
    CardExpired,
    CountCardProduct,
    Coupon,
    CouponKind,
    CouponNotApplicable,
    EarnContext,
    InsufficientBalance,
    Kind,
    LoyaltyRules,
    MemberPayment,
    OfflineSpend,
    Split,
    Verdict,
    price_cart,
    sale_ledger,
    verify_chain,
)
from kiosk.domain.loyalty.rules import BonusTier, ExpiryRule, Reward, RiskCap, StoredValueRule
from kiosk.store import members, outbox
from kiosk.store.member_models import CouponRow, LedgerRow, Member
from kiosk.store.members import hub_copy
from kiosk.store.models import Outbox, Sale
from kiosk.store.pii import PiiError, PiiKey
from kiosk.store.sales import PaymentIntent, Terminal, commit_sale

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 24, 15, 30, tzinfo=SHANGHAI)
TERMINAL = Terminal(store="S01", device="K01", boot="boot-1")
KEY = PiiKey(bytes(range(32)))
CONSENT = members.Consent(version="privacy-2026-01", where="S01/K01")
RICE = Product("rice", "6900000000011", "大米", "Rice", 5000, "food")
SV_RULE = StoredValueRule(bonus_tiers=(BonusTier(min_fen=10000, bonus_fen=2000),))


def register(phone: str = "13812341234", **kw: object) -> Member:
    return members.register_member(KEY, TERMINAL, NOW, phone, CONSENT, **kw).member  # type: ignore[arg-type]


def events(type_: str) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(r.body) for r in Outbox.select().where(Outbox.type == type_).order_by(Outbox.seq)]


def test_register_stores_encrypted_pii_and_its_event(kiosk_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    member = register(name="张三", birthday=dt.date(1990, 3, 22), member_id="m-1")
    assert members.profile(KEY, member) == {
        "phone": "+8613812341234",
        "name": "张三",
        "birthday": "1990-03-22",
    }
    [event] = events("member.registered")
    assert event["data"]["member"]["id"] == "m-1"
    assert event["data"]["member"]["phone_index"] == KEY.blind_index("+8613812341234")
    kiosk_db.execute_sql("PRAGMA wal_checkpoint(FULL)")
    raw = (tmp_path / "kiosk.db").read_bytes()
    assert b"13812341234" not in raw and "张三".encode() not in raw


def test_registering_a_known_phone_links_to_the_existing_member(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    first = register("138 1234 1234", member_id="m-1")
    again = members.register_member(KEY, TERMINAL, NOW, "+86 13812341234", CONSENT, member_id="m-2")
    assert (again.member.id, again.created) == (first.id, False)
    assert len(events("member.registered")) == 1
    assert members.find_by_phone(KEY, "13812341234").id == "m-1"  # type: ignore[union-attr]
    assert members.find_by_phone(KEY, "13900000000") is None


def test_pii_needs_the_right_key_and_field(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    member = register(name="李四", member_id="m-1")
    with pytest.raises(PiiError):
        members.profile(PiiKey(bytes(32)), member)
    with pytest.raises(PiiError):
        KEY.decrypt(member.name_enc, "m-1:phone")


def test_the_crypto_backend_loads_with_the_first_personal_data_not_with_the_key() -> None:
    # a terminal nobody taps a member card on never loads it: about 6 MB (docs/perf.md)
    script = (
        "import sys; from kiosk.store.pii import PiiKey; key = PiiKey(bytes(32));"
        " print('cryptography' in sys.modules, key.blind_index('+8613812341234')[:8]);"
        " token = key.encrypt('张三', 'm-1:name');"
        " print('cryptography' in sys.modules, key.decrypt(token, 'm-1:name'))"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    first, second = out.splitlines()
    assert first.startswith("False ") and second == "True 张三"


def test_card_link_and_lookup(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    owner = register(member_id="m-1")
    register("13900000000", member_id="m-2")
    members.link_card(TERMINAL, NOW, owner.id, "04A1B2C3")
    members.link_card(TERMINAL, NOW, owner.id, "04A1B2C3")
    assert members.find_by_card("04A1B2C3").id == "m-1"  # type: ignore[union-attr]
    with pytest.raises(members.CardTaken):
        members.link_card(TERMINAL, NOW, "m-2", "04A1B2C3")
    assert [e["data"]["uid"] for e in events("card.linked")] == ["04A1B2C3"]


def test_top_up_writes_chained_entries_and_one_event(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    register(member_id="m-1")
    assert members.top_up_stored_value(TERMINAL, NOW, "m-1", 10000, SV_RULE, "staff-7") == Split(10000, 2000)
    assert members.member_balances("m-1") == {PRINCIPAL: 10000, BONUS: 2000}
    [event] = events("ledger.adjusted")
    assert [(e["account"], e["amount"], e["seq"]) for e in event["data"]["entries"]] == [
        (PRINCIPAL, 10000, 1),
        (BONUS, 2000, 2),
    ]
    assert verify_chain(members.ledger_entries()) == []


def seed_points(member_id: str, points: int) -> None:
    stamp = members.new_stamp(TERMINAL, NOW)
    grant = stamp.entry(member_id=member_id, account=POINTS, kind=Kind.ADJUST, amount=points)
    members.adjust(TERMINAL, NOW, [grant], "welcome gift")


def coupon(cid: str = "c-1") -> Coupon:
    return Coupon(
        id=cid,
        kind=CouponKind.THRESHOLD,
        name_zh="满100减20",
        min_spend_fen=10000,
        off_fen=2000,
        valid_from=NOW - dt.timedelta(days=1),
        valid_until=NOW + dt.timedelta(days=30),
        member_id="m-1",
    )


def member_sale(sale_id: str) -> members.MemberSale:
    """2 x rice (¥100) with 满100减20, ¥10 paid with 1000 points, ¥20 stored value."""
    priced = price_cart(Cart().add(RICE, 2), (coupon(),), NOW, "m-1")
    paid = MemberPayment(points=1000, points_fen=1000, stored=Split(2000, 0))
    stamp = members.new_stamp(TERMINAL, NOW)
    ctx = EarnContext(day=NOW.date())
    earned, entries = sale_ledger("m-1", sale_id, priced, paid, LoyaltyRules(), ctx, stamp)
    return members.MemberSale("m-1", sale_id, priced, tuple(entries), earned.points)


def pay() -> list[PaymentIntent]:
    return [
        PaymentIntent("points", 1000),
        PaymentIntent("stored_value", 2000),
        PaymentIntent("cash", 5000),
    ]


@pytest.fixture
def member_with_balances(kiosk_db):  # type: ignore[no-untyped-def]
    register(member_id="m-1")
    seed_points("m-1", 5000)
    members.top_up_stored_value(TERMINAL, NOW, "m-1", 10000, SV_RULE, "staff-7")
    members.add_coupon(coupon())
    return kiosk_db


def test_member_sale_commits_entries_coupon_and_event_together(member_with_balances) -> None:  # type: ignore[no-untyped-def]
    sale = commit_sale(Cart().add(RICE, 2), pay(), TERMINAL, NOW, "s-1", member=member_sale("s-1"))
    assert Sale.get_by_id(sale.id).total_fen == 8000
    assert members.member_balances("m-1") == {POINTS: 5000 - 1000 + 70, PRINCIPAL: 8000, BONUS: 2000}
    [event] = events("sale.completed")
    data = event["data"]
    assert (data["member_id"], data["coupons"], data["net_lines"]) == ("m-1", ["c-1"], [8000])
    assert [(e["kind"], e["amount"]) for e in data["ledger"]] == [
        ("redeem", -1000),
        ("spend", -2000),
        ("earn", 70),
    ]
    assert CouponRow.get_by_id("c-1").used_sale_id == "s-1"
    assert members.member_coupons("m-1")[0].used
    assert verify_chain(members.ledger_entries()) == []


def test_a_long_adjustment_is_written_in_parts_and_chained_across_them(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    # write_ledger inserts up to 500 rows per statement: 1,203 entries take three
    register(member_id="m-1")
    stamp = members.new_stamp(TERMINAL, NOW)
    grants = [
        stamp.entry(member_id="m-1", account=POINTS, kind=Kind.ADJUST, amount=n) for n in range(1, 1204)
    ]
    linked = members.adjust(TERMINAL, NOW, grants, "migration")
    stored = members.ledger_entries("m-1")
    assert stored == linked
    assert [e.seq for e in stored] == list(range(1, 1204))
    assert verify_chain(stored) == []
    assert members.member_balances("m-1") == {POINTS: 1203 * 1204 // 2}
    [event] = events("ledger.adjusted")
    assert [e["hash"] for e in event["data"]["entries"]] == [e.hash for e in linked]
    assert LedgerRow.select().where(LedgerRow.event_id == event["id"]).count() == 1203


def test_offline_spend_counts_until_the_hub_acks(member_with_balances) -> None:  # type: ignore[no-untyped-def]
    commit_sale(Cart().add(RICE, 2), pay(), TERMINAL, NOW, "s-1", member=member_sale("s-1"))
    assert members.offline_spent("m-1") == OfflineSpend(1000, 2000)
    outbox.mark_acked([e["id"] for e in outbox.pending()], NOW)
    assert members.offline_spent("m-1") == OfflineSpend(0, 0)


def test_single_use_coupon_used_twice_rolls_the_whole_sale_back(member_with_balances) -> None:  # type: ignore[no-untyped-def]
    commit_sale(Cart().add(RICE, 2), pay(), TERMINAL, NOW, "s-1", member=member_sale("s-1"))
    before = (Sale.select().count(), Outbox.select().count(), LedgerRow.select().count())
    with pytest.raises(CouponNotApplicable, match="已使用"):
        commit_sale(Cart().add(RICE, 2), pay(), TERMINAL, NOW, "s-2", member=member_sale("s-2"))
    assert (Sale.select().count(), Outbox.select().count(), LedgerRow.select().count()) == before


def test_partial_then_full_refund_restores_balances_and_coupon(member_with_balances) -> None:  # type: ignore[no-untyped-def]
    balances_before = members.member_balances("m-1")
    commit_sale(Cart().add(RICE, 2), pay(), TERMINAL, NOW, "s-1", member=member_sale("s-1"))
    first = members.refund_member_sale(TERMINAL, NOW, "s-1", 8000, 0, 2000, "r-1")
    assert [(e.kind, e.account, e.amount) for e in first] == [
        (Kind.REFUND_REVERSAL, POINTS, 250),
        (Kind.REFUND_REVERSAL, PRINCIPAL, 500),
        (Kind.REFUND_REVERSAL, POINTS, -18),
    ]
    assert CouponRow.get_by_id("c-1").used_sale_id == "s-1"
    members.refund_member_sale(TERMINAL, NOW, "s-1", 8000, 2000, 6000, "r-2")
    assert members.member_balances("m-1") == balances_before
    assert CouponRow.get_by_id("c-1").used_sale_id is None
    assert len(events("ledger.adjusted")) == 4  # gift, top-up, two refunds


HAIRCUTS = CountCardProduct("cc10", "理发10次卡", 10, 12, frozenset({"haircut"}))


def test_count_card_is_issued_and_consumed_per_visit(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    register(member_id="m-1")
    card = members.issue_count_card(TERMINAL, NOW, "m-1", HAIRCUTS, "s-9", card_id="cc-1")
    assert members.count_card("cc-1") == card
    assert card.expires_on == dt.date(2027, 11, 23)
    assert members.use_count_card(TERMINAL, NOW, "cc-1", "haircut") == 9
    assert members.use_count_card(TERMINAL, NOW, "cc-1", "haircut") == 8
    assert members.member_balances("m-1") == {"count:cc-1": 8}
    with pytest.raises(CardExpired):
        members.use_count_card(TERMINAL, NOW + dt.timedelta(days=365), "cc-1", "haircut")
    assert members.member_balances("m-1") == {"count:cc-1": 8}


def test_points_expire_oldest_first_and_only_once(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    register(member_id="m-1")
    seed_points("m-1", 300)
    later = NOW + dt.timedelta(days=40)
    stamp = members.new_stamp(TERMINAL, later)
    members.adjust(
        TERMINAL, later, [stamp.entry(member_id="m-1", account=POINTS, kind=Kind.EARN, amount=50)], "x"
    )
    rule = ExpiryRule(months=1)
    expired = members.expire_points(TERMINAL, NOW + dt.timedelta(days=31), "m-1", rule)
    assert [e.amount for e in expired] == [-300]
    assert members.expire_points(TERMINAL, NOW + dt.timedelta(days=32), "m-1", rule) == []
    assert members.member_balances("m-1") == {POINTS: 50}


def test_reward_redemption_spends_points(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    register(member_id="m-1")
    seed_points("m-1", 1200)
    cup = Reward(id="cup", name_zh="保温杯", points=500)
    members.redeem_for_reward(TERMINAL, NOW, "m-1", cup, 2)
    assert members.member_balances("m-1") == {POINTS: 200}
    with pytest.raises(InsufficientBalance):
        members.redeem_for_reward(TERMINAL, NOW, "m-1", cup)
    assert members.member_balances("m-1") == {POINTS: 200}


def test_offline_cap_counts_unacked_spend_on_this_terminal(member_with_balances) -> None:  # type: ignore[no-untyped-def]
    commit_sale(Cart().add(RICE, 2), pay(), TERMINAL, NOW, "s-1", member=member_sale("s-1"))
    cap = RiskCap(offline_points=1500, offline_stored_value_fen=5000)
    assert members.check_member_spend("m-1", OfflineSpend(500), False, cap).verdict == Verdict.ALLOW
    assert members.check_member_spend("m-1", OfflineSpend(501), False, cap).verdict == Verdict.NEEDS_HUB
    assert members.check_member_spend("m-1", OfflineSpend(501), True, cap).verdict == Verdict.ALLOW
    outbox.mark_acked([e["id"] for e in outbox.pending()], NOW)
    assert members.check_member_spend("m-1", OfflineSpend(1500), False, cap).verdict == Verdict.ALLOW


def test_hub_state_replaces_a_local_duplicate_and_snapshots_balances(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    local = register(member_id="m-local")
    members.link_card(TERMINAL, NOW, "m-local", "04LOCAL")
    seed_points("m-local", 30)  # entry seq 1 on this device
    hub_member = {
        "id": "m-hub",
        "phone_index": local.phone_index,
        "phone_enc": local.phone_enc,
        "created_at": "2026-01-01T00:00:00+08:00",
        "erased_at": None,
    }
    hub_copy.apply_snapshot_page(
        [
            {
                "id": "m-hub",
                "version": 1,
                "erased": False,
                "member": hub_member,
                "cards": [{"uid": "04HUB", "member_id": "m-hub", "kind": "nfc", "linked_at": "2026-01-01"}],
                "coupons": [],
                "balances": {POINTS: 500},
                "through_seq": 1,
            }
        ]
    )
    assert members.find_by_phone(KEY, "13812341234").id == "m-hub"  # type: ignore[union-attr]
    assert members.find_by_card("04LOCAL").id == "m-hub"  # type: ignore[union-attr]
    assert members.find_by_card("04HUB").id == "m-hub"  # type: ignore[union-attr]
    seed_points("m-hub", 7)  # seq 2: after the snapshot, counted locally
    assert members.member_balances("m-hub") == {POINTS: 507}
    assert events("member.registered")[0]["data"]["member"]["id"] == "m-local"
    assert len(events("member.registered")) == 1
    panel = members.member_panel("m-hub", with_entries=True)
    assert (panel.balances, panel.has_history) == ({POINTS: 507}, True)
    assert panel.entries == tuple(members.ledger_entries("m-hub"))
    assert [e.amount for e in panel.entries] == [7]
    assert members.find_by_id("m-local").id == "m-hub"  # type: ignore[union-attr]


def test_the_panel_reads_what_the_single_reads_do(member_with_balances) -> None:  # type: ignore[no-untyped-def]
    commit_sale(Cart().add(RICE, 2), pay(), TERMINAL, NOW, "s-1", member=member_sale("s-1"))
    members.add_coupon(dataclasses.replace(coupon("c-2"), single_use=False))
    panel = members.member_panel("m-1")
    assert panel.balances == members.member_balances("m-1") == {POINTS: 4070, PRINCIPAL: 8000, BONUS: 2000}
    assert panel.coupons == tuple(members.member_coupons("m-1"))
    assert [(c.id, c.used) for c in panel.coupons] == [("c-1", True), ("c-2", False)]
    assert (panel.has_history, panel.entries) == (True, None)
    assert [e.kind for e in members.member_panel("m-1", with_entries=True).entries or ()] == [
        Kind.ADJUST, Kind.TOP_UP, Kind.TOP_UP, Kind.REDEEM, Kind.SPEND, Kind.EARN,
    ]  # fmt: skip
    register("13900001111", member_id="m-new")
    assert members.member_panel("m-new", with_entries=True) == members.MemberPanel({}, (), False, ())
    assert members.member_panel("m-unknown") == members.MemberPanel({}, (), False, None)


def test_phone_and_pin_identify_a_member(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    register(member_id="m-1")
    assert members.find_by_phone_and_pin(KEY, "13812341234", "2580") is None  # no PIN yet
    members.set_pin(TERMINAL, NOW, "m-1", "2580")
    assert members.find_by_phone_and_pin(KEY, "13812341234", "2580").id == "m-1"  # type: ignore[union-attr]
    assert members.find_by_phone_and_pin(KEY, "13812341234", "2581") is None
    assert members.find_by_phone_and_pin(KEY, "13900000000", "2580") is None
    [event] = events("member.updated")
    assert event["data"]["pin_hash"].startswith("scrypt$")
    assert "2580" not in json.dumps(event)
    with pytest.raises(PiiError, match="4至8位数字"):
        members.set_pin(TERMINAL, NOW, "m-1", "12a4")
