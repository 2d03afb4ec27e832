"""A small, real loyalty story for the reconciliation, campaign and member pages: tests and screenshots.

``python -m hub.devtools.loyalty_story docs/screenshots`` makes member events on real
terminal databases (``kiosk.store``), books them through the real ingest into a
throwaway hub database, runs a campaign, and saves PNGs of the pages in Chinese
and English.
"""

import dataclasses
import datetime as dt
import sys
import tempfile
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hub.campaigns import runs as campaigns
from hub.db.schema import open_hub_database
from hub.devtools import shots as shots_
from hub.devtools.serving import serving
from hub.ingest.batch import ingest_batch
from hub.members import attributes as member_attributes
from hub.members import ledger as loyalty
from hub.members import reconciliation, tag_rules
from hub.web.app import create_app
from kiosk.domain.cart import Cart, Product
from kiosk.domain.loyalty import (
    POINTS,
    Coupon,
    CouponKind,
    EarnContext,
    LoyaltyRules,
    MemberPayment,
    price_cart,
    sale_ledger,
)
from kiosk.domain.loyalty.attributes import AttributeSpec
from kiosk.domain.loyalty.campaigns import CampaignSpec, CouponTemplate, Target
from kiosk.domain.loyalty.rules import EarnRule, ExpiryRule
from kiosk.store import members, open_database, outbox
from kiosk.store.members.ledger import new_stamp
from kiosk.store.pii import PiiKey
from kiosk.store.sales import PaymentIntent, Terminal, commit_sale
from kiosk.sync.schema import batch

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 24, 15, 30, tzinfo=TZ)
KEY = PiiKey(bytes(range(32)))
RICE = Product("rice", "6900000000011", "大米 5kg", "Rice 5 kg", 5000, "food")
ZHANG, LI, WANG = (
    "5f0c2a7e-3b1d-4c8e-9a6f-0d2e4b7c1a93",
    "b83e91d4-7a2c-4f05-8e1b-6c9d3a5f2e70",
    "2d7a4c1f-9e3b-4a68-b5d0-7f1c8e2a4b36",
)
MEMBER_DAY = CampaignSpec(
    name_zh="会员日满100减20",
    name_en="Member day: ¥20 off ¥100",
    coupon=CouponTemplate(
        kind=CouponKind.THRESHOLD,
        name_zh="满100减20",
        name_en="¥20 off ¥100",
        min_spend_fen=10000,
        off_fen=2000,
        valid_from=dt.datetime(2026, 11, 20, tzinfo=TZ),
        valid_until=dt.datetime(2026, 12, 1, tzinfo=TZ),
    ),
    target=Target(kind="all"),
    holdout_percent=0,  # the story's three members all receive: a control group of three is noise
)
WELCOME = CampaignSpec(
    name_zh="新会员9折券",
    name_en="Welcome: 10% off",
    coupon=CouponTemplate(kind=CouponKind.PERCENT, name_zh="新人9折", name_en="10% off", percent_off=10,
                          max_off_fen=3000, valid_days=30),
    target=Target(kind="at_registration"),
    holdout_percent=0,
)  # fmt: skip


def _terminal(work: Path, device: str, act: Callable[[Any], None]) -> list[dict[str, Any]]:
    """Run ``act`` on a real terminal database; return its pending outbox events."""

    db = open_database(work / f"{device}.db")
    try:
        act(Terminal(store="S01", device=device, boot=f"{device}-boot"))
        return outbox.pending(limit=1000)
    finally:
        db.close()


def _book(device: str, events: list[dict[str, Any]]) -> None:
    ingest_batch(f"pos/{device}/up/events", batch(device, events), NOW, TZ)


def _sell(
    terminal: Any,
    sale_id: str,
    member_id: str,
    quantity: int,
    coupon: Coupon | None,
    rules: LoyaltyRules,
    points: int = 0,
) -> None:

    cart = Cart().add(RICE, quantity)
    if coupon is not None:
        members.add_coupon(coupon)
    priced = price_cart(cart, (coupon,) if coupon else (), NOW, member_id)
    stamp = members.new_stamp(terminal, NOW)
    paid = MemberPayment(points=points, points_fen=points)
    earned, entries = sale_ledger(member_id, sale_id, priced, paid, rules, EarnContext(day=NOW.date()), stamp)
    sale = members.MemberSale(member_id, sale_id, priced, tuple(entries), earned.points)
    pays = [PaymentIntent("points", points), PaymentIntent("cash", priced.total_fen - points)]
    commit_sale(cart, [p for p in pays if p.amount_fen], terminal, NOW, sale_id, member=sale)


