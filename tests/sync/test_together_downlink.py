"""Often bought together, from the hub's job to the terminal's cart: sales booked through the real
ingest, the ``bought_together`` job, the owner's thresholds, the table published retained through a
real Mosquitto, applied by ``kiosk sync`` into the terminal's SQLite, and suggested from there with
no network. SQLite and PostgreSQL at the hub."""

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from hub.fleet.devices import DeviceRegistry
from hub.ingest.batch import ingest_batch
from hub.jobs import catalog as jobs
from hub.jobs import runner
from hub.jobs import settings as job_settings
from hub.reports.together_downlink import (
    TogetherPublisher,
    TogetherRelease,
    broker_publish,
    current_release,
    table_message,
)
from kiosk.cli import main as kiosk_main
from kiosk.devtools.broker import MosquittoBroker
from kiosk.domain.cart import Cart
from kiosk.domain.together import suggest
from kiosk.store import catalog, together
from kiosk.store.together import TogetherRule
from kiosk.sync.schema import GENESIS, batch, make_event
from tests.events import sale_data
from tests.sync.harness import AgentThread, wait_until

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 12, 2, 5, 30, tzinfo=TZ)
WATER, CHIPS, MILK, YOGURT, BEER = "DRK-001", "SNK-001", "DRY-001", "DRY-004", "ALC-001"  # the demo shop's
# 20 receipts: water with chips 5 times (once with yogurt), milk with yogurt 3 times, beer with water 3 times
BASKETS = (
    [(WATER, CHIPS)] * 4 + [(WATER, CHIPS, YOGURT)] + [(WATER, YOGURT)] * 2 + [(WATER,)] * 3
    + [(MILK, YOGURT)] * 3 + [(MILK,)] * 2 + [(CHIPS,)] + [(WATER, BEER)] * 3 + [(BEER,)]
)  # fmt: skip
# what the terminals get at the default thresholds (support 0.5 %, lift 1.2): beer and water's lift
# of 1.154 is left out; [sku, with_sku, lift x 1000, support bp, confidence bp], strongest first
DEFAULT_TABLE = [
    [MILK, YOGURT, 2000, 1500, 6000],
    [YOGURT, MILK, 2000, 1500, 5000],
    [CHIPS, WATER, 1282, 2500, 8333],
    [WATER, CHIPS, 1282, 2500, 3846],
]


def book_baskets_and_run_the_job() -> None:
    """The receipts booked at the hub from terminal K09, then the nightly job."""
    events, prev = [], GENESIS
    for seq, basket in enumerate(BASKETS, start=1):
        data = sale_data(f"K09-t{seq}", [(sku, 500, 1) for sku in basket])
        event = make_event(event_id=f"t-{seq}", device="K09", seq=seq, boot="b", type="sale.completed",
                           ts="2026-11-28T10:00:00.000+08:00", prev=prev, data=data)  # fmt: skip
        events.append(event)
        prev = event["hash"]
    ingest_batch("pos/K09/up/events", batch("K09", events), NOW, TZ)
    done = runner.run_job(jobs.job_named("bought_together"), runner.JobContext(NOW, TZ))
    assert done.status == "ok" and done.result is not None and done.result.figures == {"rules": 6}


def stored_rules() -> list[list[object]]:
    rows = TogetherRule.select().order_by(TogetherRule.lift_milli.desc(), TogetherRule.confidence_bp.desc())
    return [[r.sku, r.with_sku, r.lift_milli, r.support_bp, r.confidence_bp] for r in rows]


def cart_of(*skus: str) -> Cart:
    cart = Cart()
    for sku in skus:
        product = catalog.find_by_sku(sku)
        assert product is not None
        cart = cart.add(product)
    return cart


