"""Cart screen: the lines with + / − / remove, totals, the member strip, and the way to pay."""

from typing import Any

from kivy.clock import Clock
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.relativelayout import RelativeLayout

from kiosk.domain.cart import Cart
from kiosk.domain.money import format_fen
from kiosk.screens.base import KioskScreen, load_kv


class CartRow(RelativeLayout):
    """One line of the cart: name, unit price, − quantity +, line total, remove."""

    sku = StringProperty("")
    name_text = StringProperty("")
    unit_text = StringProperty("")
    qty_text = StringProperty("")
    total_text = StringProperty("")
    selected = BooleanProperty(False)


class CartScreen(KioskScreen):
    """Lists the cart; the app calls :meth:`show` whenever the cart or language changes.

    Rows are kept by sku: a scan adds one row or updates one, it never rebuilds the
    others. A row taken out (removed line, sale over) waits in a pool for the next
    cart: building one costs milliseconds (five labels, three buttons, their kv
    bindings), and each one dropped left about 3,700 objects in reference cycles
    for the garbage collector, whose full pass then stalled a scan (docs/perf.md).
    """

    SPARE_ROWS = 40  # more than a screenful; a longer cart's extra rows are simply dropped

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._rows: dict[str, CartRow] = {}
        self._spare: list[CartRow] = []
        self.rows_built = 0  # rows ever built: stays at the longest cart's length while rows are reused

    def show(self, cart: Cart, lang: str) -> None:
        """Bring the rows in line with ``cart`` and scroll to the row that changed."""
        box = self.ids.lines
        wanted = [line.product.sku for line in cart.lines]
        for sku in set(self._rows) - set(wanted):
            row = self._rows.pop(sku)
            box.remove_widget(row)
            if len(self._spare) < self.SPARE_ROWS:
                self._spare.append(row)
        changed = None
        for line in cart.lines:
            texts = {
                "name_text": line.product.name(lang),
                "unit_text": format_fen(line.product.price_fen),
                "qty_text": str(line.quantity),
                "total_text": format_fen(line.total_fen),
            }
            row = self._rows.get(line.product.sku)
            if row is None:
                row = self._spare.pop() if self._spare else self._new_row()
                row.sku = line.product.sku
                for name, text in texts.items():
                    setattr(row, name, text)
                self._rows[row.sku] = row
                box.add_widget(row)
                changed = row
            elif any(getattr(row, name) != text for name, text in texts.items()):
                for name, text in texts.items():
                    setattr(row, name, text)
                changed = row
        if [row.sku for row in self.row_widgets()] != wanted:  # a line was put back in between
            box.clear_widgets()
            for sku in wanted:
                box.add_widget(self._rows[sku])
        if changed is not None:
            # after layout, so the ScrollView knows the new height
            Clock.schedule_once(lambda _dt: self._show_newest(changed), 0)

    def _new_row(self) -> CartRow:
        self.rows_built += 1
        return CartRow()

    def _show_newest(self, row: CartRow) -> None:
        scroll = self.ids.scroll
        if row.parent is None:  # removed again before this frame
            return
        if self.ids.lines.height > scroll.height:
            scroll.scroll_to(row, animate=False)
        else:
            scroll.scroll_y = 1  # short carts start at the top

    def row_widgets(self) -> list[CartRow]:
        """The row widgets, top to bottom."""
        return list(reversed(self.ids.lines.children))

    def rows(self) -> list[tuple[str, str, str]]:
        """The rows as displayed (name, quantity × price, total), top to bottom."""
        return [(r.name_text, f"{r.qty_text} × {r.unit_text}", r.total_text) for r in self.row_widgets()]


load_kv("cart")
