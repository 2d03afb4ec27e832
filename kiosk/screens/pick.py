"""Pick screen: items without a barcode (bakery, produce, bags) as large buttons by category."""

from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.button import Button

from kiosk.domain.money import format_fen
from kiosk.screens.base import KioskScreen, load_kv
from kiosk.store import catalog
from kiosk.store.demo_catalog import LOOSE_CATEGORIES


class ProductTile(Button):
    """A large button for one item: name and price."""

    sku = StringProperty("")


class CategoryTab(Button):
    """A category button along the top of the grid."""

    category = StringProperty("")
    selected = BooleanProperty(False)


class PickScreen(KioskScreen):
    """Category tabs and a grid of items; tapping an item adds one and returns to the cart."""

    category = StringProperty("bakery")

    def on_enter(self, *_args: object) -> None:
        self.fill()

    def choose(self, category: str) -> None:
        """Show ``category``'s items."""
        self.category = category
        self.fill()

    def fill(self) -> None:
        """Rebuild the tabs and the grid in the current language."""
        from kivy.app import App

        lang = App.get_running_app().lang
        tabs = self.ids.tabs
        tabs.clear_widgets()
        for code, names in LOOSE_CATEGORIES.items():
            tabs.add_widget(
                CategoryTab(
                    category=code, selected=code == self.category, text=names[1] if lang == "en" else names[0]
                )
            )
        grid = self.ids.grid
        grid.clear_widgets()
        for product in catalog.loose_products(self.category):
            grid.add_widget(
                ProductTile(sku=product.sku, text=f"{product.name(lang)}\n{format_fen(product.price_fen)}")
            )

    def tiles(self) -> list[ProductTile]:
        """The item buttons, in order."""
        return list(reversed(self.ids.grid.children))


load_kv("pick")
