"""Stock as a CSV file: export the levels, import a stock-take or a receiving (and low levels).

Columns: ``store, sku, quantity`` (or ``on_hand``, the export's name for it), optional ``low`` and
``target`` (the low-stock level and reorder target; both or neither); the export's other columns
(``name_zh``, ``name_en``, ``suggested``) are allowed and ignored, so an exported file edited in Excel
imports again. A blank quantity changes no stock (a row that only sets the low level). Every row is
checked first; problems are listed with their line numbers in English and Chinese
(:class:`hub.catalog.csvfile.CsvRefused`) and one bad row refuses the whole file. Encodings as the
catalog import (:func:`hub.catalog.csvfile.decode`).
"""

import datetime as dt
from typing import Any

from hub.catalog.csvfile import CsvRefused, Problem, rows_of, write_csv
from hub.catalog.models import CatalogProduct
from hub.db import database
from hub.stock import ledger

COLUMNS = ("store", "sku", "name_zh", "name_en", "on_hand", "low", "target", "suggested")
KINDS = ("count", "receive")


def export_text(stores: list[str] | None = None) -> str:
    """The stock levels as CSV text (what ``hub stock export`` writes)."""
    rows: list[list[Any]] = [
        [
            x.store,
            x.sku,
            x.name_zh,
            x.name_en,
            x.on_hand,
            "" if x.low is None else x.low,
            "" if x.target is None else x.target,
            x.suggested,
        ]
        for x in ledger.levels(stores)
    ]
    return write_csv(COLUMNS, rows)


def _number(value: str) -> int | None:
    try:
        return int(value.replace("＋", "+").replace("－", "-"))
    except ValueError:
        return None


def check(text: str, kind: str) -> tuple[dict[str, list[ledger.Line]], list[tuple[int, str, str, int, int]]]:
    """The documents (lines per store) and thresholds (line, store, sku, low, target) of a stock CSV."""
    if kind not in KINDS:
        raise CsvRefused(
            [
                Problem(
                    0,
                    "",
                    f"import as count or receive, not {kind!r}",
                    "只能按盘点（count）或到货（receive）导入",
                )
            ]
        )
    header_rows = rows_of(
        text, ("store", "sku"), ("quantity", "on_hand", "low", "target", "name_zh", "name_en", "suggested")
    )
    problems: list[Problem] = []
    documents: dict[str, list[ledger.Line]] = {}
    limits: list[tuple[int, str, str, int, int]] = []
    seen: dict[tuple[str, str], int] = {}
    wanted = sorted({row["sku"] for _, row in header_rows})
    known = {
        s for (s,) in CatalogProduct.select(CatalogProduct.sku).where(CatalogProduct.sku.in_(wanted)).tuples()
    }
    for line, row in header_rows:
        store, sku = row["store"], row["sku"]
        try:
            ledger.check_store(store)
        except ledger.StockError as bad:
            problems.append(Problem(line, "store", bad.en, bad.zh))
            continue
        if sku not in known:
            problems.append(
                Problem(
                    line, "sku", f"no product {sku[:40]} in the catalog", f"商品目录里没有编码 {sku[:40]}"
                )
            )
            continue
        if (store, sku) in seen:
            problems.append(
                Problem(
                    line,
                    "sku",
                    f"{store} {sku} is also on line {seen[(store, sku)]}",
                    f"{store} {sku} 与第 {seen[(store, sku)]} 行重复",
                )
            )
            continue
        seen[(store, sku)] = line
        column = "quantity" if "quantity" in row else "on_hand"
        raw = row.get(column, "")
        if raw:
            quantity = _number(raw)
            least = 0 if kind == "count" else 1
            if quantity is None or not least <= quantity <= ledger.MAX_QUANTITY:
                problems.append(
                    Problem(
                        line,
                        column,
                        f"{raw[:20]!r}: a whole number from {least} to {ledger.MAX_QUANTITY}",
                        f"“{raw[:20]}”无效：须为 {least} 到 {ledger.MAX_QUANTITY} 的整数",
                    )
                )
                continue
            documents.setdefault(store, []).append((sku, quantity, line))
        low_raw, target_raw = row.get("low", ""), row.get("target", "")
        if low_raw or target_raw:
            low, target = _number(low_raw), _number(target_raw)
            if low is None or target is None or not 0 <= low <= target <= ledger.MAX_QUANTITY:
                problems.append(
                    Problem(
                        line,
                        "low, target",
                        "both whole numbers, 0 ≤ low ≤ target",
                        "库存下限和补货目标都要填整数，且 0 ≤ 下限 ≤ 目标",
                    )
                )
                continue
            limits.append((line, store, sku, low, target))
    if problems:
        raise CsvRefused(problems)
    return documents, limits


def import_text(text: str, kind: str, now: dt.datetime, by: str) -> tuple[list[str], int]:
    """Book a stock CSV as one ``kind`` document per store and set its low levels, in one transaction;
    (document ids, thresholds set). CsvRefused (nothing written) when any row is wrong."""
    documents, limits = check(text, kind)
    with database.atomic():
        ids = []
        for store, lines in sorted(documents.items()):
            try:
                if kind == "count":
                    ids.append(ledger.count(store, lines, now, by))
                else:
                    ids.append(ledger.receive(store, lines, now, by))
            except ledger.StockError as bad:  # checked above; kept for a product removed meanwhile
                raise CsvRefused([Problem(0, "", bad.en, bad.zh)]) from None
        for _line, store, sku, low, target in limits:
            ledger.set_threshold(store, sku, low, target, now, by)
    return ids, len(limits)
