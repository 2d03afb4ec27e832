"""Catalog lookups and seeding."""

from kiosk.domain.cart import Product as CartProduct
from kiosk.store.db import database
from kiosk.store.demo_catalog import demo_products
from kiosk.store.models import Product


def find_by_barcode(barcode: str) -> CartProduct | None:
    """The active product with ``barcode``, as the cart sees it, or None."""
    row = Product.get_or_none((Product.barcode == barcode) & (Product.active == True))  # noqa: E712
    return to_cart_product(row) if row else None


def to_cart_product(row: Product) -> CartProduct:
    """Convert a stored product into the domain's value."""
    return CartProduct(
        sku=row.sku,
        barcode=row.barcode or "",
        name_zh=row.name_zh,
        name_en=row.name_en,
        price_fen=row.price_fen,
        category=row.category,
    )


def seed_demo_catalog() -> int:
    """Load the demo shop's products when the catalog is empty; return how many were added."""
    if Product.select().exists():
        return 0
    rows = demo_products()
    with database.atomic("IMMEDIATE"):
        Product.insert_many(rows).execute()
    return len(rows)
