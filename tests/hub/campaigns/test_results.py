"""A campaign's results: the members who received it against its holdout group, with intervals.

The statistics are checked by hand-computed figures; the comparison runs on members and sales
from a real terminal database through the real ingest, on SQLite and PostgreSQL.
"""

import datetime as dt
from pathlib import Path

import pytest

from hub.campaigns import runs as campaigns
from hub.campaigns.results import GroupFigures, campaign_results, mean_difference, proportion_difference
from hub.members import ledger as loyalty
from hub.web.app import create_app
from kiosk.domain.loyalty import LoyaltyRules
from kiosk.domain.loyalty.campaigns import CampaignSpec, CouponTemplate, Target, in_holdout
from kiosk.store import members
from kiosk.store.sales import Terminal
from tests.hub.jobs.test_jobs import ingest, member_sale
from tests.hub.members.test_loyalty import CONSENT, KEY, TZ, on_terminal

RUN_AT = dt.datetime(2026, 12, 1, 10, 0, tzinfo=TZ)
COUPON = CouponTemplate(kind="threshold", name_zh="满50减10", min_spend_fen=5000, off_fen=1000, valid_days=14)
IDS = [f"m-{n}" for n in range(40)]
# members drawn into a 50 % holdout of campaign c-half: the first two of each group are used below
HELD = [m for m in IDS if in_holdout("c-half", m, 50)]
GOT = [m for m in IDS if not in_holdout("c-half", m, 50)]


@pytest.fixture(autouse=True)
def hub_rules():  # type: ignore[no-untyped-def]
    loyalty.configure(LoyaltyRules(), KEY)
    yield
    loyalty.configure(LoyaltyRules(), None)


def test_differences_and_intervals_are_the_textbook_ones() -> None:
    received = GroupFigures(4, 3, (10000, 20000, 0, 30000))
    holdout = GroupFigures(4, 1, (0, 0, 0, 10000))
    visits = proportion_difference(received, holdout)
    # 0.75 - 0.25, se = sqrt(.75*.25/4 + .25*.75/4) = 0.306186
    assert (round(visits.value, 6), round(visits.low, 6), round(visits.high, 6)) == (0.5, -0.100114, 1.100114)  # type: ignore[arg-type]
    spend = mean_difference(received, holdout)
    # 15000 - 2500 fen; variances 1.6667e8 and 2.5e7 (n - 1); se = sqrt(4.1667e7 + 6.25e6) = 6922.19
    assert (round(spend.value), round(spend.low), round(spend.high)) == (12500, -1067, 26067)  # type: ignore[arg-type]
    lone = proportion_difference(GroupFigures(1, 1, (500,)), holdout)
    assert (lone.value, lone.low, lone.high) == (0.75, None, None)


def join(terminal: Terminal) -> None:
    for n, member_id in enumerate(HELD[:2] + GOT[:2]):
        since = RUN_AT - dt.timedelta(days=30)
        members.register_member(KEY, terminal, since, f"1380000{n:04d}", CONSENT, member_id=member_id)


def shop(terminal: Terminal) -> None:
    """After the run: both who received visit (¥50, and twice ¥50); one held-out member visits."""
    member_sale(terminal, GOT[0], "s-1", RUN_AT + dt.timedelta(days=2))
    member_sale(terminal, GOT[1], "s-2", RUN_AT + dt.timedelta(days=3))
    member_sale(terminal, GOT[1], "s-3", RUN_AT + dt.timedelta(days=9))
    member_sale(terminal, HELD[0], "s-4", RUN_AT + dt.timedelta(days=4))
    member_sale(terminal, HELD[1], "s-5", RUN_AT + dt.timedelta(days=40))  # after the 30 days


def test_results_compare_who_received_with_the_holdout(hub_db, tmp_path: Path, signed_in) -> None:  # type: ignore[no-untyped-def]
    spec = CampaignSpec(name_zh="回馈", coupon=COUPON, target=Target(kind="all"), holdout_percent=50)
    campaigns.create_campaign(spec, "owner", RUN_AT, campaign_id="c-half")
    ingest("K01", on_terminal(tmp_path, "K01", join))
    result = campaigns.run_campaign("c-half", "owner", RUN_AT, TZ)
    assert (result.targeted, result.issued, result.held_out) == (4, 2, 2)
    ingest("K01", on_terminal(tmp_path, "K01", shop))  # the joins again with the sales: ignored
    found = campaign_results("c-half", TZ, days=30)
    assert (found.target.members, found.target.visited, sorted(found.target.spend)) == (2, 2, [5000, 10000])
    assert (found.holdout.members, found.holdout.visited, sorted(found.holdout.spend)) == (2, 1, [0, 5000])
    assert (found.issued, found.redeemed) == (2, 0)
    assert found.visit_difference.value == 0.5
    assert found.spend_difference.value == 5000.0

    page = signed_in(create_app(TZ)).get("/campaigns/c-half/results?lang=en").text
    assert "100.0%" in page and "50.0%" in page and "+50.0 pp" in page and "¥50.00" in page
