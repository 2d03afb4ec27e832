"""A flash sale's cap holds with three terminals offline: the hub splits the cap into shares,
the shares reach the terminals through the config downlink (a real Mosquitto, real ``kiosk sync``
processes), the terminals sell offline (real kiosk databases), and the hub ingest books exactly
the cap at the flash price once they are back."""

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from peewee import fn

from hub.campaigns import flash
from hub.catalog import releases as hub_catalog
from hub.db import transaction
from hub.db.schema import open_hub_database
from hub.ingest.models import SaleLine
from hub.ingest.worker import HubIngestor
from kiosk.devtools.broker import MosquittoBroker
from kiosk.domain.cart import Cart, Product
from kiosk.domain.flash import decide, running_offer
from kiosk.store import open_database
from kiosk.store.connection import database
from kiosk.store.flash import flash_offers, sold_here
from kiosk.store.sales import PaymentIntent, Terminal, commit_sale
from tests.sync.harness import hub_totals, spawn, stop, sync_agent_cmd, wait_until

TZ = ZoneInfo("Asia/Shanghai")
MOONCAKE = Product("mooncake", "6900000000035", "月饼", "Mooncake", 3000, "food")
DEVICES = ("K01", "K02", "K03")
SCANS = 6  # each terminal sells six mooncakes, one per sale


@pytest.fixture
def hub(tmp_path: Path, own_broker: MosquittoBroker) -> Iterator[HubIngestor]:
    open_hub_database(f"sqlite:///{tmp_path / 'hub.db'}")
    own_broker.start()
    ingestor = HubIngestor("127.0.0.1", own_broker.port, TZ, worker="w1")
    ingestor.start()
    assert ingestor.connected.wait(10)
    yield ingestor
    ingestor.stop()


def applied_version(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        try:
            row = conn.execute("select version from sync_config where id = 1").fetchone()
        except sqlite3.OperationalError:  # the agent has not created the tables yet
            return 0
    return int(row[0]) if row else 0


def sell_offline(device: str, now: dt.datetime) -> list[tuple[int, str]]:
    """Scan one mooncake per sale, ``SCANS`` times, as the cart does; return (price, reason) of each."""
    terminal = Terminal(store="S01", device=device, boot=f"{device}-boot")
    sold = []
    for _ in range(SCANS):
        offer = running_offer(flash_offers(device), MOONCAKE.sku, now)
        decision = decide(MOONCAKE, Cart(), offer, sold_here(offer) if offer else 0)
        assert decision.allowed
        cart = Cart().add(decision.product)
        commit_sale(cart, [PaymentIntent("cash", cart.total_fen)], terminal, now)
        sold.append((decision.product.price_fen, decision.reason))
    return sold


def test_the_flash_sale_cap_holds_with_three_terminals_offline(
    tmp_path: Path, own_broker: MosquittoBroker, hub: HubIngestor
) -> None:
    now = dt.datetime.now(TZ)
    hub_catalog.load_catalog([{"sku": "mooncake", "barcode": MOONCAKE.barcode, "name_zh": "月饼",
                               "name_en": "Mooncake", "price_fen": 3000, "category": "food"}])  # fmt: skip
    with transaction():
        flash.define("mid-autumn", "mooncake", 1000, 10, now - dt.timedelta(hours=1),
                     now + dt.timedelta(hours=2), DEVICES, "owner", now)  # fmt: skip
    release = hub_catalog.new_release(now)
    assert release.campaigns[0]["allocations"] == {"K01": 4, "K02": 3, "K03": 3}

    # The shares reach the terminals through the retained config downlink.
    dbs = {d: tmp_path / f"{d}.db" for d in DEVICES}
    log = tmp_path / "agents.log"
    hub_catalog.publish_release(release, list(DEVICES), "127.0.0.1", own_broker.port)
    agents = [spawn(sync_agent_cmd(dbs[d], own_broker.port, d), log) for d in DEVICES]
    try:
        wait_until(lambda: all(applied_version(dbs[d]) == release.version for d in DEVICES), what="config")
    finally:
        for agent in agents:
            stop(agent)

    # Offline: each terminal sells six, at the flash price only within its own share.
    sold = {}
    for device in DEVICES:
        open_database(dbs[device])
        if device == "K02":  # one cart cannot grow its flash line past the share either
            offer = running_offer(flash_offers(device), "mooncake", now)
            full = Cart().add(decide(MOONCAKE, Cart(), offer, 0, 3).product, 3)
            refused = decide(MOONCAKE, full, offer, sold_here(offer))
            assert (refused.allowed, refused.reason, refused.left, full.total_fen) == (
                False, "flash_share_used", 0, 3000
            )  # fmt: skip
        sold[device] = sell_offline(device, now)
        database.close()
    flash_units = {d: sum(1 for price, _ in sold[d] if price == 1000) for d in DEVICES}
    assert flash_units == {"K01": 4, "K02": 3, "K03": 3}
    assert sold["K01"] == [(1000, "flash_price")] * 4 + [(3000, "flash_gone")] * 2

    # Back online: everything reaches the hub once; the hub counts exactly the cap.
    agents = [spawn(sync_agent_cmd(dbs[d], own_broker.port, d), log) for d in DEVICES]
    try:
        wait_until(lambda: hub_totals()[0] == SCANS * len(DEVICES), timeout=40, what="all sales booked")
    finally:
        for agent in agents:
            stop(agent)
    row = flash.FlashSale.get_by_id("mid-autumn")
    assert flash.sold(row) == {"K01": 4, "K02": 3, "K03": 3}
    assert sum(flash.sold(row).values()) == row.cap == 10
    at_price = SaleLine.select(SaleLine.unit_price_fen, fn.SUM(SaleLine.quantity)).group_by(
        SaleLine.unit_price_fen
    )
    assert sorted(at_price.tuples()) == [(1000, 10), (3000, 8)]
    assert hub_totals()[:2] == (18, 10 * 1000 + 8 * 3000)
