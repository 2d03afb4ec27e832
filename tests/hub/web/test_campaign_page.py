"""The campaigns page (zh default, ?lang=en): list with issued/used, create from the form, run."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.devtools.loyalty_story import LI, NOW, TZ, WANG, ZHANG, seed
from hub.members import attributes as member_attributes
from hub.members import ledger as loyalty
from hub.members.models import Campaign, HubCoupon, HubMember
from hub.web.app import create_app
from hub.web.campaigns import spec_from_form
from kiosk.domain.loyalty import LoyaltyRules
from kiosk.domain.loyalty.campaigns import CampaignSpec


@pytest.fixture(autouse=True)
def reset_rules() -> Iterator[None]:
    yield
    loyalty.configure(LoyaltyRules(), None)


def row(html: str, campaign_id: str) -> str:
    match = re.search(rf'<tr id="campaign-{campaign_id}">(.*?)</tr>', html, re.S)
    assert match, f"no row for {campaign_id}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def test_campaigns_show_deal_target_window_and_counts(hub_db, tmp_path: Path, signed_in) -> None:  # type: ignore[no-untyped-def]
    seed(tmp_path)
    client = signed_in(create_app(TZ))
    html = client.get("/campaigns").text
    assert row(html, "member-day") == (
        "会员日满100减20 满¥100.00减¥20.00 全部会员 2026-11-20 – 2026-11-30 "
        "3 2 2026-11-23 15:30 owner · +3 发券 效果 暂停"
    )
    assert (
        row(html, "welcome")
        == "新会员9折券 9折，最多减¥30.00 新注册会员（自动） 发放后30天 3 0 – 注册时自动发放 效果 暂停"
    )
    english = client.get("/campaigns?lang=en").text
    assert row(english, "member-day").startswith(
        "Member day: ¥20 off ¥100 ¥20.00 off ¥100.00 All members 2026-11-20 – 2026-11-30 3 2"
    )
    assert '<a href="/campaigns?lang=en">Campaigns</a>' in english


FORM = {
    "name_zh": "VIP 专享",
    "kind": "buy_n_get_m",
    "coupon_name_zh": "饮料买三送一",
    "categories": "drink，snack",
    "buy": "3",
    "get": "1",
    "valid_from": "2026-12-01",
    "valid_last": "2026-12-31",
    "target": "tag",
    "tag": "VIP",
    "holdout_percent": "0",  # three members: every one receives
    "by": "amy",
}


def test_a_bad_form_comes_back_with_every_value_and_all_reasons(hub_db, signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(create_app(TZ))
    bad = client.post(
        "/campaigns?lang=en", data={**FORM, "min_spend": "12.345", "tag": "", "valid_last": "12/31"}
    )
    assert bad.status_code == 422
    problems = re.findall(r"<li>(.*?)</li>", bad.text)
    assert problems == [
        "valid_last: “12/31” is not a date like 2026-12-01 / 日期格式应为 2026-12-01",
        "min_spend: “12.345” is not an amount in yuan like 100 or 99.50 / 金额格式应为 100 或 99.50",
    ]
    assert 'name="min_spend" inputmode="decimal" value="12.345"' in bad.text
    assert 'name="coupon_name_zh" value="饮料买三送一"' in bad.text and 'value="tag" selected' in bad.text
    rules = client.post("/campaigns", data={**FORM, "tag": ""})
    assert re.findall(r"<li>(.*?)</li>", rules.text) == [
        "target: target tag needs its value / 请填写目标条件"
    ]
    assert Campaign.select().count() == 0


def test_a_campaign_made_in_the_form_runs_once_per_member(hub_db, tmp_path: Path, signed_in) -> None:  # type: ignore[no-untyped-def]
    seed(tmp_path)
    member_attributes.set_tags(WANG, ["VIP"], "owner", NOW)  # the story tagged 张三 and 李四 already
    client = signed_in(create_app(TZ))
    created = client.post("/campaigns", data=FORM, follow_redirects=False)
    assert created.status_code == 303
    new = Campaign.get(Campaign.name_zh == "VIP 专享")
    spec = CampaignSpec.model_validate_json(new.spec)
    assert (spec.coupon.buy, spec.coupon.get, sorted(spec.coupon.categories)) == (3, 1, ["drink", "snack"])
    assert (spec.coupon.valid_from.isoformat(), spec.coupon.valid_until.isoformat()) == (  # type: ignore[union-attr]
        "2026-12-01T00:00:00+08:00",
        "2027-01-01T00:00:00+08:00",
    )
    assert row(client.get(created.headers["location"]).text, new.id).startswith(
        "VIP 专享 买3送1 · drink, snack 带某标签: VIP 2026-12-01 – 2026-12-31 0 0 –"
    )
    ran = client.post(f"/campaigns/{new.id}/run", data={"by": "amy"})
    assert '<p class="banner ok" id="done">已发放 3 张新券（目标会员 3 人）。</p>' in ran.text
    again = client.post(f"/campaigns/{new.id}/run?lang=en", data={"by": "amy"})
    assert "Issued 0 new coupons (3 members targeted)." in again.text
    assert sorted(c.member_id for c in HubCoupon.select().where(HubCoupon.campaign_id == new.id)) == sorted(
        [ZHANG, LI, WANG]
    )
    refused = client.post("/campaigns/welcome/run", data={"by": "amy"})
    assert "注册礼券在会员注册时自动发放" in refused.text
    paused = client.post(f"/campaigns/{new.id}/active?lang=en", data={"active": "0", "by": "amy"})
    assert row(paused.text, new.id).endswith("paused Results Resume")
    assert Campaign.get_by_id(new.id).active is False


def issued_to(campaign_id: str) -> set[str]:
    return {c.member_id for c in HubCoupon.select().where(HubCoupon.campaign_id == campaign_id)}


def test_a_managers_campaign_reaches_only_their_stores_members(hub_db, tmp_path: Path, signed_in) -> None:  # type: ignore[no-untyped-def]
    seed(tmp_path)
    member_attributes.set_tags(WANG, ["VIP"], "owner", NOW)  # all three hold the tag
    HubMember.update(home_store="S02").where(HubMember.id.in_([LI, WANG])).execute()
    HubMember.update(home_store="S01").where(HubMember.id == ZHANG).execute()
    app = create_app(TZ)
    owner, first, second = signed_in(app), signed_in(app, "manager", "S01"), signed_in(app, "manager", "S02")
    assert first.post("/campaigns", data=FORM, follow_redirects=False).status_code == 303
    ones = Campaign.get(Campaign.name_zh == "VIP 专享")
    assert ones.stores == "S01"
    spec = spec_from_form(FORM, TZ).model_dump(mode="json") | {"name_zh": "二店 VIP", "by": "m2"}
    twos = second.post("/api/v1/campaigns", json=spec).json()["id"]
    assert Campaign.get_by_id(twos).stores == "S02"
    # each manager lists, and runs, only their own; the other store's campaign is 403 on every route
    assert [c["id"] for c in first.get("/api/v1/campaigns").json()] == [ones.id]
    assert [c["id"] for c in second.get("/api/v1/campaigns").json()] == [twos]
    page = first.get("/campaigns").text
    assert row(page, ones.id).startswith("VIP 专享 买3送1 · drink, snack 带某标签: VIP · 仅限门店 S01 ")
    assert f'id="campaign-{twos}"' not in page and 'id="campaign-member-day"' not in page
    assert '<p class="hint" id="reach">只发给您门店（S01）的会员。</p>' in page
    assert 'id="reach"' not in owner.get("/campaigns").text
    assert first.post(f"/campaigns/{ones.id}/run").status_code == 200
    assert second.post(f"/api/v1/campaigns/{twos}/run", json={"by": "m2"}).json() == {
        "campaign_id": twos, "targeted": 2, "issued": 2, "held_out": 0,
    }  # fmt: skip
    assert (issued_to(ones.id), issued_to(twos)) == ({ZHANG}, {LI, WANG})
    for client, other in ((first, twos), (second, ones.id), (first, "member-day")):
        assert client.post(f"/campaigns/{other}/run").status_code == 403
        assert client.post(f"/campaigns/{other}/active", data={"active": "0"}).status_code == 403
        assert client.get(f"/campaigns/{other}/results").status_code == 403
        assert client.post(f"/api/v1/campaigns/{other}/run", json={"by": "x"}).status_code == 403
        assert (
            client.post(f"/api/v1/campaigns/{other}/active", json={"by": "x", "active": False}).status_code
            == 403
        )
        assert client.get(f"/api/v1/campaigns/{other}/runs").status_code == 403
    assert first.get("/campaigns/nope/results").status_code == 404
    assert (issued_to(ones.id), issued_to(twos)) == ({ZHANG}, {LI, WANG})
    assert Campaign.get_by_id("member-day").active and Campaign.get_by_id(twos).active
    # the owner sees every campaign, and theirs reaches every store
    assert {c["id"] for c in owner.get("/api/v1/campaigns").json()} >= {ones.id, twos, "member-day"}
    assert owner.get(f"/campaigns/{ones.id}/results").status_code == 200
    everyone = owner.post("/api/v1/campaigns", json=spec | {"name_zh": "全店 VIP"}).json()["id"]
    assert owner.post(f"/api/v1/campaigns/{everyone}/run", json={"by": "o"}).json()["issued"] == 3
    assert issued_to(everyone) == {ZHANG, LI, WANG}
