"""Catalog lookups and seeding."""

from kiosk.domain.cart import Product as CartProduct
from kiosk.store.connection import database
from kiosk.store.demo_catalog import demo_loose_products, demo_products
from kiosk.store.models import Product


def find_by_barcode(barcode: str) -> CartProduct | None:
    """The active product with ``barcode``, as the cart sees it, or None."""
    row = Product.get_or_none((Product.barcode == barcode) & (Product.active == True))  # noqa: E712
    return to_cart_product(row) if row else None


def find_by_sku(sku: str) -> CartProduct | None:
    """The active product ``sku``, as the cart sees it, or None."""
    row = Product.get_or_none((Product.sku == sku) & (Product.active == True))  # noqa: E712
    return to_cart_product(row) if row else None


PLU_PREFIX = "PLU-"


def find_by_plu(item_code: str) -> CartProduct | None:
    """The active product a scale label's item code names (sku ``PLU-{item_code}``), or None."""
    row = Product.get_or_none((Product.sku == PLU_PREFIX + item_code) & (Product.active == True))  # noqa: E712
    return to_cart_product(row) if row else None


def loose_products(category: str) -> list[CartProduct]:
    """Active products without a barcode in ``category``, sold by the piece (not weighed)."""
    rows = (
        Product.select()
        .where(
            Product.barcode.is_null(),
            Product.category == category,
            Product.active == True,  # noqa: E712
            ~Product.sku.startswith(PLU_PREFIX),
        )
        .order_by(Product.sku)
    )
    return [to_cart_product(row) for row in rows]


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
    rows = demo_products() + demo_loose_products()
    with database.atomic("IMMEDIATE"):
        Product.insert_many(rows).execute()
    return len(rows)
