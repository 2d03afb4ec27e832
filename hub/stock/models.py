"""The stock tables: the ledger of movements, the balance kept beside it, documents and thresholds.

- ``stock_move``: one row per movement of one product at one store, never updated or deleted.
  A sale line takes stock away (``sale``), a refund line brings it back (``refund``); the owner's
  documents add ``receive``, ``adjust`` (with a reason), ``count`` (a stock-take: the difference
  between what was counted and what the ledger said) and ``transfer`` (out of one store, into the
  other, both moves under one document).
- ``stock_level``: per store and product, the sum of its moves (``on_hand``), kept in the same
  transaction as every move so pages read one row instead of summing the ledger.
- ``stock_document``: who received, adjusted, counted or transferred what, when and why.
- ``stock_threshold``: the owner's low-stock level and reorder target per store and product.
"""

from peewee import AutoField, BigIntegerField, CharField, CompositeKey, IntegerField

from hub.ingest.models import BaseModel

__all__ = ["KINDS", "MODELS", "StockDocument", "StockLevel", "StockMove", "StockThreshold"]

#: every kind of movement; documents are of the last four kinds
KINDS = ("sale", "refund", "receive", "adjust", "count", "transfer")


class StockMove(BaseModel):
    """One movement of one product at one store (``quantity`` signed: + in, − out)."""

    id = AutoField()
    store = CharField()
    sku = CharField()
    quantity = BigIntegerField()
    kind = CharField()  # one of KINDS
    ref = CharField()  # the sale, refund or document it belongs to
    at = CharField()  # ISO time with offset: the terminal's for sales and refunds, the hub's otherwise
    counted = BigIntegerField(null=True)  # a stock-take's counted quantity

    class Meta:
        table_name = "stock_move"
        indexes = ((("store", "sku", "id"), False), (("ref",), False))


class StockLevel(BaseModel):
    """The sum of a store's moves of one product."""

    store = CharField()
    sku = CharField()
    on_hand = BigIntegerField(default=0)

    class Meta:
        table_name = "stock_level"
        primary_key = CompositeKey("store", "sku")


class StockDocument(BaseModel):
    """A receiving, adjustment, stock-take or transfer as the person who made it recorded it."""

    id = CharField(primary_key=True)  # a UUID
    kind = CharField()  # receive, adjust, count, transfer
    store = CharField()  # the store it happened at (a transfer: the store it left)
    to_store = CharField(default="")  # a transfer: the store it went to
    at = CharField()
    by = CharField()
    reason = CharField(default="")  # required for an adjustment
    lines = IntegerField(default=0)

    class Meta:
        table_name = "stock_document"


class StockThreshold(BaseModel):
    """Below ``low`` on hand, the product is on the reorder list; ``target`` is what to refill to."""

    store = CharField()
    sku = CharField()
    low = BigIntegerField()
    target = BigIntegerField()

    class Meta:
        table_name = "stock_threshold"
        primary_key = CompositeKey("store", "sku")


MODELS = [StockMove, StockLevel, StockDocument, StockThreshold]