@pytest.mark.usefixtures("hub_db")
def test_the_job_s_rules_reach_the_terminal_and_suggest_offline(
    tmp_path: Path,
    kiosk_db,  # type: ignore[no-untyped-def]
    broker: MosquittoBroker,
) -> None:
    book_baskets_and_run_the_job()
    data = tmp_path / "hub-data"
    registry = DeviceRegistry(data)
    registry.add("S01", "Front till", NOW, device_id="KT1")
    registry.add("S02", "Other shop", NOW, device_id="KT2")
    registry.save()
    publisher = TogetherPublisher(data, broker_publish("127.0.0.1", broker.port), lambda: NOW)
    assert publisher.check() == 1
    assert publisher.check() is None  # nothing moved: nothing sent again

    agent = AgentThread(broker.port, device="KT1")  # connects after the publish: the table is retained
    try:
        wait_until(lambda: together.table_version() == 1, what="table 1 applied")
    finally:
        agent.close()
    assert stored_rules() == DEFAULT_TABLE
    catalog.seed_demo_catalog()  # the terminal's catalog: prices and what is on sale here
    index = together.load_index()
    offered = suggest(index, cart_of(WATER, MILK))  # yogurt (lift 2.0 with milk) beats chips (1.28)
    assert offered is not None and (offered.sku, offered.name_zh, offered.price_fen) == (
        YOGURT, "安慕希希腊酸奶 205g", 600
    )  # fmt: skip
    then = suggest(index, cart_of(WATER, MILK, YOGURT))  # yogurt's own pairing (milk) is in the cart
    assert then is not None and (then.sku, then.price_fen) == (CHIPS, 750)
    assert suggest(index, cart_of(WATER, MILK), skip=frozenset({YOGURT})) == then
    assert suggest(index, cart_of(WATER, CHIPS)) is None  # all of their pairings are in the cart

    # the owner lowers the lift threshold while the terminal is off: beer and water come in
    job_settings.put("together_min_lift", "1.1")
    assert publisher.check() == 2
    agent = AgentThread(broker.port, device="KT1")
    try:
        wait_until(lambda: together.table_version() == 2, what="table 2 applied")
    finally:
        agent.close()
    assert len(stored_rules()) == 6 and [BEER, WATER, 1154, 1500, 7500] in stored_rules()
    index = together.load_index()
    assert len(index) == 5  # water -> beer is never suggested: beer needs an attendant's age check
    single = suggest(index, cart_of(WATER))
    assert single is not None and single.sku == CHIPS
    assert [r.version for r in TogetherRelease.select()] == [1, 2]

    old = table_message(1, DEFAULT_TABLE, NOW)
    assert together.apply_table(old, NOW) is False  # an older table never replaces a newer one
    assert together.table_version() == 2
    job_settings.put("together_min_lift", "1.2")  # back: the same rules as version 1, a new version
    assert current_release(NOW) == (3, DEFAULT_TABLE)
    assert json.loads(table_message(3, DEFAULT_TABLE, NOW))["rules"] == DEFAULT_TABLE


def test_thresholds_refuse_what_they_cannot_mean(hub_db) -> None:  # type: ignore[no-untyped-def]
    for key, value, words in (
        ("together_min_lift", "0.9", "a number from 1 to 100"),
        ("together_min_lift", "abc", "请填写 1 到 100 之间的数"),
        ("together_min_support", "0.005", "a percentage from 0 to 100"),
        ("together_per_item", "4", "1 到 3"),
    ):
        with pytest.raises(ValueError, match=words):
            job_settings.put(key, value)
    job_settings.put("together_min_support", "2.5")
    job_settings.put("together_per_item", "1")
    assert job_settings.together_thresholds() == (250, 1200, 1)


def test_a_table_the_terminal_cannot_read_is_refused_and_the_held_one_stays(kiosk_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    good = json.dumps({"v": 1, "version": 4, "made_at": "", "rules": [[MILK, YOGURT, 2000, 1500, 6000]]})
    assert together.apply_table(good.encode(), NOW) is True
    for bad in (
        b"not json",
        b'{"v": 1, "version": 5, "rules": [["a", "b", 1]]}',
        b'{"v": 2, "version": 6, "rules": []}',
    ):
        with pytest.raises(together.TableError):
            together.apply_table(bad, NOW)
    assert (together.table_version(), stored_rules()) == (4, [[MILK, YOGURT, 2000, 1500, 6000]])
    info = CliRunner().invoke(kiosk_main, ["db", "info", "--db", str(tmp_path / "kiosk.db")])
    assert "often bought together: version 4, rules: 1" in info.output.splitlines()
