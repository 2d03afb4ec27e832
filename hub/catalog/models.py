"""The catalog's tables: the owner's products and the config releases published to terminals."""

from peewee import AutoField, BlobField, BooleanField, CharField, CompositeKey, IntegerField, TextField

from hub.ingest.models import BaseModel

__all__ = ["MODELS", "CatalogProduct", "ProductImage", "Release", "StorePrice"]


class CatalogProduct(BaseModel):
    """A product the owner sells; the source of every terminal's catalog."""

    sku = CharField(primary_key=True)
    barcode = CharField(null=True, unique=True)
    name_zh = CharField()
    name_en = CharField(default="")
    price_fen = IntegerField()
    category = CharField(default="")
    active = BooleanField(default=True)

    class Meta:
        table_name = "hub_catalog_product"


class Release(BaseModel):
    """A config release as published; ``version`` only grows."""

    version = AutoField()
    issued_at = CharField()
    body = TextField()
    # the stores' own prices frozen with the release: {"S02": {"sku": fen, ...}} (hub.catalog.prices)
    store_prices = TextField(default="{}")

    class Meta:
        table_name = "config_release"


class StorePrice(BaseModel):
    """A store's own price for a product: it overrides the catalog price at that store's terminals."""

    store = CharField()
    sku = CharField()
    price_fen = IntegerField()

    class Meta:
        table_name = "hub_store_price"
        primary_key = CompositeKey("store", "sku")


class ProductImage(BaseModel):
    """A product's picture as uploaded (checked by hub.catalog.images), shown on the dashboard."""

    sku = CharField(primary_key=True)
    content_type = CharField()  # image/png, image/jpeg or image/webp, found from the bytes
    data = BlobField()
    width = IntegerField()
    height = IntegerField()
    sha256 = CharField()
    uploaded_at = CharField()

    class Meta:
        table_name = "hub_product_image"


MODELS = [CatalogProduct, Release, StorePrice, ProductImage]
