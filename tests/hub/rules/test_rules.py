"""The owner's loyalty rules at the hub: stored versioned and audited, refused whole when wrong,
served at /api/v1, set from the CLI, put into config releases, and used to check sales,
including sales a terminal made under the previous version."""

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from hub.accounts import audit as owner_audit
from hub.catalog import releases as catalog
from hub.cli import main as hub_main
from hub.fleet.presence import DeviceStatus
from hub.ingest.batch import ingest_batch
from hub.members import ledger as loyalty
from hub.members.book import settings
from hub.members.models import Reconciliation
from hub.rules import store as rules_store
from hub.web.app import create_app
from kiosk.domain.cart import Cart, Product
from kiosk.domain.loyalty import EarnContext, LoyaltyRules, MemberPayment, price_cart, sale_ledger
from kiosk.domain.loyalty.rules import EarnRule
from kiosk.store.pii import PiiKey
from kiosk.sync.schema import batch
from tests.sync.harness import TZ

NOW = dt.datetime(2026, 11, 24, 15, 30, tzinfo=TZ)
KEY = PiiKey(bytes(range(32)))
RICE = Product("rice", "6900000000011", "大米 5kg", "Rice 5 kg", 5000, "food")

LADDER = {
    "basis": "spend",
    "window_months": 12,
    "tiers": [
        {"code": "normal", "name_zh": "普通", "name_en": "Member", "threshold": 0},
        {"code": "silver", "name_zh": "银卡", "name_en": "Silver", "threshold": 100000,
         "discount_percent": 2},
        {"code": "gold", "name_zh": "金卡", "name_en": "Gold", "threshold": 300000, "discount_percent": 5,
         "points_multiplier": 150},
        {"code": "diamond", "name_zh": "钻石", "name_en": "Diamond", "threshold": 800000,
         "discount_percent": 10, "points_multiplier": 200, "birthday_gift_points": 500},
    ],
}  # fmt: skip


def rules_body(points_per_yuan: int = 1) -> dict[str, Any]:
    return {"earn": {"points_per_yuan": points_per_yuan}, "tiers": LADDER}


@pytest.fixture(autouse=True)
def reset_rules() -> Iterator[None]:
    yield
    loyalty.configure(LoyaltyRules(), None)


def test_saved_rules_are_versioned_and_audited(hub_db) -> None:  # type: ignore[no-untyped-def]
    assert rules_store.current() == (0, LoyaltyRules())
    assert rules_store.save_rules(rules_body(1), "owner", NOW) == 1
    assert rules_store.save_rules(rules_body(3), "amy", NOW + dt.timedelta(hours=1)) == 2
    version, rules = rules_store.current()
    assert (version, rules.earn.points_per_yuan, [t.name_zh for t in rules.tiers.tiers]) == (
        2,
        3,
        ["普通", "银卡", "金卡", "钻石"],
    )
    assert [(h["version"], h["by"]) for h in rules_store.history()] == [(1, "owner"), (2, "amy")]
    audit = [(a["by"], a["action"], a["detail"]) for a in owner_audit.trail("loyalty_rules")]
    assert audit == [("owner", "rules.saved", {"version": 1}), ("amy", "rules.saved", {"version": 2})]


def test_bad_rules_are_refused_naming_each_field_and_nothing_is_saved(hub_db) -> None:  # type: ignore[no-untyped-def]
    bad = {"earn": {"points_per_yuan": -1, "pionts": 2}, "tiers": {**LADDER, "tiers": LADDER["tiers"][::-1]}}
    with pytest.raises(rules_store.RulesRefused) as refused:
        rules_store.save_rules(bad, "owner", NOW)
    assert refused.value.problems == [
        "earn.points_per_yuan: 数值太小 (0) / is too small (0)",
        "earn.pionts: 不认识此项（拼写错误？） / is not a known field (a typo?)",
        "tiers: 等级门槛必须从 0 开始并逐级升高 / tiers must start at threshold 0 and strictly ascend",
    ]
    assert str(refused.value).startswith(
        "积分规则有误，未保存 / rules refused, nothing saved: earn.points_per_yuan"
    )
    with pytest.raises(rules_store.RulesRefused, match="by: 必须写明是谁修改 / must say who made the change"):
        rules_store.save_rules(rules_body(), " ", NOW)
    assert rules_store.StoredRules.select().count() == 0
    assert owner_audit.trail("loyalty_rules") == []


