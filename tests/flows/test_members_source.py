"""StoreMemberSource: the member panel and member payments on the real store."""

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from kiosk.domain.cart import Cart, Product
from kiosk.domain.loyalty import BONUS, POINTS, PRINCIPAL, Kind, LoyaltyError, OfflineSpend, verify_chain
from kiosk.domain.loyalty.rules import ExpiryRule, RiskCap
from kiosk.domain.member_choices import CouponState, MemberDraw, MemberOptions, PointsDraw
from kiosk.flows.members_source import (
    DEMO_TIER_NAMES_EN,
    MemberTender,
    NeedsAttendant,
    StoreMemberSource,
    demo_rules,
    seed_demo_member,
)
from kiosk.store import members
from kiosk.store.models import Outbox, Payment
from kiosk.store.pii import PiiKey
from kiosk.store.sales import PaymentIntent, Terminal, commit_sale

NOW = dt.datetime(2026, 11, 24, 15, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
TERMINAL = Terminal(store="S01", device="K01", boot="boot-1")
KEY = PiiKey(bytes(range(32)))
RICE = Product("rice", "6900000000011", "大米", "Rice", 2000, "food")


@pytest.fixture
def source(kiosk_db) -> StoreMemberSource:  # type: ignore[no-untyped-def]
    rules = demo_rules()
    seed_demo_member(KEY, TERMINAL, NOW, rules)
    return StoreMemberSource(KEY, TERMINAL, lambda: NOW, rules, tier_names_en=DEMO_TIER_NAMES_EN)


def test_card_and_qr_find_the_seeded_member_masked_with_balances(source: StoreMemberSource) -> None:
    view = source.find_by_card("0012345678")
    assert view is not None
    assert (view.name_masked, view.phone_masked, view.points, view.stored_value_fen) == (
        "张*",
        "138****8000",
        1280,
        5000,
    )
    assert (view.tier, view.next_tier, view.points_to_next_tier) == (
        {"zh": "金卡会员", "en": "Gold member"},
        {"zh": "铂金卡", "en": "Platinum"},
        720,
    )
    assert view.coupons == ({"zh": "满30减5", "en": "¥5.00 off over ¥30.00"},)
    assert source.find_by_qr(f"member:{view.member_id}") == view
    assert source.find_by_card("9999999999") is None
    assert source.find_by_qr("member:nobody") is None


def test_seeding_twice_keeps_one_member_and_one_set_of_balances(source: StoreMemberSource) -> None:
    again = seed_demo_member(KEY, TERMINAL, NOW, source.rules)
    assert members.member_balances(again.id) == {POINTS: 1280, PRINCIPAL: 5000}


def test_stored_value_payment_writes_ledger_and_coupon_with_the_sale(source: StoreMemberSource) -> None:
    view = source.find_by_card("0012345678")
    assert view is not None
    cart = Cart().add(RICE, 2)  # ¥40, 满30减5 -> ¥35
    assert source.savings_fen(view, cart) == 500
    tender = source.member_tender(view, 3500, 3500, [], MemberDraw.STORED_VALUE)
    assert tender == MemberTender(stored_value_fen=3500)
    addon = source.sale_addon(view, cart, tender.payments(), "s-1")
    commit_sale(cart, tender.payments(), TERMINAL, NOW, "s-1", member=addon)
    assert [(p.method, p.amount_fen) for p in Payment.select()] == [("stored_value", 3500)]
    assert members.member_balances(view.member_id) == {POINTS: 1280 + 35, PRINCIPAL: 1500}
    data = json.loads(Outbox.select().order_by(Outbox.seq.desc()).get().body)["data"]
    assert [(e["account"], e["kind"], e["amount"]) for e in data["ledger"]] == [
        (PRINCIPAL, "spend", -3500),
        (POINTS, "earn", 35),
    ]
    assert source.find_by_card("0012345678").coupons == ()  # type: ignore[union-attr]
    assert verify_chain(members.ledger_entries()) == []
    assert source.savings_fen(view, cart) == 0  # the used coupon is no longer in the price


def test_the_same_cart_is_priced_once_and_a_new_cart_again(source: StoreMemberSource) -> None:
    view = source.find_by_card("0012345678")
    assert view is not None
    cart = Cart().add(RICE, 2)
    first = source.priced(view, cart)
    assert source.priced(view, Cart().add(RICE, 2)) is first  # an equal cart: the same answer
    assert source.priced(view, cart.add(RICE, 1)) is not first
    assert source.priced(view, cart.add(RICE, 1)).discount_fen == 500
    kept = source.priced(view, cart, frozenset({"demo-coupon-0001"}))
    assert (kept.discount_fen, kept.coupon_ids) == (0, ())


def test_points_cover_what_stored_value_cannot_within_the_redeem_share(source: StoreMemberSource) -> None:
    view = source.find_by_card("0012345678")
    assert view is not None
    stored = source.member_tender(view, 6000, 6000, [], MemberDraw.STORED_VALUE)
    assert stored == MemberTender(stored_value_fen=5000)
    # then points: at most half of ¥60 = ¥30, but only ¥10 is left to pay
    points = source.member_tender(view, 1000, 6000, stored.payments(), MemberDraw.POINTS)
    assert points == MemberTender(points=1000, points_fen=1000)
    with pytest.raises(LoyaltyError):
        source.member_tender(view, 1000, 6000, stored.payments(), MemberDraw.STORED_VALUE)


def test_above_the_offline_cap_needs_an_attendant(source: StoreMemberSource) -> None:
    source.rules = source.rules.model_copy(
        update={"risk": RiskCap(offline_points=0, offline_stored_value_fen=2000)}
    )
    view = source.find_by_card("0012345678")
    assert view is not None
    with pytest.raises(NeedsAttendant, match="stored value 3000 fen > 2000 fen") as refused:
        source.member_tender(view, 3000, 3000, [], MemberDraw.STORED_VALUE)
    assert refused.value.asked == OfflineSpend(points=0, stored_value_fen=3000)
    assert members.member_balances(view.member_id)[PRINCIPAL] == 5000
    assert BONUS not in members.member_balances(view.member_id)


def test_the_greeting_is_happy_birthday_in_the_birthday_month_welcome_on_a_first_purchase_else_welcome_back(
    source: StoreMemberSource,
) -> None:
    consent = members.Consent(version="test", where="S01/K01")
    born_in_november = dt.date(1990, 11, 3)
    birthday = members.register_member(
        KEY, TERMINAL, NOW, "13900139000", consent, name="李雷", birthday=born_in_november
    ).member
    newcomer = members.register_member(
        KEY, TERMINAL, NOW, "13700137000", consent, name="韩梅梅", birthday=dt.date(1992, 12, 1)
    ).member
    assert source.find_by_qr(f"member:{birthday.id}").greeting == {  # type: ignore[union-attr]
        "zh": "李*，生日快乐！本月消费享生日礼遇",
        "en": "Happy birthday, 李*!",
    }
    assert source.find_by_qr(f"member:{newcomer.id}").greeting == {  # type: ignore[union-attr]
        "zh": "韩**，欢迎加入！",
        "en": "Welcome, 韩**!",
    }
    view = source.find_by_qr(f"member:{newcomer.id}")
    assert view is not None
    cart = Cart().add(RICE, 1)
    addon = source.sale_addon(view, cart, [], "s-first")
    commit_sale(cart, [PaymentIntent("cash", 2000)], TERMINAL, NOW, "s-first", member=addon)
    assert source.find_by_qr(f"member:{newcomer.id}").greeting == {  # type: ignore[union-attr]
        "zh": "韩**，欢迎回来！",
        "en": "Welcome back, 韩**!",
    }
    assert source.find_by_card("0012345678").greeting == {  # type: ignore[union-attr]
        "zh": "张*，欢迎回来！",  # the demo member has points and stored value: not new
        "en": "Welcome back, 张*!",
    }
    december = StoreMemberSource(KEY, TERMINAL, lambda: NOW.replace(month=12), source.rules)
    assert december.find_by_qr(f"member:{birthday.id}").greeting["en"] == "Welcome, 李*!"  # type: ignore[union-attr]


def test_an_attendant_override_lets_the_payment_through_with_its_audit_detail(
    source: StoreMemberSource,
) -> None:
    source.rules = source.rules.model_copy(
        update={"risk": RiskCap(offline_points=0, offline_stored_value_fen=2000)}
    )
    view = source.find_by_card("0012345678")
    assert view is not None
    tender = source.member_tender(view, 3000, 3000, [], MemberDraw.STORED_VALUE, override_by="attendant-1")
    assert (tender.stored_value_fen, tender.points, tender.points_fen) == (3000, 0, 0)
    assert tender.override == {
        "reason": "offline cap exceeded: stored value 3000 fen > 2000 fen",
        "points": 0,
        "stored_value_fen": 3000,
        "cap_points": 0,
        "cap_stored_value_fen": 2000,
    }


def test_a_top_up_books_the_bonus_tier_and_returns_the_new_balance(source: StoreMemberSource) -> None:
    view = source.find_by_card("0012345678")
    assert view is not None
    assert [(t.min_fen, t.bonus_fen) for t in source.bonus_tiers()] == [(10000, 2000), (20000, 5000)]
    split, after = source.top_up(view, 25000, "attendant-1")
    assert (split.principal, split.bonus) == (25000, 5000)
    assert after.stored_value_fen == 5000 + 25000 + 5000
    held = members.member_balances(view.member_id)
    assert (held[PRINCIPAL], held[BONUS]) == (30000, 5000)


def test_points_expiring_within_the_reminder_window_show_one_line_oldest_lot_first(
    source: StoreMemberSource,
) -> None:
    consent = members.Consent(version="test", where="S01/K01")
    member = members.register_member(KEY, TERMINAL, NOW, "13600136000", consent, name="王五").member

    def points(on: dt.datetime, amount: int) -> None:
        entry = members.new_stamp(TERMINAL, on).entry(
            member_id=member.id, account=POINTS, kind=Kind.ADJUST, amount=amount
        )
        members.adjust(TERMINAL, on, [entry], "test points")

    points(NOW.replace(year=2025, month=12, day=24), 400)  # expires 2026-12-24: day 30 from NOW
    points(NOW.replace(year=2025, month=12, day=25), 500)  # expires 2026-12-25: day 31 from NOW
    points(NOW.replace(month=1, day=10), -100)  # spends the oldest lot first: 300 of it left
    expiring = source.rules.model_copy(update={"expiry": ExpiryRule(months=12, remind_days=30)})

    def notice(now: dt.datetime) -> dict[str, str]:
        view = StoreMemberSource(KEY, TERMINAL, lambda: now, expiring).find_by_qr(f"member:{member.id}")
        assert view is not None
        return view.expiry_notice

    first_lot = {
        "zh": "300 积分将于 12月24日 过期，本单可用积分抵扣",
        "en": "300 points expire on 24 Dec — use them today",
    }
    assert notice(NOW) == first_lot  # day 30 is in, the second lot on day 31 is not
    assert notice(NOW + dt.timedelta(days=1)) == first_lot  # both in: the oldest date is the one shown
    assert notice(NOW - dt.timedelta(days=1)) == {}  # day 31: too early to remind
    assert notice(NOW.replace(month=12, day=24)) == {  # the first lot has expired: the second is next
        "zh": "500 积分将于 12月25日 过期，本单可用积分抵扣",
        "en": "500 points expire on 25 Dec — use them today",
    }
    assert source.find_by_qr(f"member:{member.id}").expiry_notice == {}  # type: ignore[union-attr]  # no expiry rule


def test_the_pay_buttons_offer_the_balance_and_the_points_within_the_redeem_share(
    source: StoreMemberSource,
) -> None:
    view = source.find_by_card("0012345678")
    assert view is not None
    # ¥35 due: half is ¥17.50, more than the 1280 points are worth
    assert source.member_options(view, 3500, 3500, []) == MemberOptions(
        stored_value_fen=5000,
        stored_value_pay_fen=3500,
        stored_value_reason="",
        points_left=1280,
        points=PointsDraw(points=1280, fen=1280),
        share_percent=50,
        points_most=1280,
        points_left_to_pay_fen=2220,
    )
    # ¥20 due: the share (¥10) is what limits the points
    assert source.member_options(view, 2000, 2000, []).points == PointsDraw(1000, 1000, share_capped=True)
    taken = [PaymentIntent("points", 1000, "points:1000")]
    after = source.member_options(view, 1000, 2000, taken)
    assert (after.points_left, after.points) == (
        280,
        PointsDraw(reason="points_share_used", values={"percent": 50}),
    )
    spent = [PaymentIntent("stored_value", 5000, "member")]
    assert source.member_options(view, 1000, 6000, spent).stored_value_reason == "stored_value_none"
    strict = source.rules.model_copy(
        update={"redeem": source.rules.redeem.model_copy(update={"min_points": 2000})}
    )
    source.rules = strict
    assert source.member_options(view, 3500, 3500, []).points == PointsDraw(
        reason="points_too_few", values={"least": 2000}
    )


def test_points_first_then_stored_value_write_the_same_ledger_entries_as_before(
    source: StoreMemberSource,
) -> None:
    view = source.find_by_card("0012345678")
    assert view is not None
    cart = Cart().add(RICE, 2)  # ¥40, 满30减5 -> ¥35
    points = source.member_tender(view, 3500, 3500, [], MemberDraw.POINTS)
    assert points == MemberTender(points=1280, points_fen=1280)
    stored = source.member_tender(view, 3500 - 1280, 3500, points.payments(), MemberDraw.STORED_VALUE)
    assert stored == MemberTender(stored_value_fen=2220)
    tenders = [*points.payments(), *stored.payments()]
    addon = source.sale_addon(view, cart, tenders, "s-2")
    commit_sale(cart, tenders, TERMINAL, NOW, "s-2", member=addon)
    assert [(p.method, p.amount_fen, p.reference) for p in Payment.select()] == [
        ("points", 1280, "points:1280"),
        ("stored_value", 2220, "member"),
    ]
    data = json.loads(Outbox.select().order_by(Outbox.seq.desc()).get().body)["data"]
    assert [(e["account"], e["kind"], e["amount"]) for e in data["ledger"]] == [
        (POINTS, "redeem", -1280),
        (PRINCIPAL, "spend", -2220),
        (POINTS, "earn", 22),  # the ¥22.20 paid with stored value principal earns; points do not
    ]
    assert members.member_balances(view.member_id) == {POINTS: 22, PRINCIPAL: 2780}


def test_points_above_the_offline_cap_need_an_attendant_and_carry_the_override(
    source: StoreMemberSource,
) -> None:
    source.rules = source.rules.model_copy(
        update={"risk": RiskCap(offline_points=500, offline_stored_value_fen=100000)}
    )
    view = source.find_by_card("0012345678")
    assert view is not None
    with pytest.raises(NeedsAttendant, match="points 1280 > 500") as refused:
        source.member_tender(view, 3500, 3500, [], MemberDraw.POINTS)
    assert refused.value.asked == OfflineSpend(points=1280, stored_value_fen=0)
    assert source.member_tender(view, 3500, 3500, [], MemberDraw.STORED_VALUE).stored_value_fen == 3500
    tender = source.member_tender(view, 3500, 3500, [], MemberDraw.POINTS, override_by="attendant-1")
    assert tender.override == {
        "reason": "offline cap exceeded: points 1280 > 500",
        "points": 1280,
        "stored_value_fen": 0,
        "cap_points": 500,
        "cap_stored_value_fen": 100000,
    }


def test_a_coupon_the_shopper_keeps_for_later_is_left_out_of_price_earn_and_sale(
    source: StoreMemberSource,
) -> None:
    view = source.find_by_card("0012345678")
    assert view is not None
    cart = Cart().add(RICE, 2)  # ¥40
    (used,) = source.coupon_choices(view, cart)
    assert (used.coupon_id, used.name, used.state, used.off_fen) == (
        "demo-coupon-0001", {"zh": "满30减5", "en": "¥5.00 off over ¥30.00"}, CouponState.USED, 500,
    )  # fmt: skip
    kept = frozenset({"demo-coupon-0001"})
    assert [c.state for c in source.coupon_choices(view, cart, kept)] == [CouponState.KEPT]
    assert source.savings_fen(view, cart, kept) == 0
    assert [c.state for c in source.coupon_choices(view, Cart().add(RICE, 1))] == [CouponState.NOT_HERE]
    addon = source.sale_addon(view, cart, [], "s-3", kept)
    assert (addon.priced.coupon_ids, addon.priced.total_fen, addon.earned_points) == ((), 4000, 40)
    commit_sale(cart, [PaymentIntent("cash", 4000)], TERMINAL, NOW, "s-3", member=addon)
    data = json.loads(Outbox.select().order_by(Outbox.seq.desc()).get().body)["data"]
    assert (data["total_fen"], data.get("coupons", [])) == (4000, [])
    assert source.find_by_card("0012345678").coupons == ({"zh": "满30减5", "en": "¥5.00 off over ¥30.00"},)  # type: ignore[union-attr]


def test_the_chosen_points_are_what_the_tender_redeems(source: StoreMemberSource) -> None:
    view = source.find_by_card("0012345678")
    assert view is not None
    tender = source.member_tender(view, 3500, 3500, [], MemberDraw.POINTS, wanted_points=700)
    assert (tender.points, tender.points_fen, tender.payments()[0].reference) == (700, 700, "points:700")
    with pytest.raises(LoyaltyError):
        source.member_tender(view, 3500, 3500, [], MemberDraw.POINTS, wanted_points=0)
