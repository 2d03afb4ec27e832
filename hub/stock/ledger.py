"""The stock ledger: every movement appended, the balance kept beside it in the same transaction.

Sales and refunds reach the ledger through the report tally (:mod:`hub.reports.summary`): the
booking code of all three ingest paths (SQLite, PostgreSQL general path and PostgreSQL bulk
path) writes :func:`move_queries` in the transaction that books the sale or the refund, so a sale
counted twice or lost by the ledger is as impossible as one counted twice by the reports.

The owner's documents (:func:`receive`, :func:`adjust`, :func:`count`, :func:`transfer`) are
checked whole before anything is written; a refused one changes nothing and says why in zh/en.
Each is audited (:mod:`hub.accounts.audit`) in its own transaction.
"""

import datetime as dt
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from peewee import EXCLUDED, Query, fn

from hub.accounts import audit as owner_audit
from hub.catalog.models import CatalogProduct
from hub.db import database
from hub.stock.models import StockDocument, StockLevel, StockMove, StockThreshold

__all__ = [
    "MAX_QUANTITY",
    "Level",
    "StockError",
    "adjust",
    "count",
    "levels",
    "move_queries",
    "moves_of",
    "on_hand",
    "receive",
    "reorder_list",
    "set_threshold",
    "transfer",
]

STORE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")  # as hub.fleet.devices' store ids
MAX_QUANTITY = 1_000_000  # one line of one document: above it a typo is far likelier than real stock
MAX_LINES = 2_000  # one document
MAX_REASON = 200

# a movement as the booking code hands it over: (store, sku, quantity, kind, ref, at)
Move = tuple[str, str, int, str, str, str]
# a document line: (sku, quantity), or (sku, quantity, line number in the form or file it came from)
Line = tuple[str, int] | tuple[str, int, int]


