"""The cart's one suggestion ("often bought together", 常一起买) while the shopper scans.

A mixin of :class:`kiosk.app.KioskApp`: it uses the app's state and screens through ``self``.
The rules come from the table the hub pushed (:mod:`kiosk.store.together`), held in memory as a
:class:`kiosk.domain.together.TogetherIndex` that is rebuilt only when a new table or config
arrived, on a worker thread (a shop's whole table takes 0.1–0.3 s to load), so a scan never
waits on it. A tap on 加入 adds the item as a scan would (flash price,
checks) with the line's ``source`` ``together``; × hides suggestions for the rest of the sale.
"""

import logging
import threading

from kiosk.domain.cart import Product
from kiosk.domain.money import format_fen
from kiosk.domain.together import SOURCE, TogetherIndex, suggest
from kiosk.store import catalog, together
from kiosk.store.connection import database
from kiosk.sync import config

log = logging.getLogger(__name__)


class TogetherFlow:
    """Keeps the index fresh and ``suggestion`` (a Product or None) in step with the cart."""

    together_index = TogetherIndex()
    _together_seen: tuple[int, int] = (-1, -1)  # (table version, config version) the index is from
    _together_loading = False

    def refresh_together(self) -> None:
        """Rebuild the index on a worker when ``kiosk sync`` applied a newer table or config
        (checked every 5 s with two one-row reads); the cart keeps the old one meanwhile."""
        seen = (together.table_version(), config.running_version())
        if seen == self._together_seen or self._together_loading:
            return
        self._together_loading = True

        def load() -> None:
            try:
                with database.connection_context():  # this thread's own connection, closed after
                    index = together.load_index()
            except Exception:  # the old index stays; the next check tries again
                log.exception("often-bought-together table %d not loaded", seen[0])
                self.deliver(lambda: setattr(self, "_together_loading", False))
                return
            self.deliver(lambda: self._together_loaded(seen, index))

        threading.Thread(target=load, name="together-index", daemon=True).start()

    def _together_loaded(self, seen: tuple[int, int], index: TogetherIndex) -> None:
        self.together_index, self._together_seen, self._together_loading = index, seen, False
        log.info("often-bought-together table %d: %d suggestions on sale here", seen[0], len(index))
        self.refresh_suggestion()

    def forget_suggestions(self) -> None:
        """A new sale: nothing offered, taken or dismissed yet."""
        self.together_dismissed = False
        self.together_taken: frozenset[str] = frozenset()
        self.together_shown: list[str] = []
        self.suggestion = None

    def refresh_suggestion(self) -> None:
        """The best suggestion for the cart as it is now (none once dismissed or with an empty cart)."""
        found = None
        if not self.together_dismissed and not self.cart.is_empty:
            found = suggest(self.together_index, self.cart, self.together_taken)
        if found is not None and found.sku not in self.together_shown:
            self.together_shown.append(found.sku)
        if found != self.suggestion:
            self.suggestion = found

    def suggestion_text(self, product: Product | None, lang: str) -> str:
        """常一起买：<name> ¥<price> in ``lang``; empty without a suggestion."""
        if product is None:
            return ""
        return self.tr("together_suggest", lang, name=product.name(lang), price=format_fen(product.price_fen))

    def take_suggestion(self) -> None:
        """The shopper tapped 加入: add it as a scan would, at the catalog's price now."""
        offered = self.suggestion
        if offered is None:
            return
        self.touched()
        self.together_taken = self.together_taken | {offered.sku}
        product = catalog.find_by_sku(offered.sku)
        if product is None:  # taken off sale since the index was built
            self.refresh_suggestion()
            return
        self.add_product(product, source=SOURCE)
        self.refresh_suggestion()

    def dismiss_suggestion(self) -> None:
        """The shopper tapped ×: no more suggestions in this sale."""
        self.touched()
        self.together_dismissed = True
        self.suggestion = None
