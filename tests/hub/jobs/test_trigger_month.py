"""The other automatic triggers over a simulated December (clock injected, one check a day): the
joining anniversary, a lunar holiday, near the next tier and thank-you each issue once on their day;
the tier evaluation of 1 December, missed because the hub was off, is caught up on 2 December as of
1 December, once. Members and sales from a real terminal through the real ingest; SQLite and
PostgreSQL."""

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.campaigns import runs as campaigns
from hub.ingest.batch import ingest_batch
from hub.jobs import catalog, runner
from hub.jobs.models import JobRun
from hub.members import ledger as loyalty
from hub.members.models import HubCoupon, HubMember
from kiosk.domain.cart import Cart, Product
from kiosk.domain.loyalty import EarnContext, LoyaltyRules, MemberPayment, price_cart, sale_ledger
from kiosk.domain.loyalty.campaigns import CampaignSpec, CouponTemplate, Target
from kiosk.domain.loyalty.rules import Tier, TierRule
from kiosk.store import members
from kiosk.store.sales import PaymentIntent, Terminal, commit_sale
from kiosk.sync.schema import batch
from tests.hub.members.test_loyalty import CONSENT, KEY, TZ, on_terminal

TIERS = TierRule(
    basis="spend", window_months=12, grace_days=30, evaluation_months=frozenset({12}),
    tiers=(Tier(code="normal", name_zh="普通会员", threshold=0),
           Tier(code="silver", name_zh="银卡", threshold=100000)),
)  # fmt: skip
RULES = LoyaltyRules(tiers=TIERS)
GIFT = CouponTemplate(kind="threshold", name_zh="满50减10", min_spend_fen=5000, off_fen=1000, valid_days=30)
AT = dt.time(11, 0)


def when(day: str) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), AT, tzinfo=TZ)


def sell(terminal: Terminal, member_id: str, sale_id: str, day: str, fen: int) -> None:
    """One member sale of ``fen`` on ``day``, paid in cash."""
    cart = Cart().add(Product(f"p{fen}", f"69{fen:011d}", "商品", "Item", fen, "misc"), 1)
    priced = price_cart(cart, (), when(day), member_id)
    stamp = members.new_stamp(terminal, when(day))
    earned, entries = sale_ledger(
        member_id, sale_id, priced, MemberPayment(), RULES, EarnContext(day=when(day).date()), stamp
    )
    sale = members.MemberSale(member_id, sale_id, priced, tuple(entries), earned.points)
    commit_sale(cart, [PaymentIntent("cash", priced.total_fen)], terminal, when(day), sale_id, member=sale)


def shop(terminal: Terminal) -> None:
    """m-joined joined on 5 December 2025; m-silver spent ¥1,200 in November 2025 (silver, nothing
    since); m-near spends ¥950 on 5 December (¥50 short of silver); m-thanks shops on 10 December."""
    people = {
        "m-joined": "2025-12-05",
        "m-silver": "2025-11-01",
        "m-near": "2026-11-01",
        "m-thanks": "2026-11-01",
    }
    for n, (member_id, day) in enumerate(people.items()):
        members.register_member(KEY, terminal, when(day), f"1380000001{n}", CONSENT, member_id=member_id)
    sell(terminal, "m-silver", "s-silver", "2025-11-20", 120000)
    sell(terminal, "m-near", "s-near", "2026-12-05", 95000)
    sell(terminal, "m-thanks", "s-thanks", "2026-12-10", 3000)


@pytest.fixture(autouse=True)
def hub_rules() -> Iterator[None]:
    loyalty.configure(RULES, KEY)
    yield
    loyalty.configure(LoyaltyRules(), None)


def campaign(campaign_id: str, trigger: str, **when_: object) -> None:
    spec = CampaignSpec(name_zh=campaign_id, coupon=GIFT, target=Target(kind="all"), trigger=trigger,
                        holdout_percent=0, **when_)  # fmt: skip
    campaigns.create_campaign(spec, "owner", when("2026-11-30"), campaign_id=campaign_id)


def test_anniversary_lunar_holiday_near_tier_thank_you_and_a_missed_tier_evaluation(  # type: ignore[no-untyped-def]
    hub_db, tmp_path: Path
) -> None:
    events = on_terminal(tmp_path, "K01", shop)
    ingest_batch("pos/K01/up/events", batch("K01", events), when("2026-12-10"), TZ)
    assert HubMember.get_by_id("m-silver").tier_code == "silver"  # upgraded when the sale was booked
    campaign("c-anniversary", "anniversary")
    # 农历十一月初一 (lunar 11/1) is 9 December 2026; issued 3 days before
    campaign("c-lunar", "holiday", holiday_calendar="lunar", holiday_month=11, holiday_day=1, days_before=3)
    campaign("c-near", "near_tier", near_percent=10)
    campaign("c-thanks", "thank_you")
    jobs = [catalog.job_named("campaigns"), catalog.job_named("tier_evaluation")]
    issued_on: dict[tuple[str, str], str] = {}
    for day in range(2, 32):  # the hub was off on 1 December; a check at 10:00 every other day
        now = dt.datetime(2026, 12, day, 10, 0, tzinfo=TZ)
        outcomes = runner.run_due(jobs, runner.JobContext(now, TZ, data_dir=tmp_path))
        assert sorted(o.status for o in outcomes) == ["ok", "ok"], (now, outcomes)
        for coupon in HubCoupon.select():
            issued_on.setdefault((coupon.campaign_id, coupon.member_id), now.date().isoformat())
        if day == 2:  # the missed evaluation, as of 1 December: m-silver spent nothing in the window
            silver = HubMember.get_by_id("m-silver")
            assert (silver.tier_code, silver.tier_grace_until) == ("silver", "2026-12-31")
            assert "caught up" in next(o.summary for o in outcomes if o.job == "tier_evaluation")
    # each trigger once, on its day, to exactly its member (everyone is a member: 'all' targets)
    assert issued_on == {
        ("c-anniversary", "m-joined"): "2026-12-05",
        ("c-lunar", "m-joined"): "2026-12-06", ("c-lunar", "m-silver"): "2026-12-06",
        ("c-lunar", "m-near"): "2026-12-06", ("c-lunar", "m-thanks"): "2026-12-06",
        ("c-near", "m-near"): "2026-12-05",
        ("c-thanks", "m-near"): "2026-12-06", ("c-thanks", "m-thanks"): "2026-12-11",
    }  # fmt: skip
    assert HubCoupon.select().count() == 8  # nothing issued twice over the month
    # the evaluation of 1 December ran once (caught up on the 2nd), never again that month
    runs = JobRun.select().where(JobRun.job == "tier_evaluation").order_by(JobRun.period)
    assert [(r.period, r.status) for r in runs][:2] == [("2026-12-01", "ok"), ("2026-12-02", "ok")]
    assert (
        "not an evaluation date"
        in JobRun.get(JobRun.job == "tier_evaluation", JobRun.period == "2026-12-03").summary
    )
    # the grace runs out on 31 December: the next evaluation (1 December 2027) would downgrade; not before
    assert HubMember.get_by_id("m-silver").tier_code == "silver"
