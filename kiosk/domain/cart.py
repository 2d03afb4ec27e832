"""The shopper's cart: lines of products with quantities, and its totals.

A Cart is a value: every operation returns a new Cart, so the UI can keep the
previous one for undo and tests can compare carts with ``==``.
"""

from dataclasses import dataclass, replace

from kiosk.domain.errors import QuantityError, UnknownLineError
from kiosk.domain.money import Fen, multiply

MAX_QUANTITY = 999


@dataclass(frozen=True)
class Product:
    """What the cart needs to know of a catalog product."""

    sku: str
    barcode: str
    name_zh: str
    name_en: str
    price_fen: int
    category: str = ""

    def name(self, lang: str) -> str:
        """The product's name in ``lang`` ("zh" or "en"), Chinese when English is missing."""
        return self.name_en if lang == "en" and self.name_en else self.name_zh


@dataclass(frozen=True)
class CartLine:
    """One product and how many of it; ``source`` says how it came ("together": the shopper took the
    cart's suggestion; "" scanned or picked)."""

    product: Product
    quantity: int
    source: str = ""

    @property
    def total_fen(self) -> Fen:
        """Unit price times quantity."""
        return multiply(self.product.price_fen, self.quantity)


@dataclass(frozen=True)
class Cart:
    """An ordered tuple of lines, one per product (scanning again adds quantity)."""

    lines: tuple[CartLine, ...] = ()

    def add(self, product: Product, quantity: int = 1, source: str = "") -> "Cart":
        """Add ``quantity`` of ``product``; an existing line grows (keeping its source), a new one
        goes last with ``source``."""
        if quantity < 1:
            raise QuantityError(f"can only add a positive quantity, got {quantity}")
        for i, line in enumerate(self.lines):
            if line.product.sku == product.sku:
                return self._with_line(i, line.quantity + quantity)
        _check_quantity(quantity)
        return Cart((*self.lines, CartLine(product, quantity, source)))

    def set_quantity(self, sku: str, quantity: int) -> "Cart":
        """Set the quantity of the line for ``sku``; zero removes the line."""
        index = self._index(sku)
        if quantity == 0:
            return self.remove(sku)
        return self._with_line(index, quantity)

    def remove(self, sku: str) -> "Cart":
        """Remove the line for ``sku`` entirely."""
        index = self._index(sku)
        return Cart(self.lines[:index] + self.lines[index + 1 :])

    @property
    def total_fen(self) -> Fen:
        """Sum of all line totals."""
        return Fen(sum(line.total_fen for line in self.lines))

    @property
    def item_count(self) -> int:
        """How many items, counting quantities."""
        return sum(line.quantity for line in self.lines)

    @property
    def is_empty(self) -> bool:
        """True when there is nothing to pay for."""
        return not self.lines

    def _index(self, sku: str) -> int:
        for i, line in enumerate(self.lines):
            if line.product.sku == sku:
                return i
        raise UnknownLineError(f"no line for sku {sku!r} in the cart")

    def _with_line(self, index: int, quantity: int) -> "Cart":
        _check_quantity(quantity)
        lines = list(self.lines)
        lines[index] = replace(lines[index], quantity=quantity)
        return Cart(tuple(lines))


def _check_quantity(quantity: int) -> None:
    if not 1 <= quantity <= MAX_QUANTITY:
        raise QuantityError(f"a line holds 1..{MAX_QUANTITY} items, got {quantity}")
