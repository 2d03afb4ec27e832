"""Cart screen: the lines with + / − / remove, totals, the member strip, and the way to pay."""

from kivy.clock import Clock
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.domain.cart import Cart
from kiosk.domain.money import format_fen
from kiosk.screens.base import KioskScreen, load_kv


class CartRow(BoxLayout):
    """One line of the cart: name, unit price, − quantity +, line total, remove."""

    sku = StringProperty("")
    name_text = StringProperty("")
    unit_text = StringProperty("")
    qty_text = StringProperty("")
    total_text = StringProperty("")
    selected = BooleanProperty(False)


class CartScreen(KioskScreen):
    """Lists the cart; the app calls :meth:`show` whenever the cart or language changes."""

    def show(self, cart: Cart, lang: str) -> None:
        """Rebuild the rows from ``cart`` and scroll to the newest line."""
        box = self.ids.lines
        box.clear_widgets()
        row = None
        for line in cart.lines:
            row = CartRow(
                sku=line.product.sku,
                name_text=line.product.name(lang),
                unit_text=format_fen(line.product.price_fen),
                qty_text=str(line.quantity),
                total_text=format_fen(line.total_fen),
            )
            box.add_widget(row)
        if row is not None:
            # after layout, so the ScrollView knows the new height
            Clock.schedule_once(lambda _dt: self._show_newest(row), 0)

    def _show_newest(self, row: "CartRow") -> None:
        scroll = self.ids.scroll
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