class StockError(ValueError):
    """A stock document that was refused; ``zh`` and ``en`` say why and what to do instead."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en


def move_queries(moves: Sequence[Move]) -> list[Query]:
    """The statements that append ``moves`` to the ledger and add them to the balances.

    Two statements whatever the number of moves (the PostgreSQL bulk path puts them into its one
    statement); balance keys sorted, so two workers lock rows in the same order.
    """
    if not moves:
        return []
    rows = [
        {"store": s, "sku": k, "quantity": q, "kind": kind, "ref": ref, "at": at}
        for s, k, q, kind, ref, at in moves
    ]
    return [StockMove.insert_many(rows).returning(StockMove.id), level_query(moves)]


def level_query(moves: Sequence[Move]) -> Query:
    """The statement that adds ``moves`` (not empty) to the balances, one row per store and product."""
    sums: dict[tuple[str, str], int] = {}
    for store, sku, quantity, *_ in moves:
        sums[(store, sku)] = sums.get((store, sku), 0) + quantity
    levels = [{"store": s, "sku": k, "on_hand": q} for (s, k), q in sorted(sums.items())]
    return (
        StockLevel.insert_many(levels)
        .on_conflict(
            conflict_target=[StockLevel.store, StockLevel.sku],
            update={StockLevel.on_hand: StockLevel.on_hand + EXCLUDED.on_hand},
        )
        .returning(StockLevel.store)
    )


def _write(moves: Sequence[Move]) -> None:
    for query in move_queries(moves):
        query.execute()


def on_hand(store: str, sku: str) -> int:
    """What the ledger says ``store`` holds of ``sku`` (0 for a product never moved there)."""
    level = StockLevel.get_or_none(StockLevel.store == store, StockLevel.sku == sku)
    return int(level.on_hand) if level else 0


_SEPARATORS = re.compile(r"[\s,，;；]+")


def parse_lines(text: str) -> list[Line]:
    """Document lines as typed into a form, one product a line: ``SKU quantity`` (a space, a tab or
    a comma between; blank lines skipped). Each keeps its line number for the errors."""
    out: list[Line] = []
    for n, raw in enumerate(text.splitlines(), start=1):
        parts = [p for p in _SEPARATORS.split(raw.strip()) if p]
        if not parts:
            continue
        if len(parts) != 2:
            raise StockError(
                f"第 {n} 行：请写“商品编码 数量”，例如 A100 12。",
                f"Line {n}: write 'SKU quantity', e.g. A100 12.",
            )
        try:
            quantity = int(parts[1].replace("＋", "+").replace("－", "-"))
        except ValueError:
            raise StockError(
                f"第 {n} 行：数量“{parts[1][:20]}”不是整数。",
                f"Line {n}: quantity {parts[1][:20]!r} is not a whole number.",
            ) from None
        out.append((parts[0], quantity, n))
    if not out:
        raise StockError("单据里没有商品。", "The document has no lines.")
    return out


def check_store(store: str) -> str:
    """``store`` stripped, when it is a store id (1–32 letters, digits, ``_``, ``-``)."""
    store = store.strip()
    if not STORE_ID.fullmatch(store):
        raise StockError(
            f"门店编号“{store[:40]}”无效：只能包含字母、数字、_ 和 -，例如 S01。",
            f"Store {store[:40]!r} is not a store id: letters, digits, _ and -, e.g. S01.",
        )
    return store


def _check_lines(
    lines: Iterable[tuple[str, int] | tuple[str, int, int]], *, signed: bool = False, zero: bool = False
) -> list[tuple[str, int]]:
    """Document lines with known SKUs and sensible quantities; the first bad one refuses them all.

    A line is ``(sku, quantity)``, or ``(sku, quantity, n)`` when the caller read it from line ``n``
    of a form or a file: errors then name that line."""
    out: list[tuple[str, int]] = []
    where: list[int] = []
    seen: set[str] = set()
    for i, line in enumerate(lines, start=1):
        sku, quantity = line[0], line[1]
        n = line[2] if len(line) > 2 else i  # type: ignore[misc]
        where.append(n)
        sku = str(sku).strip()
        if sku in seen:
            raise StockError(
                f"第 {n} 行：商品 {sku} 重复出现，请合并成一行。",
                f"Line {n}: {sku} appears twice: merge the lines.",
            )
        seen.add(sku)
        if not isinstance(quantity, int) or isinstance(quantity, bool):
            raise StockError(f"第 {n} 行：数量须为整数。", f"Line {n}: the quantity must be a whole number.")
        low = -MAX_QUANTITY if signed else (0 if zero else 1)
        if quantity < low or quantity > MAX_QUANTITY or (signed and quantity == 0):
            if signed:
                zh, en = (
                    "不为 0 的整数（增加写正数，减少写负数）",
                    "a non-zero whole number (+ adds, − takes away)",
                )
            else:
                zh, en = ("不小于 0 的整数", "0 or more") if zero else ("正整数", "1 or more")
            raise StockError(
                f"第 {n} 行：{sku} 的数量 {quantity} 不行，须为{zh}，最大 {MAX_QUANTITY}。",
                f"Line {n}: quantity {quantity} for {sku} must be {en}, at most {MAX_QUANTITY}.",
            )
        out.append((sku, quantity))
    if not out:
        raise StockError("单据里没有商品。", "The document has no lines.")
    if len(out) > MAX_LINES:
        raise StockError(
            f"一张单据最多 {MAX_LINES} 行，请分开录入。", f"At most {MAX_LINES} lines a document: split it."
        )
    known = {
        s
        for (s,) in CatalogProduct.select(CatalogProduct.sku)
        .where(CatalogProduct.sku.in_(list(seen)))
        .tuples()
    }
    for n, (sku, _quantity) in zip(where, out, strict=True):
        if sku not in known:
            raise StockError(
                f"第 {n} 行：商品目录里没有编码 {sku}。", f"Line {n}: no product {sku} in the catalog."
            )
    return out


def _document(
    kind: str, store: str, now: dt.datetime, by: str, lines: int, to_store: str = "", reason: str = ""
) -> str:
    if not by.strip():
        raise StockError("请填写操作人。", "Say who makes the change.")
    doc = str(uuid.uuid4())
    StockDocument.create(
        id=doc, kind=kind, store=store, to_store=to_store, at=_stamp(now), by=by.strip(), reason=reason,
        lines=lines,
    )  # fmt: skip
    return doc


def _stamp(now: dt.datetime) -> str:
    return (now if now.tzinfo else now.replace(tzinfo=dt.UTC)).isoformat(timespec="seconds")


def receive(store: str, lines: Iterable[Line], now: dt.datetime, by: str) -> str:
    """Goods received at ``store``: each (sku, quantity ≥ 1) added. Returns the document id."""
    store = check_store(store)
    checked = _check_lines(lines)
    with database.atomic():
        doc = _document("receive", store, now, by, len(checked))
        _write([(store, sku, q, "receive", doc, _stamp(now)) for sku, q in checked])
        owner_audit.record(by, "stock.receive", f"stock:{doc}", now, store=store, lines=checked)
    return doc


def adjust(store: str, lines: Iterable[Line], reason: str, now: dt.datetime, by: str) -> str:
    """Stock found or lost at ``store`` (breakage, expiry, theft): signed changes, with a reason."""
    store = check_store(store)
    reason = " ".join(reason.split())
    if not reason:
        raise StockError(
            "调整库存须写明原因（如：破损、过期、盘点差异）。", "Say why (broken, expired, lost…)."
        )
    if len(reason) > MAX_REASON:
        raise StockError(f"原因最多 {MAX_REASON} 个字。", f"The reason is at most {MAX_REASON} characters.")
    checked = _check_lines(lines, signed=True)
    with database.atomic():
        doc = _document("adjust", store, now, by, len(checked), reason=reason)
        _write([(store, sku, q, "adjust", doc, _stamp(now)) for sku, q in checked])
        owner_audit.record(by, "stock.adjust", f"stock:{doc}", now, store=store, lines=checked, reason=reason)
    return doc


def count(store: str, lines: Iterable[Line], now: dt.datetime, by: str) -> str:
    """A stock-take at ``store``: each (sku, counted ≥ 0) becomes a move of the difference between the
    count and the ledger at that moment (0 when they agree: the count is still on record)."""
    store = check_store(store)
    checked = _check_lines(lines, zero=True)
    with database.atomic():
        doc = _document("count", store, now, by, len(checked))
        rows = []
        for sku, counted in sorted(checked):
            before = _lock(store, sku)
            rows.append({"store": store, "sku": sku, "quantity": counted - before, "kind": "count",
                         "ref": doc, "at": _stamp(now), "counted": counted})  # fmt: skip
        StockMove.insert_many(rows).execute()
        for row in rows:
            StockLevel.update(on_hand=row["counted"]).where(
                StockLevel.store == store, StockLevel.sku == row["sku"]
            ).execute()
        owner_audit.record(by, "stock.count", f"stock:{doc}", now, store=store, lines=checked)
    return doc


def _lock(store: str, sku: str) -> int:
    query = (
        StockLevel.insert(store=store, sku=sku, on_hand=0)
        .on_conflict(
            conflict_target=[StockLevel.store, StockLevel.sku],
            update={StockLevel.on_hand: StockLevel.on_hand + 0},
        )
        .returning(StockLevel.on_hand)
    )
    return int(database.obj.execute(query).fetchone()[0])


def transfer(from_store: str, to_store: str, lines: Iterable[Line], now: dt.datetime, by: str) -> str:
    """Goods sent from one store to another: one document, a move out of one and into the other.
    Refused when the sending store's ledger holds less than it sends."""
    source, target = check_store(from_store), check_store(to_store)
    if source == target:
        raise StockError("调出和调入门店不能相同。", "The two stores must differ.")
    given = list(lines)
    checked = _check_lines(given)
    numbers = [line[2] if len(line) > 2 else i for i, line in enumerate(given, start=1)]  # type: ignore[misc]
    with database.atomic():
        for n, (sku, quantity) in zip(numbers, checked, strict=True):
            held = _lock(source, sku)
            if held < quantity:
                raise StockError(
                    f"第 {n} 行：{source} 只有 {held} 件 {sku}，调不出 {quantity} 件。",
                    f"Line {n}: {source} holds {held} of {sku}, cannot send {quantity}.",
                )
        doc = _document("transfer", source, now, by, len(checked), to_store=target)
        at = _stamp(now)
        moves = [(source, sku, -q, "transfer", doc, at) for sku, q in checked]
        moves += [(target, sku, q, "transfer", doc, at) for sku, q in checked]
        _write(moves)
        owner_audit.record(by, "stock.transfer", f"stock:{doc}", now, store=source, to=target, lines=checked)
    return doc


