"""Campaigns issue coupons once per member; the hub re-checks coupons on every member sale.

Members come from real terminal databases through the real ingest; every test
runs on SQLite and on PostgreSQL.
"""

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from hub.accounts import audit as owner_audit
from hub.campaigns import runs as campaigns
from hub.cli import main as hub_main
from hub.ingest.models import Sale
from hub.members import feed as member_feed
from hub.members import ledger as loyalty
from hub.members.models import CampaignRun, HubCoupon, HubMember
from kiosk.domain.cart import Cart
from kiosk.domain.loyalty import (
    Coupon,
    CouponKind,
    EarnContext,
    LoyaltyRules,
    MemberPayment,
    price_cart,
    sale_ledger,
)
from kiosk.domain.loyalty.campaigns import CampaignSpec, CouponTemplate, Target
from kiosk.domain.loyalty.coupons import coupon_from_dict
from kiosk.store import members
from kiosk.store.sales import PaymentIntent, Terminal, commit_sale
from tests.hub.members.test_loyalty import CONSENT, KEY, NOW, PHONE, RICE, TZ, ingest, on_terminal

MANJIAN = CouponTemplate(
    kind=CouponKind.THRESHOLD,
    name_zh="满100减20",
    name_en="¥20 off ¥100",
    min_spend_fen=10000,
    off_fen=2000,
    valid_from=dt.datetime(2026, 11, 20, tzinfo=TZ),
    valid_until=dt.datetime(2026, 12, 1, tzinfo=TZ),
)
WELCOME = CouponTemplate(kind=CouponKind.PERCENT, name_zh="新人9折", percent_off=10, valid_days=30)


@pytest.fixture(autouse=True)
def hub_rules() -> Iterator[None]:
    loyalty.configure(LoyaltyRules(), KEY)
    yield
    loyalty.configure(LoyaltyRules(), None)


def three_members(terminal: Terminal) -> None:
    """m-1 (born in November), m-2 (registered 20 days ago), m-3."""
    members.register_member(
        KEY, terminal, NOW, PHONE, CONSENT, birthday=dt.date(1990, 11, 5), member_id="m-1"
    )
    members.register_member(
        KEY, terminal, NOW - dt.timedelta(days=20), "13900000002", CONSENT, member_id="m-2"
    )
    members.register_member(KEY, terminal, NOW, "13900000003", CONSENT, member_id="m-3")


def spec(target: Target, coupon: CouponTemplate = MANJIAN) -> CampaignSpec:
    # no holdout: these tests count coupons per member (the holdout has tests/hub/jobs)
    return CampaignSpec(
        name_zh="会员日", name_en="Member day", coupon=coupon, target=target, holdout_percent=0
    )


def test_running_a_campaign_twice_issues_each_member_one_coupon(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ingest("K01", on_terminal(tmp_path, "K01", three_members))
    camp = campaigns.create_campaign(spec(Target(kind="all")), "owner", NOW, campaign_id="c-all")
    first = campaigns.run_campaign(camp, "owner", NOW, TZ)
    second = campaigns.run_campaign(camp, "manager", NOW + dt.timedelta(hours=1), TZ)
    assert (first.targeted, first.issued, second.targeted, second.issued) == (3, 3, 3, 0)
    assert sorted(c.member_id for c in HubCoupon.select()) == ["m-1", "m-2", "m-3"]
    [coupon] = campaigns.member_coupons("m-2")
    assert (coupon.name_zh, coupon.min_spend_fen, coupon.off_fen, coupon.member_id, coupon.used) == (
        "满100减20", 10000, 2000, "m-2", False
    )  # fmt: skip
    assert coupon.valid_until == dt.datetime(2026, 12, 1, tzinfo=TZ)
    assert [(r.by, r.targeted, r.issued) for r in CampaignRun.select().order_by(CampaignRun.id)] == [
        ("owner", 3, 3),
        ("manager", 3, 0),
    ]
    trail = [(a["by"], a["action"], a["detail"]) for a in owner_audit.trail("c-all")]
    assert trail == [
        ("owner", "campaign.create", {"name_zh": "会员日", "target": "all"}),
        ("owner", "campaign.run", {"held_out": 0, "issued": 3, "targeted": 3}),
        ("manager", "campaign.run", {"held_out": 0, "issued": 0, "targeted": 3}),
    ]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (Target(kind="birthday_month", month=11), ["m-1"]),
        (Target(kind="registered_within", days=7), ["m-1", "m-3"]),
        (Target(kind="tier", tier="gold"), ["m-3"]),
    ],
)
def test_targets_choose_members_from_the_hub_book(
    hub_db, tmp_path: Path, target: Target, expected: list[str]
) -> None:  # type: ignore[no-untyped-def]
    ingest("K01", on_terminal(tmp_path, "K01", three_members))
    HubMember.update(tier_code="gold").where(HubMember.id == "m-3").execute()
    camp = campaigns.create_campaign(spec(target), "owner", NOW)
    assert campaigns.run_campaign(camp, "owner", NOW, TZ).issued == len(expected)
    assert sorted(c.member_id for c in HubCoupon.select()) == expected


