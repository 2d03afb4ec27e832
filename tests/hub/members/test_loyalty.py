"""The hub's loyalty: real terminal databases produce the events, a real hub database books them."""

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hub.ingest.batch import ingest_batch
from hub.members import feed as member_feed
from hub.members import ledger as loyalty
from hub.members.models import HubCard, HubLedgerEntry, HubMember, MergeAudit
from kiosk.domain.cart import Cart, Product
from kiosk.domain.loyalty import (
    BONUS,
    POINTS,
    PRINCIPAL,
    Coupon,
    CouponKind,
    EarnContext,
    Kind,
    LoyaltyRules,
    MemberPayment,
    Split,
    price_cart,
    sale_ledger,
)
from kiosk.domain.loyalty.rules import BonusTier, EarnRule, StoredValueRule, Tier, TierRule
from kiosk.store import members, open_database, outbox
from kiosk.store.members import hub_copy
from kiosk.store.pii import PiiKey
from kiosk.store.sales import PaymentIntent, Terminal, commit_sale
from kiosk.sync.schema import batch

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 24, 15, 30, tzinfo=TZ)
KEY = PiiKey(bytes(range(32)))
CONSENT = members.Consent(version="privacy-2026-01", where="kiosk")
RICE = Product("rice", "6900000000011", "大米", "Rice", 5000, "food")
SV = StoredValueRule(bonus_tiers=(BonusTier(min_fen=10000, bonus_fen=2000),))
PHONE = "13812341234"


@pytest.fixture(autouse=True)
def hub_rules() -> Iterator[None]:
    loyalty.configure(LoyaltyRules(), KEY)
    yield
    loyalty.configure(LoyaltyRules(), None)


def on_terminal(path: Path, device: str, work: Callable[[Terminal], None]) -> list[dict[str, Any]]:
    """Run ``work`` against a real terminal database; return its pending outbox events."""
    db = open_database(path / f"{device}.db")
    try:
        work(Terminal(store="S01", device=device, boot=f"{device}-boot"))
        return outbox.pending(limit=1000)
    finally:
        db.close()


def ingest(device: str, events: list[dict[str, Any]]):  # type: ignore[no-untyped-def]
    return ingest_batch(f"pos/{device}/up/events", batch(device, events), NOW, TZ)


def grant(terminal: Terminal, member_id: str, points: int) -> None:
    stamp = members.new_stamp(terminal, NOW)
    entry = stamp.entry(member_id=member_id, account=POINTS, kind=Kind.ADJUST, amount=points)
    members.adjust(terminal, NOW, [entry], "welcome gift")


def coupon() -> Coupon:
    return Coupon(
        id="c-1",
        kind=CouponKind.THRESHOLD,
        name_zh="满100减20",
        min_spend_fen=10000,
        off_fen=2000,
        valid_from=NOW - dt.timedelta(days=1),
        valid_until=NOW + dt.timedelta(days=9),
        member_id="m-1",
    )


def sell(
    terminal: Terminal,
    sale_id: str,
    points: int,
    stored: Split,
    use_coupon: bool = True,
    tier: str | None = None,
) -> None:
    """Sell 2 x rice (¥100) to m-1, paying ``points`` (1 point = 1 fen), stored value, then cash."""
    priced = price_cart(Cart().add(RICE, 2), (coupon(),) if use_coupon else (), NOW, "m-1")
    paid = MemberPayment(points=points, points_fen=points, stored=stored)
    stamp = members.new_stamp(terminal, NOW)
    ctx = EarnContext(day=NOW.date())
    earned, entries = sale_ledger("m-1", sale_id, priced, paid, LoyaltyRules(), ctx, stamp)
    sale = members.MemberSale("m-1", sale_id, priced, tuple(entries), earned.points, tier)
    cash = priced.total_fen - points - stored.total
    pays = [
        PaymentIntent("points", points),
        PaymentIntent("stored_value", stored.total),
        PaymentIntent("cash", cash),
    ]
    commit_sale(Cart().add(RICE, 2), [p for p in pays if p.amount_fen], terminal, NOW, sale_id, member=sale)


