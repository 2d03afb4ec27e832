"""Per-store prices: a store's own price overrides the catalog price at that store's terminals.

The owner sets them on the catalog page or through ``/api/v1/catalog/store-prices`` (audited,
:func:`hub.catalog.edits.set_store_price`). A config
release freezes the stores' prices of that moment (``config_release.store_prices``); when it is
published, each terminal gets the catalog with its own store's prices in ``price_fen``
(:func:`catalog_for`), so the terminal sells at its store's price with the same downlink schema,
and a terminal of a store without its own prices gets the catalog as it is.

Where a terminal belongs: the device registry (``hub device add``; the publishers pass
:data:`hub.ingest.batch.STORE_OF`, which ``hub serve`` configures), else the store of the terminal's
newest booked sale.

The hub re-checks what the terminals charged (:func:`mismatches`, in the transaction that books the
sales on every ingest path): a sale line whose unit
price is neither the store's price nor the catalog price of the newest two releases becomes a
``price_mismatch`` reconciliation item (an attendant's price override shows up there too). A line
at a flash sale's price (秒杀, :mod:`hub.campaigns.flash`) from a terminal with a share is right
when the sale was made inside the flash sale's window; outside it, the line is a ``flash_window``
item naming the window and the sale's time (the terminal's clock decided, the hub says so).
"""

import datetime as dt
import json
from collections.abc import Callable, Iterable
from typing import Any

from peewee import fn

from hub.campaigns.flash import FlashSale
from hub.catalog.models import Release, StorePrice
from hub.db import database
from hub.ingest.models import Sale
from kiosk.sync.config import ConfigRelease

__all__ = ["catalog_for", "frozen_prices", "mismatches", "store_of_device", "store_prices"]


def store_prices() -> dict[str, dict[str, int]]:
    """Every store's own prices now: ``{store: {sku: fen}}``."""
    out: dict[str, dict[str, int]] = {}
    for row in StorePrice.select().order_by(StorePrice.store, StorePrice.sku):
        out.setdefault(row.store, {})[row.sku] = int(row.price_fen)
    return out


def store_of_device(device: str, registry: Iterable[Callable[[str], str | None]] = ()) -> str | None:
    """The store ``device`` sells for: the ``registry``'s word when it has one, else the store of
    its newest booked sale; None for a terminal the hub cannot place."""
    for store_of in registry:
        store = store_of(device)
        if store:
            return store
    row = Sale.select(Sale.store).where(Sale.device == device).order_by(Sale.sold_at.desc()).first()
    return row.store if row else None


def frozen_prices(version: int) -> dict[str, dict[str, int]]:
    """The stores' prices release ``version`` froze."""
    row = Release.get_or_none(Release.version == version)
    return json.loads(row.store_prices or "{}") if row else {}


def catalog_for(
    release: ConfigRelease, store: str | None, prices: dict[str, dict[str, int]]
) -> ConfigRelease:
    """``release`` as ``store``'s terminals get it: its products at the store's own prices."""
    own = prices.get(store or "", {})
    if not own:
        return release
    catalog = [
        item.model_copy(update={"price_fen": own[item.sku]}) if item.sku in own else item
        for item in release.catalog
    ]
    return release.model_copy(update={"catalog": catalog})


