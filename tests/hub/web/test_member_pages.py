"""The member list (attribute definitions) and the member page (tags and attributes), zh and en."""

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.accounts import audit as owner_audit
from hub.devtools.loyalty_story import LI, NOW, TZ, ZHANG, seed
from hub.members import attributes as member_attributes
from hub.members import ledger as loyalty
from hub.messaging import queue as messages
from hub.web.app import create_app
from kiosk.domain.loyalty import LoyaltyRules


@pytest.fixture(autouse=True)
def reset_rules() -> Iterator[None]:
    yield
    loyalty.configure(LoyaltyRules(), None)


def text(html: str, pattern: str) -> str:
    match = re.search(pattern, html, re.S)
    assert match, f"nothing matches {pattern}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def test_member_list_shows_masked_people_tags_and_points(hub_db, tmp_path: Path, signed_in) -> None:  # type: ignore[no-untyped-def]
    seed(tmp_path)
    client = signed_in(create_app(TZ, today=lambda: NOW.date()))
    html = client.get("/members").text
    # last visit, state by the member's own rhythm, RFM group (both came today once; Li spent more)
    assert (
        text(html, rf'<tr id="member-{ZHANG}">(.*?)</tr>')
        == "张* 138****1234 普通会员 VIP 宝妈 30 2026-11-24 活跃 · 一般价值 2026-11-22 15:30"
    )
    assert (
        text(html, rf'<tr id="member-{LI}">(.*?)</tr>')
        == "李* 139****0002 普通会员 VIP 常买大米 -820 2026-11-24 活跃 · 重要价值 2026-11-22 15:30"
    )
    assert "13812341234" not in html and "张三" not in html
    specs = text(client.get("/members?lang=en").text, r'<table id="specs">.*?<tbody>(.*?)</tbody>')
    assert (
        specs == "height_cm Height (cm) Number skin Skin Choice 干性 / 油性 / 混合 wedding Anniversary Date"
    )


def test_member_page_edits_tags_and_attributes_and_keeps_bad_input(hub_db, tmp_path: Path, signed_in) -> None:  # type: ignore[no-untyped-def]
    seed(tmp_path)
    client = signed_in(create_app(TZ))
    page = client.get(f"/members/{ZHANG}").text
    assert text(page, r'id="member-name">(.*?)</span>') == "张*" and 'name="tags" value="VIP, 宝妈"' in page
    assert '<option value="混合" selected>' in page and 'name="attr.height_cm" value="162"' in page
    form = {
        "tags": "VIP, 团购;客户",
        "attr.height_cm": "1米6",
        "attr.skin": "油性",
        "attr.wedding": "2019-05-20",
    }
    bad = client.post(f"/members/{ZHANG}?lang=en", data=form)
    assert bad.status_code == 422
    assert re.findall(r'<li data-field="([^"]+)">', bad.text) == ["tags", "height_cm"]
    assert "身高 (height_cm): “1米6” is not a number like 170 or 62.5" in bad.text
    assert 'name="attr.height_cm" value="1米6" inputmode="decimal" class="bad"' in bad.text
    assert 'name="tags" value="VIP, 团购;客户" class="bad"' in bad.text
    assert member_attributes.member_attributes(ZHANG)["skin"] == "混合"  # nothing written
    good = client.post(f"/members/{ZHANG}", data={**form, "tags": "VIP, 团购", "attr.height_cm": "161.50"})
    assert '<p class="banner ok" id="saved">已保存。</p>' in good.text
    assert member_attributes.member_tags(ZHANG) == ["VIP", "团购"]
    assert member_attributes.member_attributes(ZHANG) == {
        "height_cm": "161.5",
        "skin": "油性",
        "wedding": "2019-05-20",
    }
    last = owner_audit.trail(f"member:{ZHANG}")[-2:]
    assert [(a["action"], a["detail"]) for a in last] == [
        ("member.tags", {"before": ["VIP", "宝妈"], "after": ["VIP", "团购"]}),
        ("member.attributes", {"height_cm": "161.5", "skin": "油性"}),
    ]
    assert client.get("/members/nobody").status_code == 404


