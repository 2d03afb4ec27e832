"""A store's own price reaches a real terminal of that store (and only that store), the terminal
sells at it, and the hub re-checks every sale against its store's prices."""

import datetime as dt
from pathlib import Path

from hub.catalog import edits
from hub.catalog import releases as hub_catalog
from hub.db.schema import open_hub_database
from hub.ingest.batch import ingest_batch
from hub.ingest.models import SaleLine
from hub.ingest.worker import HubIngestor
from hub.members.models import Reconciliation
from kiosk.devtools.broker import MosquittoBroker
from kiosk.domain.cart import Cart
from kiosk.store import catalog as kiosk_catalog
from kiosk.store.sales import PaymentIntent, Terminal, commit_sale
from kiosk.sync import config
from kiosk.sync.schema import GENESIS, batch, make_event
from tests.events import sale_data
from tests.sync.harness import TZ, AgentThread, wait_until

TEA = {"sku": "T1", "barcode": "6901010370005", "name_zh": "绿茶", "name_en": "Green tea", "price_fen": 300}
BUN = {"sku": "B1", "barcode": "6901010370012", "name_zh": "豆沙包", "name_en": "Bean bun", "price_fen": 250}
NOW = dt.datetime(2026, 11, 24, 3, 0, tzinfo=dt.UTC)
STORES = {"KC": "S02", "KD": "S01"}


def test_a_store_price_reaches_its_terminal_which_sells_at_it(
    tmp_path: Path, kiosk_db, broker: MosquittoBroker
) -> None:  # type: ignore[no-untyped-def]
    open_hub_database(f"sqlite:///{tmp_path / 'hub.db'}")
    hub_catalog.load_catalog([TEA, BUN])
    assert edits.set_store_price("S02", "T1", "3.20", NOW, "owner") == 320
    assert edits.unpublished().added == ["B1", "T1"]
    release = hub_catalog.new_release(NOW)
    assert edits.unpublished().count == 0
    hub_catalog.publish_release(release, ["KC", "KD"], "127.0.0.1", broker.port, registry=[STORES.get])
    hub = HubIngestor("127.0.0.1", broker.port, TZ, worker="prices")
    hub.start()
    agent = AgentThread(broker.port, device="KC")  # the terminal of S02 (its own kiosk.db)
    try:
        wait_until(lambda: config.running_version() == 1, what="release 1 applied")
        tea = kiosk_catalog.find_by_barcode(TEA["barcode"])
        assert tea is not None and (
            tea.price_fen,
            kiosk_catalog.find_by_barcode(BUN["barcode"]).price_fen,
        ) == (320, 250)  # type: ignore[union-attr]
        cart = Cart().add(kiosk_catalog.to_cart_product(tea), 2)
        sale = commit_sale(cart, [PaymentIntent("cash", cart.total_fen)], Terminal("S02", "KC", "b"), NOW)
        wait_until(lambda: SaleLine.select().where(SaleLine.sale == sale.id).exists(), what="sale booked")
        assert [(x.sku, x.unit_price_fen, x.total_fen) for x in SaleLine.select()] == [("T1", 320, 640)]
        assert Reconciliation.select().where(Reconciliation.kind == "price_mismatch").count() == 0
    finally:
        agent.close()
        hub.stop()
    # the other store's terminal got the catalog price, read straight from its retained topic
    got = hub_catalog.prices.catalog_for(release, "S01", hub_catalog.prices.frozen_prices(1))
    assert {p.sku: p.price_fen for p in got.catalog} == {"B1": 250, "T1": 300}

    # a terminal of S02 that charged 2.80 for the tea: booked as sold, and flagged for the owner
    data = sale_data("KX-1", [("T1", 280, 1), ("B1", 250, 1)], store="S02")
    event = make_event(event_id="KX-ev-1", device="KX", seq=1, boot="b", ts="2026-11-24T11:00:00.000+08:00",
                       type="sale.completed", prev=GENESIS, data=data)  # fmt: skip
    assert ingest_batch("pos/KX/up/events", batch("KX", [event]), NOW, TZ).applied == 1  # type: ignore[union-attr]
    found = [(r.kind, r.sale_id, r.device, r.expected, r.got) for r in Reconciliation.select()]
    assert found == [("price_mismatch", "KX-1", "KX", 300, 280)]