class PriceCheck:
    """The unit prices each store's terminals may charge: the catalog and the store's own prices of
    the newest two releases (a terminal may not have the newest yet). Read once per batch."""

    def __init__(self) -> None:
        self.catalog: dict[str, set[int]] = {}
        self.stores: dict[str, dict[str, set[int]]] = {}
        # (sku, price) -> the flash sales at that price: (id, starts_at, ends_at UTC, devices with a share)
        self.flash: dict[tuple[str, int], list[tuple[str, str, str, frozenset[str]]]] = {}
        for sale in FlashSale.select():
            shares = frozenset(json.loads(sale.allocations))
            self.flash.setdefault((sale.sku, int(sale.price_fen)), []).append(
                (sale.id, sale.starts_at, sale.ends_at, shares)
            )
        for row in (
            Release.select(Release.body, Release.store_prices).order_by(Release.version.desc()).limit(2)
        ):
            for item in json.loads(row.body).get("catalog", []):
                self.catalog.setdefault(item["sku"], set()).add(int(item["price_fen"]))
            for store, own in json.loads(row.store_prices or "{}").items():
                for sku, fen in own.items():
                    self.stores.setdefault(store, {}).setdefault(sku, set()).add(int(fen))

    def allowed(self, store: str, sku: str) -> set[int]:
        """What a terminal of ``store`` may charge for ``sku`` (empty: no release carried it)."""
        return self.catalog.get(sku, set()) | self.stores.get(store, {}).get(sku, set())

    def findings(
        self, sales: Iterable[tuple[Any, ...]], lines: Iterable[tuple[Any, ...]], now: dt.datetime
    ) -> list[dict[str, Any]]:
        """The ``price_mismatch`` rows of booked sales (:func:`hub.ingest.booking.sale_rows`' tuples:
        a sale's id, device and store are its [0], [2], [3]; a line's sku and unit price [2], [5])."""
        where = {sale[0]: (sale[2], sale[3], sale[5]) for sale in sales}
        out = []
        for sale_id, position, sku, _zh, _en, charged, _qty, _total in lines:
            device, store, sold_at = where[sale_id]
            prices = self.allowed(store, sku)
            if not prices or charged in prices:
                continue  # a product no release carried (a manual line) is not the catalog's to judge
            flash = [f for f in self.flash.get((sku, charged), []) if device in f[3]]
            if flash:
                late = self._outside_window(flash, sale_id, device, position, sku, charged, sold_at, now)
                out += [late] if late else []
                continue
            out.append({
                "kind": "price_mismatch", "sale_id": sale_id, "device": device,
                "expected": min(prices, key=lambda fen: abs(fen - charged)), "got": charged, "found_at": now,
                "detail": f"store {store} line {position} {sku}: charged {charged} fen, "
                f"the store's price is {' or '.join(str(p) for p in sorted(prices))} fen",
            })  # fmt: skip
        return out

    def _outside_window(
        self,
        flash: list[tuple[str, str, str, frozenset[str]]],
        sale_id: str,
        device: str,
        position: int,
        sku: str,
        charged: int,
        sold_at: str,
        now: dt.datetime,
    ) -> dict[str, Any] | None:
        """None when the sale was made inside one of ``flash``'s windows, else its ``flash_window`` row."""
        at = dt.datetime.fromisoformat(sold_at).astimezone(dt.UTC).isoformat(timespec="seconds")
        if any(starts <= at < ends for _id, starts, ends, _devices in flash):
            return None
        sale_id_, starts, ends, _devices = flash[0]
        return {
            "kind": "flash_window", "sale_id": sale_id, "device": device, "expected": None, "got": charged,
            "found_at": now,
            "detail": f"flash sale {sale_id_} line {position} {sku}: sold at {at}, "
            f"outside the flash window {starts} – {ends} (UTC)",
        }  # fmt: skip


_CACHE: dict[str, Any] = {}


def mismatches(
    sales: list[tuple[Any, ...]], lines: list[tuple[Any, ...]], newest: int | None = None
) -> list[dict[str, Any]]:
    """The reconciliation rows for the lines of ``sales`` charged at a price no recent release gave
    their store (usually none). The releases are read again only when a newer one exists
    (``newest``: the newest release's version when the caller read it already, as the PostgreSQL
    bulk path does in its one lookup)."""
    if not lines:
        return []
    if newest is None:
        newest = Release.select(fn.MAX(Release.version)).scalar() or 0
    key = (id(database.obj), newest)
    if _CACHE.get("key") != key:
        _CACHE.update(key=key, check=PriceCheck())
    return _CACHE["check"].findings(sales, lines, dt.datetime.now(dt.UTC))