def test_an_attribute_defined_in_the_form_appears_on_every_member(hub_db, tmp_path: Path, signed_in) -> None:  # type: ignore[no-untyped-def]
    seed(tmp_path)
    client = signed_in(create_app(TZ))
    bad = client.post("/members/attributes", data={"code": "Shoe Size", "label_zh": "鞋码", "type": "choice"})
    assert bad.status_code == 422
    assert re.findall(r"<li>(.*?)</li>", bad.text) == [
        "code: use a-z, 0-9 and _, starting with a letter, e.g. shoe_size / 代码只能用小写字母、数字和下划线，以字母开头"  # noqa: E501
    ]
    no_options = client.post(
        "/members/attributes", data={"code": "shoe", "label_zh": "鞋码", "type": "choice"}
    )
    assert re.findall(r"<li>(.*?)</li>", no_options.text) == [
        "attribute: a choice needs distinct options / 选项不能为空或重复"
    ]
    assert 'name="code" value="Shoe Size"' in bad.text and 'value="choice" selected' in bad.text
    good = client.post(
        "/members/attributes",
        data={"code": "shoe", "label_zh": "鞋码", "type": "choice", "options": "36，37,38"},
    )
    assert good.status_code == 200 and "鞋码" in good.text
    assert [s.options for s in member_attributes.attribute_specs() if s.code == "shoe"] == [
        ("36", "37", "38")
    ]
    assert '<option value="37">37</option>' in client.get(f"/members/{LI}").text


def test_member_page_and_api_show_the_consent_record(hub_db, tmp_path: Path, signed_in) -> None:  # type: ignore[no-untyped-def]
    seed(tmp_path)
    client = signed_in(create_app(TZ))
    zh_page, en_page = client.get(f"/members/{ZHANG}").text, client.get(f"/members/{ZHANG}?lang=en").text
    assert text(zh_page, r'<section class="consent" id="consent">(.*?)</section>') == (
        "隐私同意 说明版本 privacy-2026-01 同意时间 2026-11-22 15:30 门店/终端 S01/K01 注册渠道 kiosk "
        "营销信息： 未询问（不发送）"
    )
    assert text(en_page, r'<section class="consent" id="consent">(.*?)</section>') == (
        "Privacy consent Text version privacy-2026-01 Given at 2026-11-22 15:30 Store/terminal S01/K01 "
        "Registered via kiosk Offers: not asked (nothing is sent)"
    )
    # the separate marketing consent, once the member gave it (here: on their /my-data/ page)
    messages.set_consent(
        ZHANG,
        True,
        "kiosk-marketing-2026-12",
        "my-data",
        "member",
        dt.datetime(2026, 12, 1, 2, tzinfo=dt.UTC),
    )
    assert text(client.get(f"/members/{ZHANG}").text, r'<p id="marketing">(.*?)</p>') == (
        "营销信息： 已同意接收 · 2026-12-01 10:00 · my-data"
    )
    body = client.get(f"/api/v1/members/{ZHANG}").json()
    assert body["consent"] == {
        "version": "privacy-2026-01",
        "at": "2026-11-22T15:30:00.000+08:00",
        "where": "S01/K01",
    }
    assert (body["member_id"], body["source"], body["erased_at"], body["merged_into"]) == (
        ZHANG,
        "kiosk",
        None,
        None,
    )
    assert body["tags"] == ["VIP", "宝妈"]
    assert "13812341234" not in json.dumps(body) and "张三" not in json.dumps(body, ensure_ascii=False)
    assert client.get("/api/v1/members/nobody").status_code == 404
    assert "/api/v1/members/{member_id}" in client.get("/openapi.json").json()["paths"]


def test_an_imported_member_says_no_consent_was_recorded(hub_db, tmp_path: Path, signed_in) -> None:  # type: ignore[no-untyped-def]
    from hub.members.models import HubMember

    seed(tmp_path)
    HubMember.update(consent_version="", consent_at="", consent_where="", source="import").where(
        HubMember.id == LI
    ).execute()
    client = signed_in(create_app(TZ))
    assert text(client.get(f"/members/{LI}").text, r'id="no-consent">(.*?)</p>') == (
        "没有同意记录（如由表格导入的会员）。"
    )
    assert client.get(f"/api/v1/members/{LI}").json()["consent"] is None


