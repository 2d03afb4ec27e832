"""Member analysis and the member list: segments by each member's rhythm, RFM groups worked out by
hand, search through the blind index, filters, pages, and a segment one click from a campaign."""

import datetime as dt
import re
from pathlib import Path

import pytest

from hub.devtools import loyalty_story
from hub.devtools.report_story import NOW, TZ, seed
from hub.jobs import settings as job_settings
from hub.members import attributes as member_attributes
from hub.members import ledger as loyalty
from hub.members.models import HubLedgerEntry, HubMember, MemberSale
from hub.reports import members as analysis
from hub.web.app import create_app
from kiosk.domain.loyalty import LoyaltyRules
from kiosk.domain.loyalty.campaigns import CampaignSpec, CouponTemplate, Target
from kiosk.domain.loyalty.rhythm import Thresholds, member_state
from kiosk.domain.loyalty.triggers import MemberHistory, occasion

TODAY = dt.date(2026, 11, 24)
SALES = {  # member: [(day, paid fen)]
    "a": [("2026-11-01", 1000), ("2026-11-08", 1000), ("2026-11-15", 1000)],  # every 7 days, 9 days away
    "b": [("2026-09-01", 1000), ("2026-09-11", 1000)],  # every 10 days, 74 away: >= 6x
    "c": [("2026-10-20", 9000)],  # one visit: 30-day rhythm, 35 away: < 3x
    "e": [("2026-10-25", 250), ("2026-11-01", 250)],  # every 7 days, 23 away: 3x..6x
}


def test_segments_and_rfm_by_hand(hub_db) -> None:  # type: ignore[no-untyped-def]
    for member, sales in SALES.items():
        for n, (day, paid) in enumerate(sales):
            MemberSale.create(sale_id=f"{member}{n}", member_id=member, day=day, paid_fen=paid, points=0)
    seen = analysis.visits(TODAY)
    assert {m: analysis.segment(v, TODAY) for m, v in seen.items()} == {
        "a": "active", "b": "churned", "c": "active", "e": "dormant",
    }  # fmt: skip
    assert analysis.segment(None, TODAY) == "new"
    assert (
        analysis.segment(seen["e"], TODAY, Thresholds(dormant_after=4)) == "active"
    )  # the owner's threshold
    assert [seen["a"].rhythm_days(), seen["b"].rhythm_days(), seen["c"].rhythm_days()] == [7, 10, 30]
    # medians: 29 days away, 2 visits, ¥25.00 paid
    assert analysis.rfm(seen, TODAY) == {
        "a": "important_value", "b": "general_keep", "c": "important_winback", "e": "general_value",
    }  # fmt: skip


@pytest.fixture
def story(hub_db, tmp_path: Path, signed_in):  # type: ignore[no-untyped-def]
    seed(tmp_path)
    yield signed_in(create_app(TZ, today=lambda: NOW.date()))
    loyalty.configure(LoyaltyRules(), None)


def test_search_filters_pages_and_a_segment_campaign(story) -> None:  # type: ignore[no-untyped-def]
    client = story
    loyalty.configure(LoyaltyRules(), loyalty_story.KEY)  # the business key: phones searchable
    everyone = (
        HubMember.select().where(HubMember.merged_into.is_null(), HubMember.erased_at.is_null()).count()
    )
    html = client.get("/members").text
    assert f"共 {everyone} 位会员" in html
    found = client.get("/members?q=13812341234").text  # Zhang, through the blind index
    assert re.findall(r'<tr id="member-([^"]+)"', found) == [loyalty_story.ZHANG]
    assert re.findall(r'<tr id="member-([^"]+)"', client.get("/members?tag=VIP").text) != []
    assert "共 0 位会员" in client.get("/members?q=13800000000").text
    active = client.get("/members?segment=active").text
    expected = {
        m for m, v in analysis.visits(NOW.date()).items() if analysis.segment(v, NOW.date()) == "active"
    }
    assert set(re.findall(r'<tr id="member-([^"]+)"', active)) == expected
    clicked = client.post("/members/segments/campaign", data={"kind": "segment", "name": "active"},
                          follow_redirects=False)  # fmt: skip
    assert (
        clicked.status_code == 303 and clicked.headers["location"] == "/campaigns?target=tag&tag=seg-active"
    )
    assert {m for m in expected if "seg-active" in member_attributes.member_tags(m)} == expected
    assert client.post("/members/segments/campaign", data={"kind": "segment", "name": "x"}).status_code == 400
    assert re.search(r'class="on">1</a>', client.get("/members?page=9").text) is None  # one page: no pager
    form = client.get("/campaigns?target=tag&tag=seg-active").text
    assert 'value="seg-active"' in form


