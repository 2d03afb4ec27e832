"""The catalog's tables: the owner's products and the config releases published to terminals."""

from peewee import AutoField, BooleanField, CharField, IntegerField, TextField

from hub.ingest.models import BaseModel

__all__ = ["MODELS", "CatalogProduct", "Release"]


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

    class Meta:
        table_name = "config_release"


MODELS = [CatalogProduct, Release]