def test_api_lists_cards_tiers_and_rules(hub_db, tmp_path: Path, signed_in) -> None:  # type: ignore[no-untyped-def]
    from hub.members.models import HubCard
    from kiosk.domain.loyalty.rules import Tier, TierRule

    seed(tmp_path)
    HubCard.create(uid="04A1B2", member_id=ZHANG, kind="nfc", linked_at="2026-11-22T15:30:00+08:00")
    HubCard.create(uid="0012345678", member_id=ZHANG, kind="printed", linked_at="2026-11-23T10:00:00+08:00")
    tiers = (
        Tier(code="normal", name_zh="普通会员", threshold=0),
        Tier(code="gold", name_zh="金卡", threshold=1000),
    )
    loyalty.configure(LoyaltyRules(tiers=TierRule(tiers=tiers)), None)
    client = signed_in(create_app(TZ))
    assert client.get(f"/api/v1/members/{ZHANG}/cards").json() == [
        {"uid": "0012345678", "kind": "printed", "linked_at": "2026-11-23T10:00:00+08:00"},
        {"uid": "04A1B2", "kind": "nfc", "linked_at": "2026-11-22T15:30:00+08:00"},
    ]
    assert client.get(f"/api/v1/members/{LI}/cards").json() == []
    assert client.get("/api/v1/members/nobody/cards").status_code == 404
    assert [(t["code"], t["name_zh"], t["threshold"]) for t in client.get("/api/v1/tiers").json()] == [
        ("normal", "普通会员", 0),
        ("gold", "金卡", 1000),
    ]
    rules = client.get("/api/v1/rules").json()
    assert rules["tiers"]["tiers"][1]["code"] == "gold" and rules["registration_coupon"] is None
    assert rules == LoyaltyRules(tiers=TierRule(tiers=tiers)).model_dump(mode="json")


def test_a_member_registered_at_the_hub_keeps_the_consent_and_a_known_phone_links(
    hub_db, tmp_path: Path, signed_in
) -> None:  # type: ignore[no-untyped-def]
    from hub.campaigns import runs as campaigns
    from hub.devtools.loyalty_story import KEY, WELCOME
    from hub.members import feed as member_feed
    from hub.members.models import HubMember

    seed(tmp_path)
    client = signed_in(create_app(TZ))
    form = {
        "phone": "136 0000 0007", "name": "王女士", "birthday": "1992-05-01", "home_store": "S01",
        "consent_version": "privacy-2026-01", "consent_where": "hub/front-desk", "by": "owner",
    }  # fmt: skip
    version = member_feed.current_version()
    made = client.post("/api/v1/members", json=form)
    assert made.status_code == 201 and made.json()["created"] is True
    member_id = made.json()["member_id"]
    row = HubMember.get_by_id(member_id)
    assert (row.source, row.home_store, row.consent_version, row.consent_where) == (
        "hub", "S01", "privacy-2026-01", "hub/front-desk",
    )  # fmt: skip
    assert KEY.decrypt(row.phone_enc, f"{member_id}:phone") == "+8613600000007"
    assert KEY.decrypt(row.name_enc, f"{member_id}:name") == "王女士"
    [welcome] = campaigns.member_coupons(member_id)  # the seed's at-registration campaign
    assert welcome.name_zh == WELCOME.coupon.name_zh
    assert member_feed.current_version() == version + 2  # the member, then the coupon: terminals learn both
    assert owner_audit.trail(f"member:{member_id}")[-1]["action"] == "member.registered"
    assert messages.consent_state(member_id) is None  # not asked: no marketing at all
    again = client.post("/api/v1/members", json={**form, "phone": "+8613812341234"})
    assert (again.status_code, again.json()) == (200, {"member_id": ZHANG, "created": False})
    bad = client.post("/api/v1/members", json={**form, "phone": "12345"})
    assert bad.status_code == 422
    assert bad.json()["detail"] == "not a valid phone number: '12345' / 不是有效的手机号：“12345”"
    assert client.get(f"/api/v1/members/{member_id}").json()["consent"]["where"] == "hub/front-desk"
    loyalty.configure(LoyaltyRules(), None)
    keyless = client.post("/api/v1/members", json={**form, "phone": "13600000008"})
    assert keyless.status_code == 503 and "总部未配置数据密钥" in keyless.json()["detail"]
    assert HubMember.select().count() == 4
    # the separate marketing answer given at the front desk
    loyalty.configure(LoyaltyRules(), KEY)
    offers = {**form, "phone": "136 0000 0008", "marketing": True, "email": "wang@example.com"}
    second = client.post("/api/v1/members", json=offers).json()["member_id"]
    state = messages.consent_state(second)
    assert (state.granted, state.version, state.where) == (True, "kiosk-marketing-2026-12", "hub/front-desk")
    assert KEY.decrypt(state.email_enc, f"{second}:email") == "wang@example.com"
