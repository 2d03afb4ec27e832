"""The owner's catalog edits on the hub: prices, names, categories, on/off, new products.

Every change is validated like the downlink (:class:`kiosk.sync.config.CatalogItem`)
and audited (:mod:`hub.accounts.audit`) in the same transaction. Terminals see a
change only when the owner publishes a new config release; :func:`unpublished`
says what the next one would change.
"""

import datetime as dt
from dataclasses import dataclass

from pydantic import ValidationError

from hub.accounts import audit as owner_audit
from hub.catalog import prices
from hub.catalog.models import StorePrice
from hub.catalog.releases import CatalogProduct, latest_release
from hub.db import database
from hub.fleet.devices import ID as STORE_ID
from hub.fleet.presence import DeviceStatus
from kiosk.domain.money import parse_yuan
from kiosk.sync.config import CatalogItem

MAX_PRICE_FEN = 100_000_000  # ¥1,000,000: above it a typo is far likelier than a real price


class CatalogError(ValueError):
    """A catalog edit that was refused; ``zh`` and ``en`` say why and what to type instead."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en


def price_from_text(text: str) -> int:
    """Fen from what the owner typed as yuan (``12``, ``12.5``, ``¥12.50``); refuse anything else."""
    cleaned = text.strip().removeprefix("¥").removeprefix("￥").strip()
    try:
        fen = int(parse_yuan(cleaned))
    except ValueError:
        raise CatalogError(
            f"价格“{text}”看不懂：请写元，最多两位小数，例如 12.50。",
            f"Price {text!r} is not a yuan amount: write it like 12.50 (at most two decimals).",
        ) from None
    if fen < 0 or fen > MAX_PRICE_FEN:
        raise CatalogError("价格须在 ¥0 到 ¥1000000 之间。", "The price must be between ¥0 and ¥1,000,000.")
    return fen


def _item(**fields: object) -> CatalogItem:
    try:
        return CatalogItem.model_validate(fields)
    except ValidationError as bad:
        field = ".".join(str(p) for p in bad.errors()[0]["loc"])
        raise CatalogError(
            f"字段 {field} 不符合要求：{bad.errors()[0]['msg']}", f"Field {field}: {bad.errors()[0]['msg']}"
        ) from None


def update_product(
    sku: str,
    now: dt.datetime,
    by: str,
    *,
    price: str | None = None,
    name_zh: str | None = None,
    name_en: str | None = None,
    category: str | None = None,
    active: bool | None = None,
) -> CatalogProduct:
    """Change one product; fields left None stay. Audited with the old and new values."""
    if not by.strip():
        raise CatalogError("请填写修改人。", "Say who makes the change.")
    with database.atomic():
        product = CatalogProduct.get_or_none(CatalogProduct.sku == sku)
        if product is None:
            raise CatalogError(f"没有商品 {sku}。", f"No product {sku}.")
        before = _item(**product.__data__)
        changes = {
            "price_fen": price_from_text(price) if price is not None else before.price_fen,
            "name_zh": name_zh.strip() if name_zh is not None else before.name_zh,
            "name_en": name_en.strip() if name_en is not None else before.name_en,
            "category": category.strip() if category is not None else before.category,
            "active": before.active if active is None else active,
        }
        after = _item(**{**before.model_dump(), **changes})
        diff = {
            k: [getattr(before, k), getattr(after, k)]
            for k in changes
            if getattr(before, k) != getattr(after, k)
        }
        if diff:
            CatalogProduct.update(**changes).where(CatalogProduct.sku == sku).execute()
            owner_audit.record(by.strip(), "catalog.update", f"product:{sku}", now, **diff)
        return CatalogProduct.get_by_id(sku)


def add_product(item: dict[str, object], now: dt.datetime, by: str) -> CatalogProduct:
    """A new product; its SKU and barcode must be new. Audited."""
    if not by.strip():
        raise CatalogError("请填写修改人。", "Say who makes the change.")
    new = _item(**item)
    with database.atomic():
        if CatalogProduct.get_or_none(CatalogProduct.sku == new.sku) is not None:
            raise CatalogError(f"商品编码 {new.sku} 已存在。", f"SKU {new.sku} already exists.")
        if new.barcode and CatalogProduct.get_or_none(CatalogProduct.barcode == new.barcode) is not None:
            raise CatalogError(
                f"条码 {new.barcode} 已被其他商品使用。", f"Barcode {new.barcode} belongs to another product."
            )
        CatalogProduct.create(**new.model_dump())
        owner_audit.record(by.strip(), "catalog.add", f"product:{new.sku}", now, **new.model_dump())
    return CatalogProduct.get_by_id(new.sku)


def set_store_price(store: str, sku: str, price: str, now: dt.datetime, by: str) -> int | None:
    """Set ``store``'s price of ``sku`` from yuan as typed; an empty ``price`` removes it (the catalog
    price applies again). Audited; returns the fen set or None. CatalogError (zh/en) when refused."""
    store, sku = store.strip(), sku.strip()
    if not STORE_ID.fullmatch(store):
        raise CatalogError(
            f"门店编号“{store[:40]}”无效：只能包含字母、数字、_ 和 -，例如 S01。",
            f"Store {store[:40]!r} is not a store id: letters, digits, _ and -, e.g. S01.",
        )
    if CatalogProduct.get_or_none(CatalogProduct.sku == sku) is None:
        raise CatalogError(f"没有商品 {sku[:40]}。", f"No product {sku[:40]}.")
    fen = price_from_text(price) if price.strip() else None
    with database.atomic():
        before = StorePrice.get_or_none(StorePrice.store == store, StorePrice.sku == sku)
        if fen is None:
            StorePrice.delete().where(StorePrice.store == store, StorePrice.sku == sku).execute()
        else:
            StorePrice.insert(store=store, sku=sku, price_fen=fen).on_conflict(
                conflict_target=[StorePrice.store, StorePrice.sku], update={StorePrice.price_fen: fen}
            ).execute()
        was = int(before.price_fen) if before else None
        owner_audit.record(
            by, "catalog.store_price", f"product:{sku}", now, store=store, price_fen=[was, fen]
        )
    return fen


@dataclass(frozen=True)
class Pending:
    """What publishing now would change on the terminals, against the newest release."""

    release: int  # the newest release's version (0: none yet)
    added: list[str]
    changed: list[str]
    removed: list[str]
    behind: list[tuple[str, int]]  # terminals whose last status reports an older config version

    @property
    def count(self) -> int:
        """How many products differ."""
        return len(self.added) + len(self.changed) + len(self.removed)


def unpublished() -> Pending:
    """Products added, changed or gone since the newest release (SKUs, sorted)."""

    release = latest_release()
    version = release.version if release else 0
    published = {item.sku: item for item in release.catalog} if release else {}
    current = {p.sku: _item(**p.__data__) for p in CatalogProduct.select()}
    behind = DeviceStatus.select(DeviceStatus.device, DeviceStatus.config_version).where(
        DeviceStatus.config_version < version
    )
    # a store's own price set, changed or removed since the release counts as a changed product
    now_own, then_own = prices.store_prices(), prices.frozen_prices(version)
    repriced = {
        sku
        for store in set(now_own) | set(then_own)
        for sku in set(now_own.get(store, {})) | set(then_own.get(store, {}))
        if now_own.get(store, {}).get(sku) != then_own.get(store, {}).get(sku)
    }
    return Pending(
        release=version,
        added=sorted(set(current) - set(published)),
        changed=sorted(
            s for s in set(current) & set(published) if current[s] != published[s] or s in repriced
        ),
        removed=sorted(set(published) - set(current)),
        behind=[(d, int(v)) for d, v in behind.order_by(DeviceStatus.device).tuples()],
    )