def test_api_reads_and_writes_rules_and_serves_the_tier_ladder(hub_db, signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(create_app(TZ))
    assert client.get("/api/v1/rules/versions").json() == {"version": 0, "history": []}
    saved = client.put("/api/v1/rules", json={"rules": rules_body(2), "by": "owner"})
    assert (saved.status_code, saved.json()) == (200, {"version": 1})
    assert client.get("/api/v1/rules").json()["earn"]["points_per_yuan"] == 2
    versions = client.get("/api/v1/rules/versions").json()
    assert (versions["version"], [(h["version"], h["by"]) for h in versions["history"]]) == (
        1,
        [(1, "owner")],
    )
    assert client.get("/api/v1/tiers").json()[2] == {
        "code": "gold",
        "name_zh": "金卡",
        "name_en": "Gold",
        "threshold": 300000,
        "discount_percent": 5,
        "points_multiplier": 150,
        "birthday_gift_points": 0,
    }
    refused = client.put(
        "/api/v1/rules", json={"rules": {"redeem": {"max_share_percent": 120}}, "by": "owner"}
    )
    assert refused.status_code == 422
    assert refused.json()["detail"]["problems"] == [
        "redeem.max_share_percent: 数值太大 (100) / is too large (100)"
    ]
    assert client.put("/api/v1/rules", json={"rules": rules_body()}).status_code == 422  # no "by"
    assert client.get("/api/v1/rules/versions").json()["version"] == 1
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths["/api/v1/rules"]) == {"get", "put"} and "get" in paths["/api/v1/tiers"]


def test_cli_sets_and_shows_rules_and_refuses_a_bad_file(tmp_path: Path, hub_db_url: str) -> None:
    runner = CliRunner()
    good, bad = tmp_path / "rules.json", tmp_path / "bad.json"
    good.write_text(json.dumps(rules_body(2), ensure_ascii=False), encoding="utf-8")
    bad.write_text('{"expiry": {"months": "twelve"}}', encoding="utf-8")
    result = runner.invoke(
        hub_main, ["rules", "set", "--file", str(good), "--by", "owner", "--db", hub_db_url]
    )
    assert result.output == "规则版本 1 已保存 / rules version 1 saved; publish with `hub config publish`\n"
    result = runner.invoke(
        hub_main, ["rules", "set", "--file", str(bad), "--by", "owner", "--db", hub_db_url]
    )
    assert result.exit_code == 1
    assert "expiry.months: 必须是整数 / must be a whole number" in result.output
    shown = json.loads(runner.invoke(hub_main, ["rules", "show", "--db", hub_db_url]).output)
    assert (shown["version"], shown["rules"]["earn"]["points_per_yuan"]) == (1, 2)


def test_config_release_carries_the_stored_rules_with_their_version(hub_db) -> None:  # type: ignore[no-untyped-def]
    assert catalog.new_release(NOW).rules == {}  # never saved: terminals keep the defaults
    rules_store.save_rules(rules_body(3), "owner", NOW)
    release = catalog.new_release(NOW)
    assert release.rules["version"] == 1
    assert LoyaltyRules.model_validate(release.rules["rules"]) == rules_store.current()[1]


def test_each_worker_reloads_the_rules_when_a_new_version_is_saved(hub_db) -> None:  # type: ignore[no-untyped-def]
    assert rules_store.refresh() == 0 and settings.rules == LoyaltyRules()
    rules_store.save_rules(rules_body(3), "owner", NOW)  # as another process would
    assert settings.rules.earn.points_per_yuan == 1
    assert rules_store.refresh() == 1
    assert (settings.rules_version, settings.rules.earn.points_per_yuan) == (1, 3)


def _sale_events(
    work: Path,
    device: str,
    phone: str,
    when: dt.datetime,
    points_per_yuan: int,
    rules_version: int | None = None,
) -> list[Any]:
    """A new member on a fresh terminal buys one bag of rice (¥50 cash) earning by ``points_per_yuan``;
    the sale states ``rules_version`` (None: it does not, as from an older terminal)."""
    from kiosk.store import members, open_database, outbox
    from kiosk.store.sales import PaymentIntent, Terminal, commit_sale

    db = open_database(work / f"{device}.db")
    try:
        terminal = Terminal(store="S01", device=device, boot=f"{device}-boot")
        consent = members.Consent(version="v1", where=device)
        member = members.register_member(KEY, terminal, when, phone, consent).member
        cart = Cart().add(RICE, 1)
        rules = LoyaltyRules(earn=EarnRule(points_per_yuan=points_per_yuan))
        priced = price_cart(cart, (), when, member.id)
        stamp = members.new_stamp(terminal, when)
        earned, entries = sale_ledger(
            member.id, f"s-{device}", priced, MemberPayment(), rules, EarnContext(day=when.date()), stamp
        )
        sale = members.MemberSale(
            member.id, f"s-{device}", priced, tuple(entries), earned.points, rules_version=rules_version
        )
        commit_sale(cart, [PaymentIntent("cash", 5000)], terminal, when, f"s-{device}", member=sale)
        return outbox.pending(limit=100)
    finally:
        db.close()


