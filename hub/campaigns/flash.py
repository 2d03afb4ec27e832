"""Flash sales (秒杀): a time-limited price with a quantity cap, honoured by terminals offline.

The owner defines a sale at the hub; the hub splits the cap across the terminals named
(:func:`allocate`: evenly, the remainder to the first) once, at definition, and never changes a
terminal's share afterwards, so the shares can never add up to more than the cap. Each terminal
gets every share in the config release (``campaigns``, kind ``flash_sale``) and sells at the
flash price at most its own share, counting what it sold itself, with or without the hub.
What was sold is read back from the booked sale lines (:func:`sold`).
"""

import datetime as dt
import json
from collections.abc import Callable, Sequence
from typing import Any

from peewee import CharField, DateTimeField, IntegerField, TextField, fn

from hub.accounts import audit as owner_audit
from hub.catalog.models import CatalogProduct
from hub.ingest.models import BaseModel, Sale, SaleLine


class FlashSale(BaseModel):
    """One flash sale: ``price_fen`` for ``sku`` from ``starts_at`` to ``ends_at`` (UTC, ISO 8601),
    at most ``cap`` units in all; ``allocations`` is the JSON ``{device: units}`` fixed at definition."""

    id = CharField(primary_key=True)
    sku = CharField(index=True)
    price_fen = IntegerField()
    cap = IntegerField()
    starts_at = CharField()
    ends_at = CharField()
    allocations = TextField()
    by = CharField()
    created_at = DateTimeField()


MODELS = [FlashSale]


class FlashSaleRefused(ValueError):
    """A flash sale the hub will not define; the message is in zh-CN and English."""


def check_reach(
    devices: Sequence[str], stores: frozenset[str], store_of: Callable[[str], str | None]
) -> None:
    """Refuse a manager's flash sale unless it names its terminals and each sells for one of
    ``stores`` (``store_of``: the device registry's word, else the store of its booked sales)."""
    if not devices:
        raise FlashSaleRefused(
            "请写明参加秒杀的终端（只能是您门店的终端） / "
            "name the terminals that share the cap (only your stores' terminals)"
        )
    outside = sorted(d for d in set(devices) if store_of(d) not in stores)
    if outside:
        names, own = ", ".join(outside), ", ".join(sorted(stores))
        raise FlashSaleRefused(
            f"终端 {names} 不属于您的门店（{own}），只有店主可以把它们加入秒杀 / "
            f"terminal(s) {names} are not in your stores ({own}); only the owner may include them"
        )


def within(sale: dict[str, Any], stores: frozenset[str], store_of: Callable[[str], str | None]) -> bool:
    """Whether every terminal sharing ``sale`` (a :func:`summary` row) sells for one of ``stores``."""
    return all(store_of(device) in stores for device in sale["allocations"])


def allocate(cap: int, devices: Sequence[str]) -> dict[str, int]:
    """``cap`` units split over ``devices`` (sorted): an even share each, the remainder one by one
    to the first; the shares add up to exactly ``cap``."""
    names = sorted(set(devices))
    share, extra = divmod(cap, len(names))
    return {device: share + (1 if i < extra else 0) for i, device in enumerate(names)}


def define(
    sale_id: str,
    sku: str,
    price_fen: int,
    cap: int,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    devices: Sequence[str],
    by: str,
    now: dt.datetime,
) -> FlashSale:
    """Check and store a flash sale with its per-terminal shares, audited (call in a transaction)."""
    product = CatalogProduct.get_or_none(CatalogProduct.sku == sku)
    if product is None:
        raise FlashSaleRefused(f"没有商品 {sku} / no product {sku} in the catalog")
    if not 0 < price_fen < product.price_fen:
        raise FlashSaleRefused(
            f"秒杀价必须大于 0 且低于原价 {product.price_fen} 分 / the flash price must be above 0 and "
            f"below the normal price ({product.price_fen} fen)"
        )
    if not devices or cap < len(set(devices)):
        raise FlashSaleRefused("数量至少每台终端 1 件 / the cap must give every terminal at least 1 unit")
    if ends_at <= starts_at or starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise FlashSaleRefused(
            "结束时间必须晚于开始时间（带时区）/ the end must be after the start (with a time zone)"
        )
    if FlashSale.get_or_none(FlashSale.id == sale_id) is not None:
        raise FlashSaleRefused(f"秒杀 {sale_id} 已存在 / flash sale {sale_id} already exists")
    shares = allocate(cap, devices)
    row = FlashSale.create(
        id=sale_id, sku=sku, price_fen=price_fen, cap=cap,
        starts_at=_utc(starts_at), ends_at=_utc(ends_at),
        allocations=json.dumps(shares, sort_keys=True), by=by, created_at=now,
    )  # fmt: skip
    owner_audit.record(by, "flash_sale.defined", sale_id, now, sku=sku, cap=cap, allocations=shares)
    return row


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def offers(now: dt.datetime) -> list[dict[str, Any]]:
    """The flash sales not yet ended at ``now``, as the config release's ``campaigns`` carry them."""
    rows = FlashSale.select().where(FlashSale.ends_at > _utc(now)).order_by(FlashSale.starts_at, FlashSale.id)
    return [
        {
            "kind": "flash_sale", "id": row.id, "sku": row.sku, "price_fen": row.price_fen, "cap": row.cap,
            "starts_at": row.starts_at, "ends_at": row.ends_at, "allocations": json.loads(row.allocations),
        }
        for row in rows
    ]  # fmt: skip


def sold(sale: FlashSale) -> dict[str, int]:
    """Units sold at the flash price per terminal, from the booked sale lines (refunds not netted:
    a refunded unit does not go back to a terminal's share either)."""
    query = (
        SaleLine.select(Sale.device, fn.SUM(SaleLine.quantity))
        .join(Sale, on=(SaleLine.sale == Sale.id))
        .where(SaleLine.sku == sale.sku, SaleLine.unit_price_fen == sale.price_fen)
        .group_by(Sale.device)
        .tuples()
    )
    return {device: int(units) for device, units in query}


def summary(now: dt.datetime) -> list[dict[str, Any]]:
    """Every flash sale with its shares and what each terminal sold, newest first."""
    rows = FlashSale.select().order_by(FlashSale.starts_at.desc(), FlashSale.id)
    out = []
    for row in rows:
        units = sold(row)
        out.append(
            {
                "id": row.id, "sku": row.sku, "price_fen": row.price_fen, "cap": row.cap,
                "starts_at": row.starts_at, "ends_at": row.ends_at,
                "allocations": json.loads(row.allocations), "sold": units, "sold_total": sum(units.values()),
                "open": row.starts_at <= _utc(now) < row.ends_at,
            }
        )  # fmt: skip
    return out