def seed(work: Path) -> None:
    """Three members, two campaigns, and sales that give the reconciliation page one item of each kind."""

    loyalty.configure(LoyaltyRules(expiry=ExpiryRule(months=12)), KEY)
    campaigns.create_campaign(WELCOME, "owner", NOW - dt.timedelta(days=3), campaign_id="welcome")
    consent = members.Consent(version="privacy-2026-01", where="S01/K01")

    def register(terminal: Any) -> None:
        for member_id, phone, name in ((ZHANG, "13812341234", "张三"), (LI, "13900000002", "李四"),
                                       (WANG, "13700000003", "王五")):  # fmt: skip
            members.register_member(KEY, terminal, NOW - dt.timedelta(days=2), phone, consent, name=name,
                                    member_id=member_id)  # fmt: skip
        stamp = new_stamp(terminal, NOW)
        gift = stamp.entry(member_id=LI, account="points", kind="adjust", amount=3000)
        members.adjust(terminal, NOW, [gift], "welcome gift")
        last_year = dt.datetime(2025, 12, 5, 12, tzinfo=TZ)  # points carried over from the old system
        old = new_stamp(terminal, last_year).entry(member_id=WANG, account=POINTS, kind="adjust", amount=800)
        members.adjust(terminal, last_year, [old], "migration")

    _book("K01", _terminal(work, "K01", register))
    camp = campaigns.create_campaign(
        MEMBER_DAY, "owner", NOW - dt.timedelta(days=1), campaign_id="member-day"
    )
    campaigns.run_campaign(camp, "owner", NOW - dt.timedelta(days=1), TZ)
    coupon_of = {c.member_id: c for c in (campaigns.member_coupons(m)[-1] for m in (ZHANG, LI))}
    stale = dataclasses.replace(coupon_of[ZHANG], min_spend_fen=5000)  # K02 kept an old copy: 满50减20
    double_points = LoyaltyRules(earn=EarnRule(points_per_yuan=2))  # K03 runs last month's rules
    _book("K02", _terminal(work, "K02", lambda t: _sell(t, "s-zhang-1", ZHANG, 1, stale, LoyaltyRules())))
    _book(
        "K01",
        _terminal(work, "K01", lambda t: _sell(t, "s-li-1", LI, 2, coupon_of[LI], LoyaltyRules(), 2000)),
    )
    _book(
        "K03", _terminal(work, "K03", lambda t: _sell(t, "s-li-2", LI, 2, coupon_of[LI], double_points, 2000))
    )
    _profiles()
    first = reconciliation.items("open")[0]["id"]
    # found_at is the hub's clock (when ingest ran), so the resolution is stamped with it too
    note = "已联系张三，补收¥20 / collected ¥20 from the member"
    reconciliation.resolve_item(first, note, "owner", dt.datetime.now(dt.UTC))


def _profiles() -> None:
    """Attributes the owner defined, and tags and values on two members."""
    for spec in (
        AttributeSpec(
            code="skin", label_zh="肤质", label_en="Skin", type="choice", options=("干性", "油性", "混合")
        ),
        AttributeSpec(code="height_cm", label_zh="身高", label_en="Height (cm)", type="number"),
        AttributeSpec(code="wedding", label_zh="结婚纪念日", label_en="Anniversary", type="date"),
    ):
        member_attributes.define_attribute(spec, "owner", NOW)
    member_attributes.set_tags(ZHANG, ["VIP", "宝妈"], "owner", NOW)
    member_attributes.set_tags(LI, ["VIP"], "owner", NOW)
    member_attributes.set_attributes(
        ZHANG, {"skin": "混合", "height_cm": "162", "wedding": "2019-05-20"}, "owner", NOW
    )
    rule = tag_rules.TagRuleSpec(tag="常买大米", scope="product", value="rice", times=2, days=30)
    tag_rules.add_rule(rule, "owner", NOW)
    tag_rules.apply_rules(NOW.date(), NOW)


# screenshot name -> page (every query has a ? so ``&lang=en`` can follow)
PAGES = {
    "reconciliation": "reconciliation?status=open",
    "reconciliation_resolved": "reconciliation?status=resolved",
    "campaigns": "campaigns?view=list",
    "members": "members?view=list",
    "member": f"members/{ZHANG}?view=profile",
    "expiring": "members/expiring?days=30",
}


def capture(out: Path, names: Collection[str] | None = None) -> list[Path]:
    """Seed a throwaway database, serve the dashboard, save screenshots of ``PAGES`` (or of ``names``)
    in Chinese and English into ``out``."""

    with tempfile.TemporaryDirectory(prefix="hub-loyalty-story-") as work:
        db = open_hub_database(f"sqlite:///{work}/hub.db")
        seed(Path(work))
        app = create_app(TZ, today=lambda: NOW.date())
        try:
            with serving(app) as port:
                shots = []
                for name, page in PAGES.items():
                    if names is not None and name not in names:
                        continue
                    for lang, suffix in (("zh", ""), ("en", "&lang=en")):
                        target = out / f"hub-{name}-{lang}.png"
                        # the whole page, trimmed below its content: nothing cut off at the bottom
                        shots.append(shots_.page(f"http://127.0.0.1:{port}/{page}{suffix}", target, 1280))
                return shots
        finally:
            loyalty.configure(LoyaltyRules(), None)
            db.close()


if __name__ == "__main__":
    for path in capture(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")):
        print(path)