def test_birthday_campaign_without_the_key_is_refused_in_both_languages(hub_db) -> None:  # type: ignore[no-untyped-def]
    loyalty.configure(LoyaltyRules(), None)
    camp = campaigns.create_campaign(spec(Target(kind="birthday_month", month=11)), "owner", NOW)
    with pytest.raises(campaigns.CampaignError, match=r"business key .* / 缺少数据密钥"):
        campaigns.run_campaign(camp, "owner", NOW, TZ)
    assert CampaignRun.select().count() == 0


def test_a_member_registering_gets_the_welcome_coupon_once(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    campaigns.create_campaign(
        spec(Target(kind="at_registration"), WELCOME), "owner", NOW, campaign_id="c-new"
    )

    def two_stores_same_phone(terminal: Terminal) -> None:
        members.register_member(KEY, terminal, NOW, PHONE, CONSENT, member_id="m-1")

    ingest("K01", on_terminal(tmp_path, "K01", two_stores_same_phone))
    later = on_terminal(tmp_path, "K02", lambda t: members.register_member(
        KEY, t, NOW + dt.timedelta(hours=1), PHONE, CONSENT, member_id="m-2"))  # fmt: skip
    ingest("K02", later)
    assert HubMember.get_by_id("m-2").merged_into == "m-1"
    [coupon] = campaigns.member_coupons("m-1")
    assert (coupon.kind, coupon.percent_off, coupon.valid_from, coupon.valid_until) == (
        CouponKind.PERCENT, 10, NOW, NOW + dt.timedelta(days=30)
    )  # fmt: skip
    assert campaigns.member_coupons("m-2") == []
    with pytest.raises(campaigns.CampaignError, match="注册礼券在会员注册时自动发放"):
        campaigns.run_campaign("c-new", "owner", NOW, TZ)


def sell_with(
    terminal: Terminal, sale_id: str, coupon: Coupon, quantity: int, member_id: str = "m-1"
) -> None:
    """Sell ``quantity`` x rice with ``coupon`` as the terminal holds it; cash for the rest."""
    members.add_coupon(coupon)
    cart = Cart().add(RICE, quantity)
    priced = price_cart(cart, (coupon,), NOW, member_id)
    stamp = members.new_stamp(terminal, NOW)
    earned, entries = sale_ledger(
        member_id, sale_id, priced, MemberPayment(), LoyaltyRules(), EarnContext(day=NOW.date()), stamp
    )
    sale = members.MemberSale(member_id, sale_id, priced, tuple(entries), earned.points)
    commit_sale(cart, [PaymentIntent("cash", priced.total_fen)], terminal, NOW, sale_id, member=sale)


def held_coupons(member_id: str, device: str) -> list[dict[str, Any]]:
    """The coupons ``device`` receives with ``member_id``'s state."""
    [state] = member_feed.member_states([HubMember.get_by_id(member_id)], device)
    return list(state["coupons"])


def issued_to_m1(hub_db, tmp_path: Path) -> Coupon:  # type: ignore[no-untyped-def]
    ingest("K01", on_terminal(tmp_path, "K01", three_members))
    camp = campaigns.create_campaign(spec(Target(kind="all")), "owner", NOW)
    campaigns.run_campaign(camp, "owner", NOW, TZ)
    [coupon] = campaigns.member_coupons("m-1")
    return coupon


def test_a_coupon_used_as_issued_raises_nothing_and_is_marked_used(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    coupon = issued_to_m1(hub_db, tmp_path)
    [sent] = held_coupons("m-1", "K02")  # the terminal learns it with the member
    assert coupon_from_dict(sent["body"]) == coupon
    assert sent["used_sale_id"] is None
    ingest("K02", on_terminal(tmp_path, "K02", lambda t: sell_with(t, "s-1", coupon, 2)))
    assert loyalty.open_items() == []
    [sent] = held_coupons("m-1", "K02")  # terminals learn it is used
    assert sent["used_sale_id"] == "s-1"
    assert HubCoupon.get_by_id(coupon.id).used_sale_id == "s-1"
    assert campaigns.member_coupons("m-1")[0].used is True


def test_a_stale_coupon_copy_is_reported_and_the_sale_still_booked(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    coupon = issued_to_m1(hub_db, tmp_path)
    stale = dataclasses.replace(coupon, min_spend_fen=5000)  # the terminal's copy says 满50减20
    ingest("K02", on_terminal(tmp_path, "K02", lambda t: sell_with(t, "s-1", stale, 1)))
    [item] = loyalty.open_items()
    assert (item["kind"], item["sale_id"], item["device"], item["expected"], item["got"]) == (
        "coupon_terms", "s-1", "K02", 0, 2000
    )  # fmt: skip
    assert item["detail"] == f"coupon {coupon.id}: 满100减20: minimum spend not reached / 未达到使用门槛"
    assert Sale.get_by_id("s-1").total_fen == 3000
    assert loyalty.member_balances("m-1") == {"points": 30}


def test_someone_elses_coupon_and_a_second_use_elsewhere_are_both_reported(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    coupon = issued_to_m1(hub_db, tmp_path)
    ingest("K02", on_terminal(tmp_path, "K02", lambda t: sell_with(t, "s-1", coupon, 2)))
    borrowed = dataclasses.replace(coupon, member_id="m-2")  # offline at K03, shown by another member
    ingest("K03", on_terminal(tmp_path, "K03", lambda t: sell_with(t, "s-2", borrowed, 2, "m-2")))
    items = [(i["kind"], i["sale_id"], i["device"], i["expected"], i["got"]) for i in loyalty.open_items()]
    assert items == [("coupon_terms", "s-2", "K03", 0, 2000), ("coupon_double_use", "s-2", "K03", None, None)]
    assert loyalty.open_items("coupon_terms")[0]["detail"].endswith(
        "belongs to another member / 非本人优惠券"
    )
    assert HubCoupon.get_by_id(coupon.id).used_sale_id == "s-1"


def test_campaign_cli_creates_lists_and_runs(hub_db_url: str, tmp_path: Path) -> None:
    from hub.db.schema import open_hub_database

    open_hub_database(hub_db_url)
    ingest("K01", on_terminal(tmp_path, "K01", three_members))
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(spec(Target(kind="all")).model_dump_json(), encoding="utf-8")
    runner = CliRunner()
    created = runner.invoke(
        hub_main, ["campaign", "create", str(spec_file), "--by", "owner", "--db", hub_db_url]
    )
    assert created.exit_code == 0, created.output
    camp = created.output.strip()
    ran = runner.invoke(hub_main, ["campaign", "run", camp, "--by", "owner", "--db", hub_db_url])
    assert ran.output == "targeted 3 members, issued 3 new coupons\n"
    again = runner.invoke(hub_main, ["campaign", "run", camp, "--by", "owner", "--db", hub_db_url])
    assert again.output == "targeted 3 members, issued 0 new coupons\n"
    shown = runner.invoke(hub_main, ["member", "show", "m-2", "--db", hub_db_url]).output.splitlines()
    assert shown[1:] == ["  coupon: 满100减20 (valid until 2026-12-01T00:00+08:00)"]
    listed = runner.invoke(hub_main, ["campaign", "list", "--db", hub_db_url])
    assert listed.output == f"{camp}  all  issued=3 used=0  会员日\n"
    broken = {"name_zh": "坏", "coupon": {"kind": "threshold", "name_zh": "券"}, "target": {"kind": "tag"}}
    spec_file.write_text(json.dumps(broken, ensure_ascii=False), encoding="utf-8")
    bad = runner.invoke(hub_main, ["campaign", "create", str(spec_file), "--by", "owner", "--db", hub_db_url])
    assert bad.exit_code == 1
    assert bad.output == (
        f"Error: {spec_file}: not a valid campaign / 活动定义有误:\n"
        "coupon: give valid_from and valid_until, or valid_days (not both) / 请设置有效期\n"
        "target: target tag needs its value / 请填写目标条件\n"
    )
    missing = runner.invoke(hub_main, ["campaign", "run", "nope", "--by", "owner", "--db", hub_db_url])
    assert (missing.exit_code, missing.output) == (1, "Error: no campaign nope / 活动不存在\n")


def test_campaign_api_creates_runs_and_shows_coupons(hub_db, tmp_path: Path, signed_in) -> None:  # type: ignore[no-untyped-def]

    from hub.web.app import create_app

    ingest("K01", on_terminal(tmp_path, "K01", three_members))
    client = signed_in(create_app(TZ))
    body = {**spec(Target(kind="tier", tier="gold")).model_dump(mode="json"), "by": "owner"}
    HubMember.update(tier_code="gold").where(HubMember.id.in_(["m-1", "m-3"])).execute()
    camp = client.post("/api/v1/campaigns", json=body).json()["id"]
    assert client.post(f"/api/v1/campaigns/{camp}/run", json={"by": "owner"}).json() == {
        "campaign_id": camp, "targeted": 2, "issued": 2, "held_out": 0
    }  # fmt: skip
    assert client.post(f"/api/v1/campaigns/{camp}/run", json={"by": "owner"}).json()["issued"] == 0
    runs = client.get(f"/api/v1/campaigns/{camp}/runs").json()
    assert [(r["by"], r["targeted"], r["issued"]) for r in runs] == [("owner", 2, 2), ("owner", 2, 0)]
    [listed] = client.get("/api/v1/campaigns").json()
    assert (listed["issued"], listed["used"], listed["spec"]["target"]) == (
        2, 0, {"kind": "tier", "tier": "gold", "tag": "", "month": 0, "days": 0}
    )  # fmt: skip
    [coupon] = client.get("/api/v1/members/m-3/coupons").json()
    assert (coupon["off_fen"], coupon["min_spend_fen"], coupon["member_id"], coupon["used"]) == (
        2000,
        10000,
        "m-3",
        False,
    )
    assert client.get("/api/v1/members/m-2/coupons").json() == []
    assert client.get("/api/v1/members/nobody/coupons").status_code == 404
    bad = client.post("/api/v1/campaigns", json={**body, "target": {"kind": "tag"}})
    assert bad.status_code == 422 and "请填写目标条件" in bad.text
    assert client.post("/api/v1/campaigns/nope/run", json={"by": "owner"}).status_code == 404
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        "/api/v1/campaigns",
        "/api/v1/campaigns/{campaign_id}/run",
        "/api/v1/members/{member_id}/coupons",
    } <= set(paths)


def test_discounts_that_do_not_fit_the_lines_are_reported_and_the_sale_booked(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from kiosk.sync.schema import make_event

    coupon = issued_to_m1(hub_db, tmp_path)
    [event] = [
        e for e in on_terminal(tmp_path, "K02", lambda t: sell_with(t, "s-1", coupon, 2)) if e["seq"] == 1
    ]
    tier = {"source": "tier", "label_zh": "会员折扣 5%", "amount_fen": 0, "per_line": []}  # no share per line
    data = {**event["data"], "discounts": [tier, *event["data"]["discounts"]]}
    forged = make_event(
        event_id=event["id"], device="K02", seq=1, boot=event["boot"], ts=event["ts"], type=event["type"],
        prev=event["prev"], data=data,
    )  # fmt: skip
    assert ingest("K02", [forged]).rejected == []
    [item] = loyalty.open_items("coupon_terms")
    assert item["detail"] == (
        f"coupon {coupon.id}: could not re-check: discounts do not fit the lines (list index out of range)"
    )
    assert Sale.get_by_id("s-1").total_fen == 8000


def test_a_paused_campaign_neither_runs_nor_welcomes(hub_db, tmp_path: Path, signed_in) -> None:  # type: ignore[no-untyped-def]

    from hub.web.app import create_app

    client = signed_in(create_app(TZ))
    campaigns.create_campaign(
        spec(Target(kind="at_registration"), WELCOME), "owner", NOW, campaign_id="c-new"
    )
    campaigns.create_campaign(spec(Target(kind="all")), "owner", NOW, campaign_id="c-all")
    for camp in ("c-new", "c-all"):
        paused = client.post(f"/api/v1/campaigns/{camp}/active", json={"active": False, "by": "amy"})
        assert paused.json() == {"campaign_id": camp, "active": False}
    ingest("K01", on_terminal(tmp_path, "K01", three_members))
    assert HubCoupon.select().count() == 0
    refused = client.post("/api/v1/campaigns/c-all/run", json={"by": "amy"})
    assert (refused.status_code, refused.json()["detail"]) == (
        409,
        "campaign c-all is paused: resume it first / 活动已暂停，请先启用",
    )
    client.post("/api/v1/campaigns/c-all/active", json={"active": True, "by": "amy"})
    assert client.post("/api/v1/campaigns/c-all/run", json={"by": "amy"}).json()["issued"] == 3
    assert [a["action"] for a in owner_audit.trail("c-all")] == [
        "campaign.create", "campaign.pause", "campaign.activate", "campaign.run"
    ]  # fmt: skip
    assert client.post("/api/v1/campaigns/nope/active", json={"active": True, "by": "amy"}).status_code == 404


def test_a_stores_welcome_coupon_goes_only_to_members_who_join_there(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    welcome = spec(Target(kind="at_registration"), WELCOME)
    campaigns.create_campaign(welcome, "manager-S01", NOW, campaign_id="c-s01", stores=frozenset({"S01"}))
    campaigns.create_campaign(welcome, "manager-S02", NOW, campaign_id="c-s02", stores=frozenset({"S02"}))
    ingest("K01", on_terminal(tmp_path, "K01", three_members))  # a terminal of S01
    issued = HubCoupon.select(HubCoupon.campaign_id, HubCoupon.member_id).order_by(HubCoupon.member_id)
    assert list(issued.tuples()) == [("c-s01", "m-1"), ("c-s01", "m-2"), ("c-s01", "m-3")]
    HubMember.update(home_store="S02").where(HubMember.id == "m-3").execute()
    everyone = campaigns.create_campaign(
        spec(Target(kind="all")), "manager-S02", NOW, stores=frozenset({"S02"})
    )
    assert campaigns.run_campaign(everyone, "manager-S02", NOW, TZ) == campaigns.RunResult(everyone, 1, 1, 0)
    assert [c.member_id for c in HubCoupon.select().where(HubCoupon.campaign_id == everyone)] == ["m-3"]