def set_threshold(store: str, sku: str, low: int, target: int, now: dt.datetime, by: str) -> None:
    """``store``'s low-stock level and reorder target for ``sku`` (low 0 and target 0: no alert)."""
    store = check_store(store)
    _check_lines([(sku, 1)])
    if not 0 <= low <= MAX_QUANTITY or not 0 <= target <= MAX_QUANTITY:
        raise StockError(
            f"低库存线和补货目标须在 0 到 {MAX_QUANTITY} 之间。",
            f"The low level and the target must be 0 to {MAX_QUANTITY}.",
        )
    if target < low:
        raise StockError(
            "补货目标不能低于低库存线。", "The reorder target cannot be below the low-stock level."
        )
    with database.atomic():
        StockThreshold.insert(store=store, sku=sku, low=low, target=target).on_conflict(
            conflict_target=[StockThreshold.store, StockThreshold.sku],
            update={StockThreshold.low: low, StockThreshold.target: target},
        ).execute()
        owner_audit.record(by, "stock.threshold", f"stock:{store}:{sku}", now, low=low, target=target)


@dataclass(frozen=True)
class Level:
    """One product at one store: what the ledger says, its threshold, and what to reorder."""

    store: str
    sku: str
    name_zh: str
    name_en: str
    on_hand: int
    low: int | None
    target: int | None

    @property
    def is_low(self) -> bool:
        """Below the owner's low-stock level (a level of 0 never alerts)."""
        return self.low is not None and self.low > 0 and self.on_hand < self.low

    @property
    def suggested(self) -> int:
        """How many to order to reach the target (0 when not low)."""
        return max(0, (self.target or 0) - self.on_hand) if self.is_low else 0


