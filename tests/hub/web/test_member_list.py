"""Member analysis and the member list: segments by each member's rhythm, RFM groups worked out by
hand, search through the blind index, filters, pages, and a segment one click from a campaign."""

import datetime as dt
import re
from pathlib import Path

import pytest

from hub.devtools import loyalty_story
from hub.devtools.report_story import NOW, TZ, seed
from hub.members import attributes as member_attributes
from hub.members import ledger as loyalty
from hub.members.models import HubLedgerEntry, HubMember, MemberSale
from hub.reports import members as analysis
from hub.web import members as member_web
from hub.web.app import create_app
from kiosk.domain.loyalty import LoyaltyRules

TODAY = dt.date(2026, 11, 24)
SALES = {  # member: [(day, paid fen)]
    "a": [("2026-11-01", 1000), ("2026-11-08", 1000), ("2026-11-15", 1000)],  # every 7 days, 9 days away
    "b": [("2026-10-01", 1000), ("2026-10-11", 1000)],  # every 10 days, 44 away: > 4x
    "c": [("2026-10-20", 9000)],  # one visit: 30-day rhythm, 35 away: < 2x
    "e": [("2026-10-25", 250), ("2026-11-01", 250)],  # every 7 days, 23 away: 2x..4x
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
        analysis.segment(seen["e"], TODAY, analysis.Rhythm(dormant_after=4)) == "active"
    )  # the owner's threshold
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


def test_the_owner_sets_the_thresholds_on_the_page() -> None:
    assert member_web.rhythm_of({"dormant": "3", "churned": "2"}) == analysis.Rhythm(
        3, 3
    )  # churned >= dormant
    assert (
        member_web.rhythm_of({"dormant": "abc", "churned": "100"}) == analysis.Rhythm()
    )  # out of 1..52: default
    assert member_web.rhythm_of({"dormant": "1.5"}) == analysis.Rhythm(1.5, 4)
