"""Cart screen: the scanned lines, the running total, and the way to pay."""

from kivy.clock import Clock
from kivy.properties import StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.domain.cart import Cart
from kiosk.domain.money import format_fen
from kiosk.screens.base import KioskScreen, load_kv


class CartRow(BoxLayout):
    """One line of the cart as the shopper sees it."""

    name_text = StringProperty("")
    qty_text = StringProperty("")
    total_text = StringProperty("")


class CartScreen(KioskScreen):
    """Lists the cart; the app calls :meth:`show` whenever the cart or language changes."""

    def show(self, cart: Cart, lang: str) -> None:
        """Rebuild the rows from ``cart`` and scroll to the newest line."""
        box = self.ids.lines
        box.clear_widgets()
        row = None
        for line in cart.lines:
            row = CartRow(
                name_text=line.product.name(lang),
                qty_text=f"{line.quantity} × {format_fen(line.product.price_fen)}",
                total_text=format_fen(line.total_fen),
            )
            box.add_widget(row)
        if row is not None:
            # after layout, so the ScrollView knows the new height
            Clock.schedule_once(lambda _dt: self.ids.scroll.scroll_to(row, animate=False), 0)

    def rows(self) -> list[tuple[str, str, str]]:
        """The rows as displayed (name, quantity × price, total), top to bottom."""
        return [(r.name_text, r.qty_text, r.total_text) for r in reversed(self.ids.lines.children)]


load_kv("cart")
