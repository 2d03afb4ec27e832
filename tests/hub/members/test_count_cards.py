"""A count card (次卡) sold by an attendant at a terminal and used by taps: the sale, the card and each
visit leave the terminal in their own transaction with their events, and the hub books the sale and
the visits left. Real terminal databases, real hub database (SQLite and PostgreSQL)."""

import datetime as dt
import re
from pathlib import Path

import pytest

from hub.ingest.models import Sale, SaleLine
from hub.members import ledger as loyalty
from hub.reports.summary import SalesPaymentDay
from hub.web.app import create_app
from hub.web.members import count_card_rows
from kiosk.domain.cart import Cart, Product
from kiosk.domain.loyalty import InsufficientBalance, LoyaltyError
from kiosk.domain.loyalty.ledger import count_account
from kiosk.domain.loyalty.rules import CountCardKind, LoyaltyRules
from kiosk.domain.refunds import Pick, RefundRefused
from kiosk.flows.members_source import StoreMemberSource
from kiosk.i18n import ntr
from kiosk.store import members, outbox, refunds
from kiosk.store.member_models import CountCardRow, Member
from kiosk.store.sales import PaymentIntent, PaymentMismatch, Terminal, commit_sale
from tests.hub.members.test_loyalty import CONSENT, KEY, NOW, PHONE, TZ, hub_rules, ingest, on_terminal

__all__ = ["hub_rules"]

WASH = CountCardKind(sku="wash3", name_zh="洗车3次卡", name_en="Car wash × 3", visits=3, price_fen=9900,
                     valid_months=6, services=("wash",))  # fmt: skip


def test_rules_keep_count_card_kinds_with_unique_skus() -> None:
    rules = LoyaltyRules(count_cards=(WASH,))
    assert rules.count_cards[0].price_fen == 9900
    with pytest.raises(ValueError, match="count card skus must be unique"):
        LoyaltyRules(count_cards=(WASH, WASH))
    plain = CountCardKind(sku="x", name_zh="x", visits=1, price_fen=1)
    assert members.count_card_product(plain).service_skus == {"x"}
    values = {"name": "W", "price": "¥1.00", "months": 1}
    shown = {(n, lang): ntr("count_card_kind", "count_card_kind_plural", n, lang, **values)
             for n in (1, 2) for lang in ("zh", "en")}  # fmt: skip
    assert shown == {
        (1, "zh"): "W\u00a0·\u00a01\u00a0次\u00a0·\u00a0¥1.00（1\u00a0个月有效）",
        (2, "zh"): "W\u00a0·\u00a02\u00a0次\u00a0·\u00a0¥1.00（1\u00a0个月有效）",
        (1, "en"): "W · 1 visit · ¥1.00 (valid 1 mo.)",
        (2, "en"): "W · 2 visits · ¥1.00 (valid 1 mo.)",
    }
    days = {lang: ntr("count_card_kind_days", "count_card_kind_days_plural", 5, lang, **values, days=90)
            for lang in ("zh", "en")}  # fmt: skip
    assert days == {
        "zh": "W\u00a0·\u00a05\u00a0次\u00a0·\u00a0¥1.00（90\u00a0天有效）",
        "en": "W · 5 visits · ¥1.00 (valid 90 days)",
    }


