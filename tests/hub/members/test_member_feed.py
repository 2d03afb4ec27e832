"""The hub's member feed: member versions, snapshot pages over HTTP, deltas for subscribed terminals."""

import base64
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hub.api.member_snapshot import DeviceAuth
from hub.fleet.broker_config import password_line
from hub.members import downlink as member_downlink
from hub.members import feed as member_feed
from hub.members import ledger as loyalty
from hub.members.models import HubMember
from hub.web.app import create_app
from kiosk.domain.loyalty import POINTS, PRINCIPAL, LoyaltyRules
from kiosk.store import members
from kiosk.store.sales import Terminal
from tests.hub.members.test_loyalty import CONSENT, KEY, NOW, PHONE, SV, TZ, grant, ingest, on_terminal

PASSWORD = "k02-password-0123456789"


@pytest.fixture(autouse=True)
def hub_rules() -> Iterator[None]:
    loyalty.configure(LoyaltyRules(), KEY)
    yield
    loyalty.configure(LoyaltyRules(), None)


@pytest.fixture
def api(hub_db, tmp_path: Path) -> TestClient:  # type: ignore[no-untyped-def]
    passwd = tmp_path / "passwd"
    passwd.write_text(
        password_line("K02", PASSWORD) + "\n" + password_line("K03", "other-password-xyz") + "\n"
    )
    return TestClient(create_app(TZ, device_auth=DeviceAuth(passwd)))


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def first_store(terminal: Terminal) -> None:
    """m-1 registers at K01 with a card, gets 100 points, tops up ¥100."""
    members.register_member(KEY, terminal, NOW, PHONE, CONSENT, member_id="m-1", name="张三")
    members.link_card(terminal, NOW, "m-1", "04A1")
    grant(terminal, "m-1", 100)
    members.top_up_stored_value(terminal, NOW, "m-1", 5000, SV, "staff-7")


def register(member_id: str, phone: str):  # type: ignore[no-untyped-def]
    def work(terminal: Terminal) -> None:
        members.register_member(KEY, terminal, NOW, phone, CONSENT, member_id=member_id)

    return work