def shop_day(terminal: Terminal) -> None:
    members.register_member(KEY, terminal, NOW, PHONE, CONSENT, birthday=dt.date(1990, 1, 5), member_id="m-1")
    grant(terminal, "m-1", 5000)
    members.top_up_stored_value(terminal, NOW, "m-1", 10000, SV, "staff-7")
    members.add_coupon(coupon())
    sell(terminal, "s-1", 1000, Split(2000, 1000))


def test_member_day_books_the_same_balances_at_the_hub(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    events = on_terminal(tmp_path, "K01", shop_day)
    result = ingest("K01", events)
    assert result.rejected == [] and result.applied == len(events)
    # 8000 to pay: 1000 points + 1000 bonus earn nothing, 6000 earns 60
    assert loyalty.member_balances("m-1") == {POINTS: 5000 - 1000 + 60, PRINCIPAL: 8000, BONUS: 1000}
    assert loyalty.open_items() == []
    again = ingest("K01", events)
    assert again.duplicates == len(events)
    assert HubLedgerEntry.select().count() == 7  # gift, top-up x2, sale x4
    assert loyalty.open_items() == []


def test_refunds_reach_the_hub(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    def day(terminal: Terminal) -> None:
        shop_day(terminal)
        members.refund_member_sale(terminal, NOW, "s-1", 8000, 0, 8000, "r-1")

    ingest("K01", on_terminal(tmp_path, "K01", day))
    assert loyalty.member_balances("m-1") == {POINTS: 5000, PRINCIPAL: 10000, BONUS: 2000}
    assert loyalty.open_items() == []


def test_offline_double_spend_on_two_terminals_is_reported(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    def first(terminal: Terminal) -> None:
        members.register_member(KEY, terminal, NOW, PHONE, CONSENT, member_id="m-1")
        grant(terminal, "m-1", 5000)
        members.add_coupon(coupon())
        sell(terminal, "s-1", 4000, Split(0, 0))

    def second(terminal: Terminal) -> None:  # same member and coupon, known from the last sync
        members.add_coupon(coupon())
        sell(terminal, "s-2", 4000, Split(0, 0))

    ingest("K01", on_terminal(tmp_path, "K01", first))
    ingest("K02", on_terminal(tmp_path, "K02", second))
    assert loyalty.member_balances("m-1") == {POINTS: 5000 - 4000 + 40 - 4000 + 40}
    kinds = [(i["kind"], i["sale_id"], i["device"], i["got"]) for i in loyalty.open_items()]
    assert kinds == [
        ("negative_balance", "", "", -2920),
        ("coupon_double_use", "s-2", "K02", None),
    ]
    assert loyalty.open_items("coupon_double_use")[0]["detail"] == "coupon c-1 also used in sale s-1 on K01"


def test_same_phone_registered_in_two_stores_is_merged(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    def store_a(terminal: Terminal) -> None:
        members.register_member(KEY, terminal, NOW, PHONE, CONSENT, member_id="m-1")
        grant(terminal, "m-1", 300)

    def store_b(terminal: Terminal) -> None:
        members.register_member(KEY, terminal, NOW + dt.timedelta(hours=1), PHONE, CONSENT, member_id="m-2")
        grant(terminal, "m-2", 200)
        members.link_card(terminal, NOW, "m-2", "04A1B2C3")
        members.top_up_stored_value(terminal, NOW, "m-2", 10000, SV, "staff-2")

    events_b = on_terminal(tmp_path, "K02", store_b)
    ingest("K01", on_terminal(tmp_path, "K01", store_a))
    ingest("K02", events_b[:1])  # the registration: merged at once
    assert HubMember.get_by_id("m-2").merged_into == "m-1"
    ingest("K02", events_b[1:])  # later entries of m-2 follow it into m-1
    assert loyalty.member_balances("m-1") == {POINTS: 500, PRINCIPAL: 10000, BONUS: 2000}
    assert loyalty.member_balances("m-2") == {POINTS: 0, PRINCIPAL: 0, BONUS: 0}
    assert HubCard.get_by_id("04A1B2C3").member_id == "m-1"
    assert loyalty.resolve("m-2") == "m-1"
    audits = [(a.survivor_id, a.duplicate_id, a.by) for a in MergeAudit.select().order_by(MergeAudit.id)]
    assert audits[0] == ("m-1", "m-2", "auto: same phone")
    assert loyalty.open_items() == []


def test_earn_that_disagrees_with_the_hub_rules_is_recorded(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    loyalty.configure(LoyaltyRules(earn=EarnRule(points_per_yuan=2)), KEY)
    ingest("K01", on_terminal(tmp_path, "K01", shop_day))
    [item] = loyalty.open_items()
    assert (item["kind"], item["sale_id"], item["expected"], item["got"]) == ("earn_mismatch", "s-1", 120, 60)
    assert loyalty.member_balances("m-1")[POINTS] == 4060  # history is kept as the terminal wrote it


def test_birthday_multiplier_is_rechecked_with_the_decrypted_birthday(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    loyalty.configure(LoyaltyRules(earn=EarnRule(birthday_multiplier=200)), KEY)

    def november_birthday(terminal: Terminal) -> None:
        members.register_member(
            KEY, terminal, NOW, PHONE, CONSENT, birthday=dt.date(1990, 11, 2), member_id="m-1"
        )
        sell(terminal, "s-1", 0, Split(0, 0), use_coupon=False)

    ingest("K01", on_terminal(tmp_path, "K01", november_birthday))
    [item] = loyalty.open_items()
    assert (item["kind"], item["expected"], item["got"]) == ("earn_mismatch", 200, 100)


def test_an_edited_ledger_entry_is_caught_even_in_a_well_formed_event(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from kiosk.sync.schema import make_event

    events = on_terminal(tmp_path, "K01", shop_day)
    last = events[-1]
    data = dict(last["data"])
    data["ledger"] = [dict(e) for e in data["ledger"]]
    data["ledger"][-1]["amount"] = 600  # earn 60 -> 600, event re-hashed by a forger
    forged = make_event(
        event_id=last["id"],
        device="K01",
        seq=last["seq"],
        boot=last["boot"],
        ts=last["ts"],
        type=last["type"],
        prev=last["prev"],
        data=data,
    )
    ingest("K01", [*events[:-1], forged])
    forged_id = data["ledger"][-1]["id"]
    items = [(i["kind"], i["detail"], i["expected"], i["got"]) for i in loyalty.open_items()]
    assert items == [
        ("ledger_chain", f"entry {forged_id}: hash does not match the entry (edited?)", None, None),
        ("earn_mismatch", "points earned differ from the hub's rules", 60, 600),
    ]


def test_api_shows_balances_items_and_merges(hub_db, tmp_path: Path, signed_in) -> None:  # type: ignore[no-untyped-def]

    from hub.web.app import create_app

    def two_members(terminal: Terminal) -> None:
        members.register_member(KEY, terminal, NOW, PHONE, CONSENT, member_id="m-1")
        members.register_member(KEY, terminal, NOW, "13900000000", CONSENT, member_id="m-9")
        grant(terminal, "m-1", 100)
        grant(terminal, "m-9", 40)

    ingest("K01", on_terminal(tmp_path, "K01", two_members))
    client = signed_in(create_app(TZ))
    assert client.get("/api/v1/members/m-1/balances").json() == {
        "member_id": "m-1",
        "resolved": "m-1",
        "balances": {POINTS: 100},
    }
    assert [e["amount"] for e in client.get("/api/v1/members/m-9/ledger").json()] == [40]
    assert client.get("/api/v1/members/nobody/balances").status_code == 404
    merged = client.post("/api/v1/members/merge", json={"survivor": "m-1", "duplicate": "m-9", "by": "owner"})
    assert merged.json() == {"moved": 2, "balances": {POINTS: 140}}
    again = client.post("/api/v1/members/merge", json={"survivor": "m-1", "duplicate": "m-9", "by": "owner"})
    assert again.status_code == 409
    assert client.get("/api/v1/reconciliation").json() == []
    assert "/api/v1/members/merge" in client.get("/openapi.json").json()["paths"]


TIERED = LoyaltyRules(
    tiers=TierRule(
        basis="spend",
        tiers=(
            Tier(code="normal", name_zh="普通会员", threshold=0),
            Tier(code="silver", name_zh="银卡", threshold=15000),
            Tier(code="gold", name_zh="金卡", threshold=100000),
        ),
    )
)


def test_hub_confirms_an_offline_upgrade_and_reports_a_wrong_one(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    loyalty.configure(TIERED, KEY)

    def day(terminal: Terminal) -> None:
        shop_day(terminal)  # pays 8000: still 普通
        sell(terminal, "s-2", 0, Split(0, 0), use_coupon=False, tier="silver")  # 18000 in the window
        sell(terminal, "s-3", 0, Split(0, 0), use_coupon=False, tier="gold")  # 28000: not gold

    ingest("K01", on_terminal(tmp_path, "K01", day))
    assert HubMember.get_by_id("m-1").tier_code == "silver"
    [item] = loyalty.open_items()
    assert (item["kind"], item["sale_id"], item["detail"]) == (
        "tier_mismatch",
        "s-3",
        "terminal moved the member to gold, the hub has silver",
    )


def test_tier_evaluation_downgrades_only_after_grace(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    loyalty.configure(TIERED, KEY)

    def day(terminal: Terminal) -> None:
        shop_day(terminal)
        sell(terminal, "s-2", 0, Split(0, 0), use_coupon=False)

    ingest("K01", on_terminal(tmp_path, "K01", day))
    assert loyalty.evaluate_tiers(dt.date(2027, 1, 1)) == {}
    assert loyalty.evaluate_tiers(dt.date(2028, 1, 1)) == {}  # below threshold: grace starts
    assert HubMember.get_by_id("m-1").tier_grace_until == "2028-01-31"
    assert loyalty.evaluate_tiers(dt.date(2029, 1, 1)) == {"m-1": "normal"}


def test_erasure_keeps_the_ledger_and_frees_the_phone(hub_db, tmp_path: Path, signed_in) -> None:  # type: ignore[no-untyped-def]

    from hub.web.app import create_app

    def first(terminal: Terminal) -> None:
        members.register_member(KEY, terminal, NOW, PHONE, CONSENT, member_id="m-1", name="张三")
        members.link_card(terminal, NOW, "m-1", "04A1")
        grant(terminal, "m-1", 100)

    ingest("K01", on_terminal(tmp_path, "K01", first))
    erased = signed_in(create_app(TZ)).post("/api/v1/members/m-1/erase").json()
    assert erased == {"member_id": "m-1", "erased": True, "balances": {POINTS: 100}}
    member = HubMember.get_by_id("m-1")
    assert (member.phone_enc, member.name_enc, member.phone_index) == ("", "", "erased:m-1")
    assert HubCard.select().count() == 0

    def again(terminal: Terminal) -> None:
        members.register_member(KEY, terminal, NOW, PHONE, CONSENT, member_id="m-2")

    ingest("K02", on_terminal(tmp_path, "K02", again))
    assert HubMember.get_by_id("m-2").merged_into is None


def test_malformed_member_events_are_quarantined_not_fatal(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from hub.ingest.models import Quarantine
    from kiosk.sync.schema import GENESIS, make_event

    def card_without_uid(seq: int, prev: str) -> dict[str, Any]:
        return make_event(
            event_id=f"bad-{seq}",
            device="K01",
            seq=seq,
            boot="b",
            ts=NOW.isoformat(),
            type="card.linked",
            prev=prev,
            data={"member_id": "m-1"},
        )

    bad = card_without_uid(1, GENESIS)
    result = ingest("K01", [bad])
    assert result.rejected == [{"id": "bad-1", "reason": "card.linked data is malformed: KeyError('uid')"}]
    assert Quarantine.select().count() == 1


def test_a_negative_balance_is_one_item_that_tracks_the_amount(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    def overdraw(terminal: Terminal) -> None:
        members.register_member(KEY, terminal, NOW, PHONE, CONSENT, member_id="m-1")
        stamp = members.new_stamp(terminal, NOW)
        for amount in (-100, -50):
            entry = stamp.entry(member_id="m-1", account=POINTS, kind=Kind.ADJUST, amount=amount)
            members.adjust(terminal, NOW, [entry], "correction")

    ingest("K01", on_terminal(tmp_path, "K01", overdraw))
    items = [(i["kind"], i["got"], i["detail"]) for i in loyalty.open_items()]
    assert items == [("negative_balance", -150, "points balance is -150")]


def receive_member(member_id: str, device: str) -> None:
    """The terminal ``device`` takes the hub's state of ``member_id`` as a snapshot page would carry it."""
    hub_copy.apply_snapshot_page(member_feed.member_states([HubMember.get_by_id(member_id)], device))


def test_member_of_another_store_spends_there_without_double_counting(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ingest("K01", on_terminal(tmp_path, "K01", shop_day))
    hub_before = loyalty.member_balances("m-1")
    assert hub_before == {BONUS: 1000, POINTS: 4060, PRINCIPAL: 8000}
    seen: dict[str, dict[str, int]] = {}

    def second_store(terminal: Terminal) -> None:
        receive_member("m-1", "K02")
        assert members.find_by_card("none") is None
        seen["before"] = members.member_balances("m-1")
        sell(terminal, "s-2", 500, Split(0, 0), use_coupon=False)  # 9500 earns 95
        seen["after"] = members.member_balances("m-1")

    ingest("K02", on_terminal(tmp_path, "K02", second_store))
    assert seen["before"] == hub_before
    assert seen["after"] == {BONUS: 1000, POINTS: 4060 - 500 + 95, PRINCIPAL: 8000}
    assert loyalty.member_balances("m-1") == seen["after"]

    def next_sync(terminal: Terminal) -> None:
        receive_member("m-1", "K02")
        seen["resynced"] = members.member_balances("m-1")

    on_terminal(tmp_path, "K02", next_sync)
    assert seen["resynced"] == seen["after"]
    assert loyalty.open_items() == []


def test_points_that_paid_more_than_they_are_worth_are_reported(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    def generous(terminal: Terminal) -> None:
        members.register_member(KEY, terminal, NOW, PHONE, CONSENT, member_id="m-1")
        grant(terminal, "m-1", 5000)
        priced = price_cart(Cart().add(RICE), (), NOW, "m-1")
        paid = MemberPayment(points=500, points_fen=1000)  # 500 points are worth 500 fen
        stamp = members.new_stamp(terminal, NOW)
        earned, entries = sale_ledger(
            "m-1", "s-1", priced, paid, LoyaltyRules(), EarnContext(day=NOW.date()), stamp
        )
        sale = members.MemberSale("m-1", "s-1", priced, tuple(entries), earned.points)
        pays = [PaymentIntent("points", 1000), PaymentIntent("cash", 4000)]
        commit_sale(Cart().add(RICE), pays, terminal, NOW, "s-1", member=sale)

    ingest("K01", on_terminal(tmp_path, "K01", generous))
    [item] = loyalty.open_items()
    assert (item["kind"], item["expected"], item["got"], item["detail"]) == (
        "redeem_mismatch",
        500,
        1000,
        "500 points paid 1000 fen",
    )


def test_pin_change_reaches_the_hub_as_a_hash(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from kiosk.store.pii import verify_pin

    def pin(terminal: Terminal) -> None:
        members.register_member(KEY, terminal, NOW, PHONE, CONSENT, member_id="m-1")
        members.set_pin(terminal, NOW, "m-1", "2580")

    ingest("K01", on_terminal(tmp_path, "K01", pin))
    stored = HubMember.get_by_id("m-1").pin_hash
    assert verify_pin("2580", stored) and not verify_pin("0000", stored)


def test_terminal_refunds_book_money_ledger_and_coupon_at_the_hub(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from hub.ingest.models import Refund
    from hub.members.models import CouponUse
    from hub.reports import queries as reports
    from kiosk.domain.refunds import Pick
    from kiosk.store import refunds

    def day(terminal: Terminal) -> None:
        shop_day(terminal)
        refunds.refund_sale("s-1", [Pick(1, 1)], terminal, NOW, "attendant-1", "r-1", "damaged")

    result = ingest("K01", on_terminal(tmp_path, "K01", day))
    assert result.rejected == []
    assert CouponUse.select().count() == 1
    assert [(r.id, r.amount_fen, r.day) for r in Refund.select()] == [("r-1", 4000, "2026-11-24")]

    def rest(terminal: Terminal) -> None:
        refunds.refund_sale("s-1", [Pick(1, 1)], terminal, NOW, "attendant-1", "r-2", "damaged")

    assert ingest("K01", on_terminal(tmp_path, "K01", rest)).rejected == []
    assert loyalty.member_balances("m-1") == {POINTS: 5000, PRINCIPAL: 10000, BONUS: 2000}
    assert CouponUse.select().count() == 0
    assert loyalty.open_items() == []
    assert reports.refund_totals("2026-11-24", "2026-11-24") == reports.RefundTotals(2, 8000)