def test_a_sale_is_checked_against_the_version_its_terminal_could_have_run(
    hub_db,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    day = dt.timedelta(days=1)
    rules_store.save_rules(rules_body(1), "owner", NOW - 3 * day)  # v1: 1 point per yuan
    rules_store.save_rules(rules_body(3), "owner", NOW - 2 * day)  # v2: 3
    rules_store.save_rules(rules_body(2), "owner", NOW - day)  # v3: 2 (in force now)
    catalog.Release.create(version=7, issued_at="", body=json.dumps({"rules": {"version": 1}}))
    DeviceStatus.create(device="K5", config_version=7)  # K5 last reported running rules v1
    sales = {  # device: (sale time, the rate its terminal ran)
        "K1": (NOW, 2),  # the rules in force
        "K2": (NOW, 3),  # the version just before: the new release had not reached it yet
        "K3": (NOW, 1),  # two versions back, and K1 never said it ran them
        "K4": (NOW - 2 * day - dt.timedelta(hours=12), 3),  # v2 before the owner saved it
        "K5": (NOW, 1),  # two versions back, but K5 reported running them
        "K6": (NOW, 5),  # no version ever had 5
    }
    for n, (device, (when, rate)) in enumerate(sales.items()):
        events = _sale_events(tmp_path, device, f"1380000000{n}", when, rate)
        ingest_batch(f"pos/{device}/up/events", batch(device, events), NOW, TZ)
    items = [
        (r.device, r.expected, r.got)
        for r in Reconciliation.select().where(Reconciliation.kind == "earn_mismatch")
    ]
    assert sorted(items) == [("K3", 100, 50), ("K4", 50, 150), ("K6", 100, 250)]


def test_a_sale_stating_its_rules_version_is_checked_with_exactly_that_version(
    hub_db,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    from hub.members.models import HubLedgerEntry, MemberSale

    day = dt.timedelta(days=1)
    rules_store.save_rules(rules_body(1), "owner", NOW - 3 * day)  # v1: 1 point per yuan
    rules_store.save_rules(rules_body(3), "owner", NOW - 2 * day)  # v2: 3
    rules_store.save_rules(rules_body(2), "owner", NOW - day)  # v3: 2 (in force now)
    sales = {  # device: (the rate its terminal ran, the version its sale states)
        "K1": (3, 2),  # priced under v2, reaches the hub after v3 was saved
        "K2": (1, 1),  # v1: two versions back, which the old guess would have flagged
        "K3": (1, 0),  # the built-in defaults (1 point per yuan)
        "K4": (3, 3),  # says v3 but earned 3 per yuan: v3 gives 2
        "K5": (2, 9),  # a version the hub does not have
        "K6": (2, None),  # an older terminal: no rules_version, checked against the candidates
    }
    for n, (device, (rate, version)) in enumerate(sales.items()):
        events = _sale_events(tmp_path, device, f"1380000000{n}", NOW, rate, version)
        data = next(e["data"] for e in events if e["type"] == "sale.completed")
        assert data.get("rules_version") == version
        result = ingest_batch(f"pos/{device}/up/events", batch(device, events), NOW, TZ)
        assert result is not None and result.rejected == []
    found = Reconciliation.select().order_by(Reconciliation.id)
    items = [(r.kind, r.device, r.expected, r.got, r.detail) for r in found]
    assert items == [
        ("earn_mismatch", "K4", 100, 150, "points earned differ from the hub's rules (rules version 3)"),
        ("rules_unknown", "K5", None, None,
         "priced under rules version 9, which the hub does not have; points not checked"),
    ]  # fmt: skip
    booked = {s.sale_id: s.points for s in MemberSale.select()}
    assert booked == {"s-K1": 150, "s-K2": 50, "s-K3": 50, "s-K4": 150, "s-K5": 100, "s-K6": 100}
    assert HubLedgerEntry.select().where(HubLedgerEntry.kind == "earn").count() == 6