def test_every_member_change_bumps_the_member_version(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert member_feed.current_version() == 0
    events = on_terminal(tmp_path, "K01", first_store)
    ingest("K01", events)
    # registration, card link, the points grant, the top-up: four changes of m-1
    assert member_feed.current_version() == 4
    assert member_feed.MemberVersion.get_by_id("m-1").version == 4
    ingest("K01", events)  # the same events again: duplicates change nothing
    assert member_feed.current_version() == 4
    with member_feed.database.atomic():
        loyalty.erase_member("m-1", NOW)
    assert (member_feed.current_version(), member_feed.MemberVersion.get_by_id("m-1").version) == (5, 5)


def test_a_merge_bumps_both_members(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ingest("K01", on_terminal(tmp_path, "K01", register("m-1", PHONE)))
    ingest("K02", on_terminal(tmp_path, "K02", register("m-2", PHONE)))  # same phone: merged into m-1
    versions = {row.member_id: row.version for row in member_feed.MemberVersion.select()}
    assert versions == {"m-1": 3, "m-2": 4}  # m-2 registered (2), then merge: survivor (3), duplicate (4)
    assert HubMember.get_by_id("m-2").merged_into == "m-1"


def test_snapshot_holds_what_a_terminal_needs_cut_at_its_own_ledger(api: TestClient, tmp_path: Path) -> None:
    ingest("K01", on_terminal(tmp_path, "K01", first_store))
    page = api.get("/api/v1/devices/K02/members", headers=basic("K02", PASSWORD)).json()
    [state] = page["members"]
    member = HubMember.get_by_id("m-1")
    assert (page["v"], page["version"], page["next"]) == (1, 4, None)
    assert state == {
        "id": "m-1",
        "version": 4,
        "erased": False,
        "member": {
            "id": "m-1",
            "phone_index": KEY.blind_index("+8613812341234"),
            "phone_enc": member.phone_enc,
            "name_enc": member.name_enc,
            "birthday_enc": "",
            "gender": "",
            "tier_code": "",
            "tier_grace_until": None,
            "home_store": "S01",
            "source": "kiosk",
            "consent_version": "privacy-2026-01",
            "consent_at": member.consent_at,
            "consent_where": "kiosk",
            "created_at": member.created_at,
            "merged_into": None,
            "pin_hash": "",
            "data_key": "",  # a hub without a key store keeps the member under the business key
        },
        "cards": [
            {"uid": "04A1", "member_id": "m-1", "kind": "nfc", "linked_at": "2026-11-24T15:30:00.000+08:00"}
        ],
        "coupons": [],
        "balances": {POINTS: 100, PRINCIPAL: 5000},
        "through_seq": 0,  # K02 wrote no entry
    }
    # K01's own snapshot is cut at its ledger head: 2 entries (grant, top-up), both counted
    cut = member_feed.member_states([member], "K01")[0]
    assert (cut["through_seq"], cut["balances"]) == (2, {POINTS: 100, PRINCIPAL: 5000})
    # the cut leaves out K01's entries the head does not cover (booked after the head was read)
    assert member_feed.balances_through(["m-1"], "K01", 1) == {"m-1": {POINTS: 100}}


def test_snapshot_pages_by_member_id(api: TestClient, tmp_path: Path) -> None:
    for n in range(5):
        ingest(f"K1{n}", on_terminal(tmp_path, f"K1{n}", register(f"m-{n}", f"1381234123{n}")))
    seen, after, pages, totals = [], "", 0, []
    while True:
        url = f"/api/v1/devices/K02/members?limit=2&after={after}"
        page = api.get(url, headers=basic("K02", PASSWORD)).json()
        pages += 1
        seen += [m["id"] for m in page["members"]]
        totals.append(page.get("total"))
        if page["next"] is None:
            break
        after = page["next"]
    assert (seen, pages) == (["m-0", "m-1", "m-2", "m-3", "m-4"], 3)
    assert totals == [5, None, None]  # the first page says how many to expect


def test_snapshot_needs_the_devices_own_broker_password(api: TestClient, tmp_path: Path) -> None:
    url = "/api/v1/devices/K02/members"
    no_auth = api.get(url)
    assert no_auth.status_code == 401 and no_auth.headers["www-authenticate"].startswith("Basic")
    assert "需要终端账号密码" in no_auth.json()["detail"]
    wrong = api.get(url, headers=basic("K02", "not-the-password"))
    assert (wrong.status_code, wrong.json()["detail"]) == (
        401,
        "wrong device id or password / 终端编号或密码错误",
    )
    assert api.get(url, headers=basic("K03", "other-password-xyz")).status_code == 403
    assert api.get(url, headers=basic("K09", PASSWORD)).status_code == 401  # not in the password file
    assert member_feed.MemberSubscriber.select().count() == 0
    assert api.get(url, headers=basic("K02", PASSWORD)).status_code == 200
    assert [s.device for s in member_feed.MemberSubscriber.select()] == ["K02"]
    unconfigured = TestClient(create_app(TZ)).get(url, headers=basic("K02", PASSWORD))
    assert unconfigured.status_code == 503


def test_deltas_reach_subscribers_once_from_the_published_position(api: TestClient, tmp_path: Path) -> None:
    sent: list[tuple[str, dict[str, Any]]] = []

    def capture(topic: str, payload: bytes) -> None:
        sent.append((topic, json.loads(payload)))

    ingest("K01", on_terminal(tmp_path, "K01", register("m-1", PHONE)))
    assert member_downlink.publish_due(capture) == 1 and sent == []  # nobody subscribed yet: nothing sent
    api.get("/api/v1/devices/K02/members", headers=basic("K02", PASSWORD))
    ingest("K01", on_terminal(tmp_path, "K01", lambda t: grant(t, "m-1", 30)))
    assert member_downlink.publish_due(capture) == 2
    assert member_downlink.publish_due(capture) == 2  # nothing new: nothing sent again
    [(topic, delta)] = sent
    assert (topic, delta["v"], delta["from"], delta["to"]) == ("pos/K02/down/members", 1, 1, 2)
    assert [(m["id"], m["version"], m["balances"]) for m in delta["members"]] == [("m-1", 2, {POINTS: 30})]
    with member_feed.database.atomic():
        loyalty.erase_member("m-1", dt.datetime.now(dt.UTC))
    member_downlink.publish_due(capture)
    assert sent[-1][1]["members"] == [{"id": "m-1", "version": 3, "erased": True}]
    assert (sent[-1][1]["from"], sent[-1][1]["to"]) == (2, 3)


def test_a_big_change_is_split_into_messages_of_limited_size(api: TestClient, tmp_path: Path) -> None:
    api.get("/api/v1/devices/K02/members", headers=basic("K02", PASSWORD))
    for n in range(5):
        ingest(f"K1{n}", on_terminal(tmp_path, f"K1{n}", register(f"m-{n}", f"1381234123{n}")))
    sent: list[dict[str, Any]] = []
    while member_downlink.publish_due(lambda _t, p: sent.append(json.loads(p)), limit=2) < 5:
        pass
    assert [(d["from"], d["to"], [m["id"] for m in d["members"]]) for d in sent] == [
        (0, 2, ["m-0", "m-1"]),
        (2, 4, ["m-2", "m-3"]),
        (4, 5, ["m-4"]),
    ]


def test_device_add_issues_the_hub_url_and_a_password_the_snapshot_login_accepts(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from hub.commands.device import device
    from kiosk.config import load_config

    args = ["add", "--store", "s-001", "--name", "Till", "--broker-host", "hub.lan", "--id", "d-0a0b0c",
            "--hub-url", "http://hub.lan:8080", "--data", str(tmp_path / "hub"),
            "--broker-dir", str(tmp_path / "broker"), "--no-reload"]  # fmt: skip
    result = CliRunner().invoke(device, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    config = load_config(tmp_path / "hub/devices/d-0a0b0c/kiosk.toml")
    assert config.broker.hub_url == "http://hub.lan:8080"
    # the password file was written by Mosquitto's own mosquitto_passwd: our check reads its format
    auth = DeviceAuth(tmp_path / "broker/passwd")
    assert auth.check("d-0a0b0c", config.broker.password)
    assert not auth.check("d-0a0b0c", config.broker.password + "x")
    assert not auth.check("d-ffffff", config.broker.password)


def test_a_pin_change_that_arrives_after_the_erasure_is_not_stored(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    events = on_terminal(tmp_path, "K01", first_store)
    ingest("K01", events)
    with member_feed.database.atomic():
        loyalty.erase_member("m-1", NOW)
    late = on_terminal(tmp_path, "K01", lambda t: members.set_pin(t, NOW, "m-1", "2468"))
    ingest("K01", late[len(events) :])
    assert HubMember.get_by_id("m-1").pin_hash == ""
    assert member_feed.current_version() == 5  # the erasure was the last change


def test_a_campaign_coupon_reaches_terminals_with_the_member(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from hub.campaigns import runs as campaigns
    from kiosk.domain.loyalty import CouponKind
    from kiosk.domain.loyalty.campaigns import CampaignSpec, CouponTemplate, Target

    ingest("K01", on_terminal(tmp_path, "K01", register("m-1", PHONE)))
    template = CouponTemplate(kind=CouponKind.PERCENT, name_zh="会员日9折", percent_off=10, valid_days=7)
    spec = CampaignSpec(name_zh="会员日", coupon=template, target=Target(kind="all"), holdout_percent=0)
    camp = campaigns.create_campaign(spec, "owner", NOW, campaign_id="c-day")
    assert campaigns.run_campaign(camp, "owner", NOW, TZ).issued == 1
    assert member_feed.current_version() == 2  # registration, then the coupon
    [state] = member_feed.member_states([HubMember.get_by_id("m-1")], "K02")
    [held] = state["coupons"]
    assert (held["body"]["member_id"], held["body"]["name_zh"], held["used_sale_id"]) == (
        "m-1",
        "会员日9折",
        None,
    )
    assert held["body"]["percent_off"] == 10


def test_member_versions_commit_in_the_order_they_are_handed_out(hub_db) -> None:  # type: ignore[no-untyped-def]
    import threading
    import time

    from hub.db import transaction

    first_touched, seen = threading.Event(), {}

    def slow_change() -> None:
        with transaction():
            seen["first"] = member_feed.touch("m-1")
            first_touched.set()
            time.sleep(0.5)  # still uncommitted: a second change must wait behind it
            seen["committing"] = time.monotonic()

    writer = threading.Thread(target=slow_change)
    writer.start()
    first_touched.wait(5)
    with transaction():
        seen["second"] = member_feed.touch("m-2")
        seen["second_at"] = time.monotonic()
    writer.join(5)
    assert (seen["first"], seen["second"]) == (1, 2)
    assert seen["second_at"] > seen["committing"]  # it waited for the first change's commit
