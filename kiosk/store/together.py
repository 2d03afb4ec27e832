"""The terminal's copy of the hub's "often bought together" table, and the index the cart reads.

The hub sends the table retained on ``pos/{d}/down/together`` (docs/protocol.md); ``kiosk sync``
applies it here, a newer version only, in one ``IMMEDIATE`` transaction, so it is there offline
and after a restart. ``kiosk run`` builds a :class:`kiosk.domain.together.TogetherIndex` from it
(:func:`load_index`) when the table or the catalog changed, and suggests from memory while the
shopper scans.
"""

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any, cast

from peewee import CharField, IntegerField

from kiosk.domain.cart import Product
from kiosk.domain.together import Pairing, TogetherIndex
from kiosk.store.connection import database
from kiosk.store.models import BaseModel
from kiosk.store.models import Product as ProductRow

# never offered unasked: each needs an attendant's check (kiosk.flows.cart.AGE_RESTRICTED)
NOT_SUGGESTED = frozenset({"alcohol", "tobacco"})


class TogetherRule(BaseModel):
    """A basket holding ``sku`` often also holds ``with_sku``, with the hub's figures."""

    sku = CharField(index=True)
    with_sku = CharField()
    lift_milli = IntegerField()  # 1500 = lift 1.5
    support_bp = IntegerField()  # basis points of all receipts
    confidence_bp = IntegerField()

    class Meta:
        table_name = "together_rule"


class TogetherTable(BaseModel):
    """One row: the applied table's version, when the hub made it and when it arrived."""

    id = IntegerField(primary_key=True)
    version = IntegerField()
    made_at = CharField()
    applied_at = CharField()

    class Meta:
        table_name = "together_table"


TOGETHER_MODELS = [TogetherRule, TogetherTable]


class TableError(ValueError):
    """A table message that cannot be read; says what is wrong (for the log)."""


def parse_table(payload: bytes) -> dict[str, Any]:
    """A table message, checked: ``version`` int, ``rules`` of ``[sku, with_sku, lift, support,
    confidence]``; TableError otherwise."""
    try:
        body = json.loads(payload)
        version, made_at = int(body["version"]), str(body.get("made_at", ""))
        rules = [(str(a), str(b), int(lift), int(sup), int(conf)) for a, b, lift, sup, conf in body["rules"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise TableError(f"the often-bought-together table cannot be read: {exc!r}") from exc
    if body.get("v") != 1 or version < 1:
        raise TableError(f"the often-bought-together table has v={body.get('v')!r}, version={version}")
    return {"version": version, "made_at": made_at, "rules": rules}


def apply_table(payload: bytes, now: dt.datetime) -> bool:
    """Store a table message if it is newer than the one held; True when applied."""
    table = parse_table(payload)
    with database.atomic("IMMEDIATE"):
        if table_version() >= table["version"]:
            return False
        TogetherRule.delete().execute()
        fields = [TogetherRule.sku, TogetherRule.with_sku, TogetherRule.lift_milli,
                  TogetherRule.support_bp, TogetherRule.confidence_bp]  # fmt: skip
        for start in range(0, len(table["rules"]), 500):
            TogetherRule.insert_many(table["rules"][start : start + 500], fields=fields).execute()
        TogetherTable.insert(
            id=1,
            version=table["version"],
            made_at=table["made_at"],
            applied_at=now.isoformat(timespec="seconds"),
        ).on_conflict_replace().execute()
    return True


def table_version() -> int:
    """The applied table's version; 0 when none ever arrived."""
    row = TogetherTable.get_or_none(TogetherTable.id == 1)
    return int(row.version) if row else 0


# the rows of .tuples() below, as peewee returns them (its types do not say so)
ProductTuple = tuple[str, str | None, str, str, int, str]
RuleTuple = tuple[str, str, int, int]


def load_index() -> TogetherIndex:
    """The applied rules whose suggested product is on sale here (active in this terminal's
    catalog, not age-restricted), with that product as the catalog prices it now."""
    # plain tuples, not model instances: a shop's whole table (5,000 rules) loads in a few tens of ms
    query = ProductRow.select(
        ProductRow.sku,
        ProductRow.barcode,
        ProductRow.name_zh,
        ProductRow.name_en,
        ProductRow.price_fen,
        ProductRow.category,
    ).where(
        ProductRow.sku.in_(TogetherRule.select(TogetherRule.with_sku)),
        ProductRow.active == True,  # noqa: E712
        ProductRow.category.not_in(NOT_SUGGESTED),
    )
    on_sale = {
        sku: Product(sku, barcode or "", zh, en, price, category)
        for sku, barcode, zh, en, price, category in cast(Iterable[ProductTuple], query.tuples())
    }
    pairs: dict[str, list[Pairing]] = {}
    rules = TogetherRule.select(
        TogetherRule.sku, TogetherRule.with_sku, TogetherRule.lift_milli, TogetherRule.confidence_bp
    )
    for sku, with_sku, lift_milli, confidence_bp in cast(Iterable[RuleTuple], rules.tuples()):
        if with_sku in on_sale:
            pairs.setdefault(sku, []).append(Pairing(on_sale[with_sku], lift_milli, confidence_bp))
    return TogetherIndex({sku: tuple(found) for sku, found in pairs.items()})