def test_a_sold_card_and_two_visits_reach_the_hub_with_one_visit_left(
    hub_db, tmp_path: Path, signed_in
) -> None:  # type: ignore[no-untyped-def]
    seen: dict[str, object] = {}

    def work(terminal: Terminal) -> None:
        members.register_member(KEY, terminal, NOW, PHONE, CONSENT, member_id="m-1")
        before = len(outbox.pending(limit=1000))
        sale, card = members.sell_count_card_sale(
            terminal, NOW, "m-1", WASH, [PaymentIntent("cash", 9900)], "s-wang"
        )
        sold = outbox.pending(limit=1000)[before:]
        seen["sold_types"] = [e["type"] for e in sold]
        seen["card"] = card
        seen["sale_id"] = sale.id
        assert card.expires_on == dt.date(2027, 5, 23)
        later = NOW + dt.timedelta(days=1)
        assert members.use_count_card(terminal, later, card.id, "wash") == 2
        assert members.use_count_card(terminal, later, card.id, "wash") == 1
        with pytest.raises(InsufficientBalance):
            members.use_count_card(terminal, later, card.id, "polish")  # not a service this card covers
        assert [(h.card.id, h.visits_left) for h in members.count_cards("m-1")] == [(card.id, 1)]
        # a wrong payment keeps nothing: no sale, no card
        with pytest.raises(PaymentMismatch):
            members.sell_count_card_sale(terminal, NOW, "m-1", WASH, [PaymentIntent("cash", 100)], "s-wang")
        assert CountCardRow.select().count() == 1

    events = on_terminal(tmp_path, "K01", work)
    assert seen["sold_types"] == ["sale.completed", "audit.action", "ledger.adjusted"]
    card = seen["card"]
    ingest("K01", events)
    booked = Sale.get_by_id(seen["sale_id"])
    assert booked.total_fen == 9900
    lines = SaleLine.select().where(SaleLine.sale == booked)
    assert [(ln.sku, ln.name_zh, ln.total_fen) for ln in lines] == [("wash3", "洗车3次卡", 9900)]
    assert loyalty.member_balances("m-1")[count_account(card.id)] == 1  # type: ignore[attr-defined]
    assert loyalty.open_items() == []
    balances = loyalty.member_balances("m-1")
    account = count_account(card.id)  # type: ignore[attr-defined]
    assert count_card_rows("m-1", balances, "zh") == [(account, "洗车3次卡", 1)]
    assert count_card_rows("m-1", balances, "en") == [(account, "Car wash × 3", 1)]
    client = signed_in(create_app(TZ, today=lambda: NOW.date()))
    for lang, row in (("zh", "洗车3次卡 {id} 剩余 1 次"), ("en", "Car wash × 3 {id} 1 visit left")):
        page = client.get(f"/members/m-1?lang={lang}").text
        table = re.search(r'<table id="count-cards">(.*?)</table>', page, re.S)
        assert table is not None
        shown = " ".join(re.sub(r"<[^>]+>", " ", table.group(1)).split())
        assert shown == row.format(id=card.id[:8])  # type: ignore[attr-defined]


WASH_LINE = Product("wash", "6900000000097", "精洗", "Car wash", 3000, "service")
SOAP = Product("soap", "6900000000103", "洗车液", "Car soap", 1500, "goods")


