"""Pure shop rules: money, carts, barcodes. No I/O, no clock reads, no Kivy.

The hub imports this package too, so the terminal (offline) and the hub
(authoritative) compute the same numbers with the same code.
"""

from kiosk.domain.barcode import ean13_check_digit, is_valid_ean13
from kiosk.domain.cart import Cart, CartLine, Product
from kiosk.domain.errors import DomainError, QuantityError, UnknownLineError
from kiosk.domain.money import Fen, format_fen, parse_yuan

__all__ = [
    "Cart",
    "CartLine",
    "DomainError",
    "Fen",
    "Product",
    "QuantityError",
    "UnknownLineError",
    "ean13_check_digit",
    "format_fen",
    "is_valid_ean13",
    "parse_yuan",
]
