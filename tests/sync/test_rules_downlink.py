"""The owner changes the earn rate at the hub; the terminal applies it from the config and the hub agrees."""

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from hub.cli import main as hub_main
from hub.db.schema import open_hub_database
from hub.ingest.worker import HubIngestor
from hub.members import ledger as loyalty
from hub.members.models import HubLedgerEntry, Reconciliation
from kiosk.devtools.broker import MosquittoBroker
from kiosk.domain.cart import Cart, Product
from kiosk.domain.loyalty import LoyaltyRules
from kiosk.flows.members_source import StoreMemberSource
from kiosk.store import members
from kiosk.store.pii import PiiKey
from kiosk.store.sales import PaymentIntent, Terminal, commit_sale
from kiosk.sync import config
from tests.sync.harness import TZ, AgentThread, wait_until

KEY = PiiKey(bytes(range(32)))
TERMINAL = Terminal(store="S01", device="KR", boot="KR-boot")
RICE = Product("rice", "6900000000011", "大米 5kg", "Rice 5 kg", 5000, "food")
CATALOG = [{"sku": "rice", "barcode": "6900000000011", "name_zh": "大米 5kg", "price_fen": 5000}]


@pytest.fixture(autouse=True)
def reset_rules() -> Iterator[None]:
    yield
    loyalty.configure(LoyaltyRules(), None)


def _invoke(*args: str) -> str:
    result = CliRunner().invoke(hub_main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_new_earn_rate_reaches_the_kiosk_and_the_next_sale_earns_by_it_with_the_hub_agreeing(
    tmp_path: Path,
    kiosk_db,  # type: ignore[no-untyped-def]
    broker: MosquittoBroker,
) -> None:
    hub_url = f"sqlite:///{tmp_path / 'hub.db'}"
    (tmp_path / "catalog.json").write_text(json.dumps(CATALOG, ensure_ascii=False), encoding="utf-8")
    _invoke("catalog", "load", str(tmp_path / "catalog.json"), "--db", hub_url)
    triple = LoyaltyRules().model_dump(mode="json")
    triple["earn"]["points_per_yuan"] = 3
    (tmp_path / "rules.json").write_text(json.dumps(triple), encoding="utf-8")
    saved = _invoke("rules", "set", "--file", str(tmp_path / "rules.json"), "--by", "owner", "--db", hub_url)
    assert saved.startswith("规则版本 1 已保存 / rules version 1 saved")
    port = ["--mqtt-port", str(broker.port)]
    _invoke("config", "publish", "--db", hub_url, "--device", "KR", *port)

    source = StoreMemberSource(
        KEY, TERMINAL, lambda: dt.datetime.now(TZ), config.RulesFromConfig(LoyaltyRules())
    )
    assert source.rules.earn.points_per_yuan == 1  # no config yet: the fallback
    open_hub_database(hub_url)
    hub = HubIngestor("127.0.0.1", broker.port, TZ, worker="rules")
    hub.start()
    agent = AgentThread(broker.port, device="KR")
    try:
        wait_until(lambda: config.running_version() == 1, what="release 1 applied")
        assert source.rules.earn.points_per_yuan == 3
        consent = members.Consent(version="v1", where="S01/KR")
        member = members.register_member(KEY, TERMINAL, dt.datetime.now(TZ), "13812341234", consent).member
        view = source.find_by_qr(f"member:{member.id}")
        assert view is not None
        cart = Cart().add(RICE, 1)  # ¥50 in cash
        cash = [PaymentIntent("cash", 5000)]
        addon = source.sale_addon(view, cart, cash, "s-triple")
        assert (addon.earned_points, addon.rules_version) == (150, 1)  # the hub's version 1, stated
        commit_sale(cart, cash, TERMINAL, dt.datetime.now(TZ), "s-triple", member=addon)
        wait_until(lambda: HubLedgerEntry.select().where(HubLedgerEntry.kind == "earn").count() == 1)
        earned = HubLedgerEntry.get(HubLedgerEntry.kind == "earn")
        assert (earned.member_id, earned.amount) == (member.id, 150)
        assert [(r.kind, r.sale_id) for r in Reconciliation.select()] == []
    finally:
        agent.close()
        hub.stop()


def _release(version: int, rules: dict[str, object]) -> config.ConfigRelease:
    return config.ConfigRelease(
        v=1, version=version, issued_at="2026-11-24T09:00:00+08:00", catalog=[], rules=rules
    )


def test_demo_rules_answer_only_until_the_first_config_arrives(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    from kiosk.flows.members_source import demo_rules

    rules = config.RulesFromConfig(fallback=demo_rules())
    assert rules() == demo_rules()
    config.apply_release(
        _release(1, {}), dt.datetime.now(TZ)
    )  # the owner never set rules: the hub's defaults
    assert rules() == LoyaltyRules()
    double = {"version": 4, "rules": {"earn": {"points_per_yuan": 2}}}
    config.apply_release(_release(2, double), dt.datetime.now(TZ))
    assert rules().earn.points_per_yuan == 2


def test_a_member_sale_states_the_rules_version_that_priced_it_in_its_event(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    from kiosk.store.models import Outbox

    now = dt.datetime(2026, 11, 24, 15, 30, tzinfo=TZ)
    consent = members.Consent(version="v1", where="S01/KR")
    member = members.register_member(KEY, TERMINAL, now, "13812341234", consent).member
    from_config = StoreMemberSource(KEY, TERMINAL, lambda: now, config.RulesFromConfig(LoyaltyRules()))
    fixed = StoreMemberSource(KEY, TERMINAL, lambda: now, LoyaltyRules())

    def sale(source: StoreMemberSource, sale_id: str) -> dict[str, object]:
        view = source.find_by_qr(f"member:{member.id}")
        assert view is not None
        cart, cash = Cart().add(RICE, 1), [PaymentIntent("cash", 5000)]
        commit_sale(cart, cash, TERMINAL, now, sale_id, member=source.sale_addon(view, cart, cash, sale_id))
        event = json.loads(Outbox.select().order_by(Outbox.seq.desc()).get().body)
        assert (event["type"], event["data"]["sale_id"]) == ("sale.completed", sale_id)
        return dict(event["data"])

    assert sale(from_config, "s-0")["rules_version"] == 0  # no config yet: the built-in defaults
    config.apply_release(_release(1, {}), now)  # the owner never set rules: still the defaults
    assert sale(from_config, "s-1")["rules_version"] == 0
    config.apply_release(_release(2, {"version": 4, "rules": {"earn": {"points_per_yuan": 2}}}), now)
    data = sale(from_config, "s-2")
    assert (data["rules_version"], data["earned_points"]) == (4, 100)
    assert "rules_version" not in sale(fixed, "s-3")  # fixed rules (tests, tools) state no version


def test_release_with_rules_that_do_not_validate_is_refused_whole(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    bad = _release(1, {"version": 1, "rules": {"earn": {"points_per_yuan": -1}}})
    with pytest.raises(
        config.SchemaError, match=r"^config rules do not follow the schema: .*points_per_yuan"
    ):
        config.parse_release(config.release_message(bad))
    assert config.running_version() == 0