def test_a_visit_pays_a_covered_line_in_the_sale_and_the_hub_books_it_once(
    hub_db, tmp_path: Path, signed_in
) -> None:  # type: ignore[no-untyped-def]
    seen: dict[str, object] = {}

    def work(terminal: Terminal) -> None:
        members.register_member(KEY, terminal, NOW, PHONE, CONSENT, member_id="m-1")
        _, card = members.sell_count_card_sale(terminal, NOW, "m-1", WASH, [PaymentIntent("cash", 9900)], "s")
        source = StoreMemberSource(KEY, terminal, lambda: NOW, LoyaltyRules(count_cards=(WASH,)))
        member = source.view(Member.get_by_id("m-1"))
        cart = Cart().add(WASH_LINE, 2).add(SOAP)
        [choice] = source.count_card_choices(member, cart, [])
        assert (choice.card_id, choice.left, choice.sku, choice.fen) == (card.id, 3, "wash", 3000)
        first = source.count_card_tender(member, cart, [], card.id, 6000)
        second = source.count_card_tender(member, cart, [first], card.id, 3000)
        assert (first, second) == (PaymentIntent("count_card", 3000, f"{card.id}:wash"),) * 2
        with pytest.raises(LoyaltyError):  # both washes are paid; the soap is not a service of the card
            source.count_card_tender(member, cart, [first, second], card.id, 1500)
        assert source.count_card_choices(member, cart, [first, second]) == []
        before = len(outbox.pending(limit=1000))
        pays = [first, second, PaymentIntent("cash", 1500)]
        addon = source.sale_addon(member, cart, pays, "s-visit")
        commit_sale(cart, pays, terminal, NOW, "s-visit", member=addon)
        [event] = outbox.pending(limit=1000)[before:]  # the visits travel inside the sale's own event
        seen["ledger"] = [
            (e["account"], e["kind"], e["amount"], e["action"], e["rule"]) for e in event["data"]["ledger"]
        ]
        seen["card"] = card
        seen["earn_rule"] = next(e.rule for e in addon.entries if e.account == "points")
        assert addon.earned_points == 15  # 1 point a yuan on the ¥15 of soap: visits earn nothing
        assert [(h.card.id, h.visits_left) for h in members.count_cards("m-1")] == [(card.id, 1)]
        with pytest.raises(RefundRefused, match="count card"):
            refunds.plan_refund("s-visit", [Pick(1, 1)])

    events = on_terminal(tmp_path, "K01", work)
    card = seen["card"]
    account = count_account(card.id)  # type: ignore[attr-defined]
    assert seen["ledger"] == [
        (account, "spend", -1, "visit", "wash"),
        (account, "spend", -1, "visit", "wash"),
        ("points", "earn", 15, "sale", seen["earn_rule"]),
    ]
    ingest("K01", events)
    ingest("K01", events)  # sent again: booked once
    assert loyalty.member_balances("m-1")[account] == 1
    assert loyalty.open_items() == []  # the points earned on the soap only: the hub agrees
    paid = SalesPaymentDay.select().where(SalesPaymentDay.method == "count_card")
    assert [(p.payments, p.amount_fen) for p in paid] == [(2, 6000)]


def test_an_unused_card_is_refunded_with_its_visits_voided_a_used_one_is_refused(
    hub_db, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    seen: dict[str, object] = {}

    def work(terminal: Terminal) -> None:
        members.register_member(KEY, terminal, NOW, PHONE, CONSENT, member_id="m-1")
        unused_sale, unused = members.sell_count_card_sale(
            terminal, NOW, "m-1", WASH, [PaymentIntent("cash", 9900)], "s"
        )
        used_sale, used = members.sell_count_card_sale(
            terminal, NOW, "m-1", WASH, [PaymentIntent("cash", 9900)], "s"
        )
        members.use_count_card(terminal, NOW, used.id, "wash")
        with pytest.raises(RefundRefused, match="used"):
            refunds.plan_refund(used_sale.id, [Pick(1, 1)])
        before = len(outbox.pending(limit=1000))
        done = refunds.refund_sale(unused_sale.id, [Pick(1, 1)], terminal, NOW, "s", "r-1", "不想要了")
        assert done.amount_fen == 9900
        sent = outbox.pending(limit=1000)[before:]
        seen["types"] = [e["type"] for e in sent]
        seen["voided"] = [
            (e["account"], e["kind"], e["amount"], e["action"]) for e in sent[0]["data"]["entries"]
        ]
        assert {h.card.id: h.visits_left for h in members.count_cards("m-1")} == {unused.id: 0, used.id: 2}
        with pytest.raises(RefundRefused):  # refunded already: nothing left to give back
            refunds.plan_refund(unused_sale.id, [Pick(1, 1)])
        seen["cards"] = (unused.id, used.id)

    events = on_terminal(tmp_path, "K01", work)
    unused_id, used_id = seen["cards"]  # type: ignore[misc]
    assert seen["types"] == ["ledger.adjusted", "sale.refunded", "audit.action"]
    assert seen["voided"] == [(count_account(unused_id), "adjust", -3, "refund")]
    ingest("K01", events)
    balances = loyalty.member_balances("m-1")
    assert (balances[count_account(unused_id)], balances[count_account(used_id)]) == (0, 2)
    assert loyalty.open_items() == []