def test_a_profile_shows_purchases_and_the_ledger(story) -> None:  # type: ignore[no-untyped-def]
    html = story.get(f"/members/{loyalty_story.LI}").text
    bought = MemberSale.select().where(MemberSale.member_id == loyalty_story.LI).count()
    assert (
        bought
        and len(re.findall(r"<tr><td>S\d\d-", html.split('id="purchases"')[1].split("</table>")[0])) == bought
    )
    entries = HubLedgerEntry.select().where(HubLedgerEntry.member_id == loyalty_story.LI).count()
    assert len(re.findall(r"<tr><td", html.split('id="ledger"')[1].split("</table>")[0])) == min(entries, 30)


WINBACK = CampaignSpec(
    name_zh="回归礼",
    coupon=CouponTemplate(kind="threshold", name_zh="回归礼", off_fen=500, valid_days=14),
    target=Target(kind="all"),
    trigger="winback",
)


def test_the_owner_stores_the_thresholds_and_win_back_follows_them(hub_db, signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(create_app(TZ, today=lambda: TODAY))
    weekly = MemberHistory("e", visits=(dt.date(2026, 10, 25), dt.date(2026, 11, 1)))  # 23 days away
    assert job_settings.thresholds() == Thresholds(3.0, 6.0, 30)  # nothing stored: the defaults
    assert (
        occasion(WINBACK, weekly, TODAY, LoyaltyRules().tiers, job_settings.thresholds())
        == "after:2026-11-01"
    )
    refused = client.post("/members/rhythm", data={"dormant": "5", "churned": "4", "default_days": "30"})
    assert refused.status_code == 422
    assert "流失的倍数须大于沉睡的倍数" in refused.text and 'value="5"' in refused.text
    assert client.post("/members/rhythm", data={"dormant": "0.5", "churned": "4", "default_days": "30"}
                       ).status_code == 422  # fmt: skip
    assert client.post("/members/rhythm", data={"dormant": "2", "churned": "4", "default_days": "abc"}
                       ).status_code == 422  # fmt: skip
    assert job_settings.thresholds() == Thresholds(3.0, 6.0, 30)  # nothing of a refused form kept
    saved = client.post(
        "/members/rhythm",
        data={"dormant": "3.5", "churned": "8", "default_days": "14"},
        follow_redirects=False,
    )
    assert (saved.status_code, saved.headers["location"]) == (303, "/members?rhythm_saved=1#rhythm")
    assert job_settings.thresholds() == Thresholds(3.5, 8.0, 14)
    # 23 days away from a 7-day rhythm is under 3.5x: neither the page nor win-back calls it dormant
    assert member_state(weekly.visits, TODAY, job_settings.thresholds()) == "active"
    assert occasion(WINBACK, weekly, TODAY, LoyaltyRules().tiers, job_settings.thresholds()) is None
    once = (dt.date(2026, 10, 1),)  # one visit, 54 days away: the default rhythm of 14 days counts
    assert member_state(once, TODAY, job_settings.thresholds()) == "dormant"  # 54 >= 3.5 x 14
    page = client.get("/members?rhythm_saved=1").text
    assert 'id="rhythm-saved"' in page and "达到 3.5 倍节奏为沉睡，达到 8 倍为流失" in page
    assert "只来过一次按 14 天" in page


def test_a_manager_tags_a_segment_only_among_their_stores_members(story, signed_in) -> None:  # type: ignore[no-untyped-def]
    day = NOW.date()
    active = sorted(m for m, v in analysis.visits(day).items() if analysis.segment(v, day) == "active")
    everyone = HubMember.select().where(HubMember.merged_into.is_null(), HubMember.erased_at.is_null())
    (stale,) = [m.id for m in everyone if m.id not in active]
    theirs, mine = active  # one active member in each store
    HubMember.update(home_store="S02").where(HubMember.id.in_([theirs, stale])).execute()
    HubMember.update(home_store="S01").where(HubMember.id == mine).execute()
    member_attributes.set_tags(stale, ["seg-active"], "owner", dt.datetime.now(dt.UTC))  # S02's, from before
    manager = signed_in(create_app(TZ, today=lambda: day), "manager", stores="S01")
    clicked = manager.post("/members/segments/campaign", data={"kind": "segment", "name": "active"},
                           follow_redirects=False)  # fmt: skip
    assert clicked.status_code == 303

    def tagged() -> set[str]:
        return {m for m in [*active, stale] if "seg-active" in member_attributes.member_tags(m)}

    assert tagged() == {mine, stale}  # S01's active member tagged; S02's members untouched either way
    refused = manager.post("/members/tag-rules", data={"tag": "x", "scope": "category", "value": "food",
                                                       "times": "1", "days": "30"})  # fmt: skip
    assert refused.status_code == 403  # tag rules need the "rules" permission: the owner's
    assert manager.post("/members/tag-rules/1/delete").status_code == 403
    story.post("/members/segments/campaign", data={"kind": "segment", "name": "active"})  # the owner: all
    assert tagged() == {theirs, mine}