def levels(stores: Iterable[str] | None = None, sku: str | None = None) -> list[Level]:
    """Every store/product that has moved or has a threshold, by store then SKU (``stores`` None: all)."""
    balances = StockLevel.select(StockLevel.store, StockLevel.sku, StockLevel.on_hand)
    limits = StockThreshold.select()
    if stores is not None:
        wanted = list(stores)
        balances = balances.where(StockLevel.store.in_(wanted))
        limits = limits.where(StockThreshold.store.in_(wanted))
    if sku is not None:
        balances = balances.where(StockLevel.sku == sku)
        limits = limits.where(StockThreshold.sku == sku)
    held = {(s, k): int(q) for s, k, q in balances.tuples()}
    marks = {(t.store, t.sku): (int(t.low), int(t.target)) for t in limits}
    keys = sorted(set(held) | set(marks))
    names = {
        p.sku: (p.name_zh, p.name_en)
        for p in CatalogProduct.select(
            CatalogProduct.sku, CatalogProduct.name_zh, CatalogProduct.name_en
        ).where(CatalogProduct.sku.in_(sorted({k for _, k in keys})))
    }
    out = []
    for store, key in keys:
        zh, en = names.get(key, ("", ""))
        low, target = marks.get((store, key), (None, None))
        out.append(Level(store, key, zh, en, held.get((store, key), 0), low, target))
    return out


def reorder_list(stores: Iterable[str] | None = None) -> list[Level]:
    """The products below their low-stock level, most short first (by how far below the level)."""
    low = [level for level in levels(stores) if level.is_low]
    return sorted(low, key=lambda x: (x.on_hand - (x.low or 0), x.store, x.sku))


def moves_of(sku: str, stores: Iterable[str] | None = None, limit: int = 500) -> list[StockMove]:
    """A product's movements, newest first (at most ``limit``)."""
    query = StockMove.select().where(StockMove.sku == sku)
    if stores is not None:
        query = query.where(StockMove.store.in_(list(stores)))
    return list(query.order_by(StockMove.id.desc()).limit(limit))


def ledger_sum(store: str, sku: str) -> int:
    """The ledger's own sum for ``store`` and ``sku`` (the balance row must always equal it)."""
    total = (
        StockMove.select(fn.COALESCE(fn.SUM(StockMove.quantity), 0))
        .where(StockMove.store == store, StockMove.sku == sku)
        .scalar()
    )
    return int(total)


def documents(stores: Iterable[str] | None = None, limit: int = 50) -> list[StockDocument]:
    """The newest documents (``stores``: those that left or reached one of them)."""
    query = StockDocument.select()
    if stores is not None:
        wanted = list(stores)
        query = query.where(StockDocument.store.in_(wanted) | StockDocument.to_store.in_(wanted))
    return list(query.order_by(StockDocument.at.desc(), StockDocument.id).limit(limit))
