"""Automatic behaviour tags: sales from a real terminal through the real ingest, rules added on the
members page, applied by the ``behaviour_tags`` job day by day (given, then taken away), and the
tag one click from a campaign. SQLite and PostgreSQL."""

import datetime as dt
import html
import re
from pathlib import Path

from hub.catalog.models import CatalogProduct
from hub.ingest.batch import ingest_batch
from hub.jobs import catalog, runner
from hub.members import attributes as member_attributes
from hub.members import ledger as loyalty
from hub.members import tag_rules
from hub.web.app import create_app
from kiosk.domain.cart import Cart, Product
from kiosk.domain.loyalty import EarnContext, LoyaltyRules, MemberPayment, price_cart, sale_ledger
from kiosk.store import members
from kiosk.store.sales import PaymentIntent, Terminal, commit_sale
from kiosk.sync.schema import batch
from tests.hub.members.test_loyalty import CONSENT, KEY, TZ, on_terminal

DIAPERS = Product("diapers", "6900000000101", "纸尿裤", "Diapers", 9900, "baby")
WIPES = Product("wipes", "6900000000102", "湿巾", "Wipes", 1500, "baby")
BEER = Product("beer", "6900000000103", "啤酒", "Beer", 800, "drinks")
DAY = dt.datetime(2026, 11, 30, 10, 0, tzinfo=TZ)
RULES = LoyaltyRules()


def sell(terminal: Terminal, member_id: str, sale_id: str, when: dt.datetime, *products: Product) -> None:
    """One member sale of ``products`` (one of each), paid in cash."""
    cart = Cart()
    for product in products:
        cart = cart.add(product, 1)
    priced = price_cart(cart, (), when, member_id)
    stamp = members.new_stamp(terminal, when)
    earned, entries = sale_ledger(
        member_id, sale_id, priced, MemberPayment(), RULES, EarnContext(day=when.date()), stamp
    )
    sale = members.MemberSale(member_id, sale_id, priced, tuple(entries), earned.points)
    commit_sale(cart, [PaymentIntent("cash", priced.total_fen)], terminal, when, sale_id, member=sale)


def shop(terminal: Terminal) -> None:
    """m-mum buys baby things three times (30 Sep, 10 Nov, 25 Nov; two in one sale once),
    m-dad once, m-beer only beer."""
    for n, member_id in enumerate(("m-mum", "m-dad", "m-beer")):
        members.register_member(KEY, terminal, DAY - dt.timedelta(days=90), f"1380000000{n}", CONSENT,
                                member_id=member_id)  # fmt: skip
    at = [dt.datetime(2026, m, d, 11, tzinfo=TZ) for m, d in ((9, 30), (11, 10), (11, 25))]
    sell(terminal, "m-mum", "s1", at[0], DIAPERS)
    sell(terminal, "m-mum", "s2", at[1], DIAPERS, WIPES)  # one sale: one time, not two
    sell(terminal, "m-mum", "s3", at[2], WIPES, BEER)
    sell(terminal, "m-dad", "s4", at[2], DIAPERS)
    sell(terminal, "m-beer", "s5", at[2], BEER)


def test_a_rule_tags_members_daily_and_takes_the_tag_away(hub_db, tmp_path: Path, signed_in) -> None:  # type: ignore[no-untyped-def]
    loyalty.configure(RULES, KEY)
    try:
        events = on_terminal(tmp_path, "K01", shop)
        ingest_batch("pos/K01/up/events", batch("K01", events), DAY, TZ)
        for product in (DIAPERS, WIPES, BEER):
            CatalogProduct.create(sku=product.sku, name_zh=product.name_zh, price_fen=product.price_fen,
                                  category=product.category)  # fmt: skip
        client = signed_in(create_app(TZ, today=lambda: DAY.date()))
        bad = client.post("/members/tag-rules", data={"tag": "宝妈", "scope": "category", "value": "baby",
                                                       "times": "0", "days": "999"})  # fmt: skip
        assert bad.status_code == 422
        assert re.findall(r"<li>([^<]*)</li>", bad.text.split('id="rule-problems"')[1])[:2] == [
            "次数请填写 1 到 100 的整数。", "天数请填写 1 到 730 的整数。",
        ]  # fmt: skip
        assert tag_rules.rules() == []
        rule = {"tag": "宝妈", "scope": "category", "value": "baby", "times": "2", "days": "30"}
        added = client.post("/members/tag-rules", data=rule, follow_redirects=False)
        assert (added.status_code, added.headers["location"]) == (303, "/members?#tag-rules")
        # 1 Nov .. 30 Nov: m-mum's s2 and s3 (2 times); m-dad 1 time; m-beer none
        assert member_attributes.member_tags("m-mum") == ["宝妈"]
        assert member_attributes.member_tags("m-dad") == []
        page = client.get("/members?lang=en").text
        row = html.unescape(page.split('<tr id="tag-rule-')[1].split("</tr>")[0])
        assert "bought category “baby” at least 2 times in 30 days" in row and "tagged: 1" in row
        assert 'href="/campaigns?target=tag&tag=%E5%AE%9D%E5%A6%88&lang=en"' in row  # one click
        found = client.get("/members?tag=宝妈").text
        assert re.findall(r'<tr id="member-([^"]+)"', found) == ["m-mum"]
        form = client.get("/campaigns?target=tag&tag=宝妈").text
        assert 'value="宝妈"' in form
        # a product rule gives its own tag; 24 December: m-mum's sales are older than 30 days
        with hub_db.atomic():
            spec = tag_rules.TagRuleSpec(tag="啤酒客", scope="product", value="beer", times=1, days=30)
            tag_rules.add_rule(spec, "owner", DAY)
        due = catalog.job_named("behaviour_tags")
        first = runner.run_job(due, runner.JobContext(DAY.replace(hour=8, minute=5), TZ))
        assert first.result is not None and first.result.figures == {"rules": 2, "added": 2, "removed": 0}
        assert [member_attributes.member_tags(m) for m in ("m-mum", "m-dad", "m-beer")] == [
            ["啤酒客", "宝妈"], [], ["啤酒客"],
        ]  # fmt: skip
        later = runner.run_job(due, runner.JobContext(dt.datetime(2026, 12, 26, 8, 5, tzinfo=TZ), TZ))
        # 27 Nov .. 26 Dec: 宝妈 leaves m-mum (no baby sale), 啤酒客 leaves m-mum and m-beer (25 Nov)
        assert later.result is not None and later.result.figures == {"rules": 2, "added": 0, "removed": 3}
        assert [member_attributes.member_tags(m) for m in ("m-mum", "m-dad", "m-beer")] == [[], [], []]
        rule_id = next(r.id for r in tag_rules.rules() if r.tag == "啤酒客")
        with hub_db.atomic():
            member_attributes.set_tags("m-beer", ["啤酒客"], "owner", DAY)
        gone = client.post(f"/members/tag-rules/{rule_id}/delete", follow_redirects=False)
        assert gone.status_code == 303 and member_attributes.member_tags("m-beer") == []  # the rule owned it
        assert client.post("/members/tag-rules/999/delete").status_code == 404
    finally:
        loyalty.configure(LoyaltyRules(), None)
