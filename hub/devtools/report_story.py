"""A real week of sales for the reports page: used by its tests and for its screenshots.

``python -m hub.devtools.report_story docs/screenshots`` sells on real terminal databases
(``kiosk.store``: two stores, three terminals, seven days, cash and mobile
payments), adds the member story of :mod:`hub.devtools.loyalty_story` (members, top-ups,
points), books everything through the real ingest into a throwaway hub database,
serves the dashboard and saves whole-page PNGs of the home page and the reports (laptop and
phone width) and of the catalog: ``hub-{dashboard,reports,catalog,finance}-{zh,en}.png`` and
``hub-{dashboard,reports}_phone-{zh,en}.png``.
"""

import datetime as dt
import sys
import tempfile
from pathlib import Path

from hub.catalog import edits as catalog_admin
from hub.catalog import releases as catalog
from hub.db.schema import open_hub_database
from hub.devtools import loyalty_story, shots
from hub.devtools.serving import serving
from hub.ingest.batch import ingest_batch
from hub.members import ledger as loyalty
from hub.reports import money
from hub.web.app import create_app
from kiosk.domain.cart import Cart, Product
from kiosk.domain.loyalty import LoyaltyRules
from kiosk.domain.loyalty.rules import BonusTier, StoredValueRule
from kiosk.domain.refunds import Pick
from kiosk.store import members, open_database, outbox
from kiosk.store.demo_catalog import demo_products
from kiosk.store.refunds import refund_sale
from kiosk.store.sales import PaymentIntent, Terminal, commit_sale
from kiosk.sync.schema import batch

TZ = loyalty_story.TZ
NOW = loyalty_story.NOW  # 2026-11-24 15:30 in Shanghai
MILK = Product("milk", "6907992500133", "特仑苏有机奶 250ml", "Organic milk 250 ml", 650, "dairy")
WATER = Product("water", "6921168509256", "农夫山泉 550ml", "Spring water 550 ml", 200, "drinks")
BREAD = Product("bread", "", "全麦面包", "Wholemeal bread", 1280, "bakery")
TERMINALS = (("S01", "K01"), ("S01", "K02"), ("S02", "K04"))
TOP_UP = StoredValueRule(
    bonus_tiers=(BonusTier(min_fen=10000, bonus_fen=2000), BonusTier(min_fen=50000, bonus_fen=15000))
)
WALLETS = ("cash", "wechat", "alipay")


def week_of_sales(work: Path) -> dict[tuple[str, str], int]:
    """Sell for the 7 days up to NOW on each terminal; book it; return fen sold per (day, store)."""

    sold: dict[tuple[str, str], int] = {}
    returned = ""
    for t, (store, device) in enumerate(TERMINALS):
        db = open_database(work / f"{device}.db")
        try:
            terminal = Terminal(store=store, device=device, boot=f"{device}-boot")
            if device == "K01":  # Zhang tops up ¥500 at the counter two days ago (充500送150)
                members.top_up_stored_value(
                    terminal, NOW - dt.timedelta(days=2), loyalty_story.ZHANG, 50000, TOP_UP, "staff-7"
                )
            for back in range(6, -1, -1):
                # from 08:30 (+1 h per till) on, one sale every 55 minutes: the heatmap has a shape
                when = NOW - dt.timedelta(days=back, hours=7 - t)
                for n in range(2 + (back + t) % 4):  # 2 to 5 sales a day, a different rhythm per till
                    cart = Cart().add(MILK, 1 + n % 2).add(WATER, 1 + (back + n) % 3)
                    if (n + t) % 3 == 0:
                        cart = cart.add(BREAD, 1)
                    method = WALLETS[(n + back + t) % 3]
                    sale = commit_sale(
                        cart,
                        [PaymentIntent(method, cart.total_fen)],
                        terminal,
                        when + dt.timedelta(minutes=55 * n),
                    )
                    if (device, back, n) == ("K04", 1, 0):  # paid cash; one milk comes back today
                        returned = sale.id
                    key = (when.date().isoformat(), store)
                    sold[key] = sold.get(key, 0) + cart.total_fen
            if device == "K04":
                refund_sale(
                    returned,
                    [Pick(1, 1)],
                    terminal,
                    NOW - dt.timedelta(hours=1),
                    "staff-9",
                    "r-milk",
                    "过期 / expired",
                )
            events = outbox.pending(limit=10_000)
        finally:
            db.close()
        ingest_batch(f"pos/{device}/up/events", batch(device, events), NOW, TZ)
    return sold


def seed(work: Path) -> dict[tuple[str, str], int]:
    """The member story, a week of plain sales, and the demo catalog with one price changed since
    the terminals' release; return the plain sales' fen per (day, store)."""

    loyalty_story.seed(work)  # K01, K02 and K03 keep selling on the same terminal databases
    catalog.load_catalog(demo_products())
    catalog.new_release(NOW)
    catalog_admin.update_product("DRY-003", NOW, "owner", price="6.80")  # 特仑苏 ¥6.50 -> ¥6.80, not yet sent
    sold = week_of_sales(work)
    money.set_store_rule("S02", money.FRANCHISE, "95")  # a franchise store: cross-store value settles at 95 %
    return sold


def capture(out: Path) -> list[Path]:
    """Seed a throwaway hub, serve it, and save the reports page in Chinese and English into ``out``."""

    with tempfile.TemporaryDirectory(prefix="hub-report-story-") as work:
        db = open_hub_database(f"sqlite:///{work}/hub.db")
        seed(Path(work))
        app = create_app(TZ, today=lambda: NOW.date())
        pages = (
            ("dashboard", "/?", 1280),
            ("reports", "/reports?", 1280),
            ("catalog", "/catalog?category=dairy&", 1280),
            ("finance", "/finance?", 1280),
            ("dashboard_phone", "/?", 390),
            ("reports_phone", "/reports?", 390),
        )
        try:
            with serving(app) as port:
                return shots.in_both_languages(port, pages, out)
        finally:
            loyalty.configure(LoyaltyRules(), None)
            db.close()


if __name__ == "__main__":
    for path in capture(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")):
        print(path)
