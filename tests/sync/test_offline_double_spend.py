"""Two terminals spend the same member's stored value while both are offline, then reconnect.

End to end: real terminal databases, the member copied to the second terminal by the
hub's own member states, two real ``kiosk sync`` processes and an in-process hub
ingest worker on a private Mosquitto. Each terminal stays within its own offline cap;
together they overspend. The hub books both sales (the money was taken), reports the
negative balance, and its totals equal what the two terminals sold.
"""

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from peewee import fn

from hub.db.schema import open_hub_database
from hub.ingest.worker import HubIngestor
from hub.members import ledger as loyalty
from hub.members.feed import member_states
from hub.members.models import HubMember
from kiosk.devtools.broker import MosquittoBroker
from kiosk.domain.cart import Cart, Product
from kiosk.domain.loyalty import (
    BONUS,
    POINTS,
    PRINCIPAL,
    EarnContext,
    LoyaltyRules,
    MemberPayment,
    OfflineSpend,
    Split,
    Verdict,
    price_cart,
    sale_ledger,
)
from kiosk.domain.loyalty.rules import BonusTier, RiskCap, StoredValueRule
from kiosk.store import members, open_database
from kiosk.store.connection import database
from kiosk.store.members.hub_copy import apply_states
from kiosk.store.models import Outbox
from kiosk.store.models import Sale as KioskSale
from kiosk.store.pii import PiiKey
from kiosk.store.sales import PaymentIntent, Terminal, commit_sale
from tests.sync.harness import hub_totals, spawn, stop, sync_agent_cmd, wait_until

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 24, 15, 30, tzinfo=TZ)
KEY = PiiKey(bytes(range(32)))
RICE = Product("rice", "6900000000011", "大米", "Rice", 5000, "food")
SV = StoredValueRule(bonus_tiers=(BonusTier(min_fen=10000, bonus_fen=2000),))
CAP = RiskCap(offline_points=0, offline_stored_value_fen=9000)  # per member, per terminal


@pytest.fixture
def hub(tmp_path: Path, own_broker: MosquittoBroker) -> Iterator[HubIngestor]:
    open_hub_database(f"sqlite:///{tmp_path / 'hub.db'}")
    loyalty.configure(LoyaltyRules(), KEY)
    own_broker.start()
    ingestor = HubIngestor("127.0.0.1", own_broker.port, TZ, worker="w1")
    ingestor.start()
    assert ingestor.connected.wait(10)
    yield ingestor
    ingestor.stop()
    loyalty.configure(LoyaltyRules(), None)


def terminal(device: str) -> Terminal:
    return Terminal(store="S01", device=device, boot=f"{device}-boot")


def spend_offline(device: str, sale_id: str, principal_fen: int) -> None:
    """Sell 2 x rice (¥100) to m-1 on ``device``, ``principal_fen`` from stored value, the rest cash.

    The terminal checks its offline cap first, as the pay screen does.
    """
    decision = members.check_member_spend("m-1", OfflineSpend(0, principal_fen), False, CAP)
    assert decision.verdict == Verdict.ALLOW
    priced = price_cart(Cart().add(RICE, 2), (), NOW, "m-1")
    stamp = members.new_stamp(terminal(device), NOW)
    paid = MemberPayment(points=0, points_fen=0, stored=Split(principal_fen, 0))
    earned, entries = sale_ledger(
        "m-1", sale_id, priced, paid, LoyaltyRules(), EarnContext(day=NOW.date()), stamp
    )
    sale = members.MemberSale("m-1", sale_id, priced, tuple(entries), earned.points, None)
    pays = [
        PaymentIntent("stored_value", principal_fen),
        PaymentIntent("cash", priced.total_fen - principal_fen),
    ]
    commit_sale(Cart().add(RICE, 2), pays, terminal(device), NOW, sale_id, member=sale)


def till_figures() -> tuple[int, int, int]:
    """(sales, fen, outbox events) of the open terminal database."""
    sales, fen = KioskSale.select(fn.COUNT(KioskSale.id), fn.SUM(KioskSale.total_fen)).scalar(as_tuple=True)
    return int(sales), int(fen or 0), Outbox.select().count()


def test_two_terminals_overspend_stored_value_offline_and_the_hub_reports_it(
    tmp_path: Path, own_broker: MosquittoBroker, hub: HubIngestor
) -> None:
    k01, k02 = tmp_path / "K01.db", tmp_path / "K02.db"
    log = tmp_path / "agents.log"

    # Store 1 registers the member and tops up ¥100 (+¥20 bonus); that reaches the hub.
    open_database(k01)
    members.register_member(
        KEY, terminal("K01"), NOW, "13812341234", members.Consent("privacy-2026-01", "kiosk"), member_id="m-1"
    )
    members.top_up_stored_value(terminal("K01"), NOW, "m-1", 10000, SV, "staff-7")
    first_events = Outbox.select().count()
    database.close()
    agent = spawn(sync_agent_cmd(k01, own_broker.port, "K01"), log)
    try:
        wait_until(
            lambda: loyalty.member_balances("m-1") == {PRINCIPAL: 10000, BONUS: 2000}, what="top-up booked"
        )
    finally:
        stop(agent)

    # Store 2 gets the member from the hub (as its member downlink would deliver it).
    open_database(k02)
    with database.atomic("IMMEDIATE"):
        assert apply_states(member_states([HubMember.get_by_id("m-1")], "K02")) == 1
    assert members.member_balances("m-1") == {PRINCIPAL: 10000, BONUS: 2000}

    # The network goes down. Each store spends ¥80 of the member's ¥100 principal.
    spend_offline("K02", "s-k02", 8000)
    k02_figures = till_figures()
    database.close()
    open_database(k01)
    spend_offline("K01", "s-k01", 8000)
    k01_figures = till_figures()
    database.close()
    assert k01_figures == (1, 10000, first_events + 1) and k02_figures == (1, 10000, 1)

    # The network comes back: both terminals drain at once.
    agents = [
        spawn(sync_agent_cmd(db, own_broker.port, device), log) for db, device in ((k01, "K01"), (k02, "K02"))
    ]
    try:
        wait_until(lambda: hub_totals()[2] == first_events + 2, what="both offline sales booked")
    finally:
        for process in agents:
            stop(process)

    assert hub_totals() == (2, 20000, first_events + 2)  # both sales counted once: the money was taken
    # each sale earns 1 point per yuan on ¥80 principal + ¥20 cash (bonus money would earn nothing)
    assert loyalty.member_balances("m-1") == {PRINCIPAL: 10000 - 16000, BONUS: 2000, POINTS: 100 + 100}
    items = [(i["kind"], i["got"]) for i in loyalty.open_items()]
    assert items == [("negative_balance", -6000)]
