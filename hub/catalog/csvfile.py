"""The catalog as a CSV file, both ways: what the owner exports, edits in Excel and imports again.

Columns: ``sku, barcode, name_zh, name_en, price, category, active`` (price in yuan as typed,
``12.50``; active ``1``/``0``, also ``yes``/``no``, ``是``/``否``; blank: on sale). An import checks
every row first and lists every problem with its line number, in English and Chinese, in the style
of ``kiosk config validate`` (``line 3: price: … / 第 3 行 price：…``); one bad row refuses the whole
file and nothing is written. The file may be UTF-8 (with or without the BOM Excel writes with
"CSV UTF-8") or GBK/GB18030 (what Excel on a Chinese Windows writes with plain "CSV"); anything else
is refused with the way to save it right. Exported texts that a spreadsheet would run as a formula
get a leading ``'`` (:func:`hub.web.exports`' rule, repeated here so the CLI writes the same).
"""

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from hub.accounts import audit as owner_audit
from hub.catalog.edits import CatalogError, price_from_text
from hub.catalog.models import CatalogProduct
from hub.db import database
from kiosk.sync.config import CatalogItem

COLUMNS = ("sku", "barcode", "name_zh", "name_en", "price", "category", "active")
MAX_BYTES = 5_000_000
MAX_ROWS = 20_000
MAX_SHOWN = 50  # problems listed; the count says how many more
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")
_TRUE = {"1", "yes", "y", "true", "是", "在售", ""}
_FALSE = {"0", "no", "n", "false", "否", "停售"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: its line (1 = the header), the column, and why in both languages."""

    line: int
    column: str
    en: str
    zh: str

    def say(self, lang: str) -> str:
        """The problem in one language, for a page: ``第 3 行 price：…`` or ``line 3: price: …``."""
        column = f" {self.column}" if self.column else ""
        if lang == "en":
            return f"line {self.line}:{column}: {self.en}".replace(":: ", ": ") if self.line else self.en
        return f"第 {self.line} 行{column}：{self.zh}" if self.line else self.zh

    def render(self, name: str = "") -> str:
        """``name:3: price: English / 第 3 行 price：中文`` (kiosk config validate's shape)."""
        if not self.line:  # the file as a whole (its size, how to read it)
            return f"{name or 'file'}: {self.en} / {self.zh}"
        where = f"{name}:{self.line}" if name else f"line {self.line}"
        column = f" {self.column}" if self.column else ""
        return f"{where}:{column}: {self.en} / 第 {self.line} 行{column}：{self.zh}".replace(":: ", ": ")


class CsvRefused(ValueError):
    """The file was refused whole; ``problems`` lists every reason with its line."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems[0].en if problems else "refused")
        self.problems = problems

    def render(self, name: str = "") -> str:
        """Every problem on its own line (the first :data:`MAX_SHOWN`), then the count."""
        lines = [p.render(name) for p in self.problems[:MAX_SHOWN]]
        more = len(self.problems) - MAX_SHOWN
        if more > 0:
            lines.append(f"… and {more} more / 另有 {more} 处")
        n = len(self.problems)
        lines.append(f"{n} problem(s), nothing imported / 共 {n} 处问题，未导入任何内容")
        return "\n".join(lines)


def decode(data: bytes) -> str:
    """The text of an uploaded CSV: UTF-8 (BOM or not) or GBK/GB18030; CsvRefused otherwise."""
    if len(data) > MAX_BYTES:
        raise CsvRefused(
            [
                Problem(
                    0,
                    "",
                    f"the file is over {MAX_BYTES // 1_000_000} MB",
                    f"文件超过 {MAX_BYTES // 1_000_000} MB",
                )
            ]
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CsvRefused(
            [
                Problem(
                    1,
                    "",
                    "this is UTF-16 (Excel's 'Unicode text'): save as 'CSV UTF-8 (comma delimited)'",
                    "这是 UTF-16 文件（Excel 的“Unicode 文本”）：请另存为“CSV UTF-8（逗号分隔）”",
                )
            ]
        )
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as bad:
        line = data[: bad.start].count(b"\n") + 1
        raise CsvRefused(
            [
                Problem(
                    line,
                    "",
                    "neither UTF-8 nor GBK text: save the sheet as 'CSV UTF-8 (comma delimited)'",
                    "既不是 UTF-8 也不是 GBK 编码：请在 Excel 里另存为“CSV UTF-8（逗号分隔）”",
                )
            ]
        ) from None


def rows_of(
    text: str, required: Sequence[str], optional: Sequence[str] = ()
) -> list[tuple[int, dict[str, str]]]:
    """``(line, {column: value})`` for every non-blank row under the header; the header must name
    the ``required`` columns (any order) and nothing outside ``required`` + ``optional``."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise CsvRefused([Problem(1, "", "the file is empty", "文件是空的")]) from None
    except csv.Error as bad:
        raise CsvRefused([Problem(1, "", f"not a CSV header: {bad}", f"表头无法读取：{bad}")]) from None
    problems = []
    missing = [c for c in required if c not in header]
    if missing:
        problems.append(
            Problem(
                1,
                ", ".join(missing),
                "missing column(s); the header must name: " + ", ".join(required),
                "缺少列；表头须包括：" + "、".join(required),
            )
        )
    known = set(required) | set(optional)
    unknown = [h for h in header if h not in known]
    if unknown:
        problems.append(
            Problem(
                1,
                ", ".join(unknown)[:60],
                "unknown column(s); allowed: " + ", ".join([*required, *optional]),
                "未知的列；可用的列：" + "、".join([*required, *optional]),
            )
        )
    if len(set(header)) != len(header):
        problems.append(Problem(1, "", "a column is named twice", "有重复的列名"))
    if problems:
        raise CsvRefused(problems)
    out = []
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(header):
                problems.append(
                    Problem(
                        line,
                        "",
                        f"{len(row)} cells for {len(header)} columns",
                        f"有 {len(row)} 格，表头只有 {len(header)} 列",
                    )
                )
                continue
            out.append((line, {h: (row[i].strip() if i < len(row) else "") for i, h in enumerate(header)}))
            if len(out) > MAX_ROWS:
                raise CsvRefused(
                    [
                        Problem(
                            line,
                            "",
                            f"more than {MAX_ROWS} rows: split the file",
                            f"超过 {MAX_ROWS} 行，请分成几个文件",
                        )
                    ]
                )
    except csv.Error as bad:
        problems.append(Problem(reader.line_num, "", f"unreadable CSV: {bad}", f"CSV 格式错误：{bad}"))
    if problems:
        raise CsvRefused(problems)
    if not out:
        raise CsvRefused([Problem(2, "", "no rows under the header", "表头下面没有数据")])
    return out


def spreadsheet_text(value: Any) -> Any:
    """A text a spreadsheet would read as a formula gets a leading ``'``; numbers pass."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def write_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """``rows`` under ``header`` as CSV text with a BOM (for Excel), formulas neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([spreadsheet_text(cell) for cell in row] for row in rows)
    return "\ufeff" + out.getvalue()


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def export_rows() -> list[list[Any]]:
    """Every product as a row of :data:`COLUMNS` (price in yuan, active 1/0)."""
    return [
        [p.sku, p.barcode or "", p.name_zh, p.name_en, _yuan(p.price_fen), p.category, 1 if p.active else 0]
        for p in CatalogProduct.select().order_by(CatalogProduct.sku)
    ]


def export_text() -> str:
    """The catalog as CSV text (what ``hub catalog export`` writes and ``/catalog.csv`` serves)."""
    return write_csv(COLUMNS, export_rows())


def check(text: str) -> list[dict[str, Any]]:
    """The products of a catalog CSV, every row checked; CsvRefused listing every problem."""
    problems: list[Problem] = []
    items: list[dict[str, Any]] = []
    skus: dict[str, int] = {}
    barcodes: dict[str, int] = {}
    for line, row in rows_of(text, ("sku", "name_zh", "price"), ("barcode", "name_en", "category", "active")):
        try:
            fen = price_from_text(row["price"])
        except CatalogError as bad:
            problems.append(Problem(line, "price", bad.en, bad.zh))
            continue
        active = row.get("active", "").lower()
        if active not in _TRUE | _FALSE:
            problems.append(
                Problem(
                    line,
                    "active",
                    f"{row['active'][:20]!r}: write 1 (on sale) or 0 (off)",
                    f"“{row['active'][:20]}”看不懂：在售写 1，停售写 0",
                )
            )
            continue
        fields = {
            "sku": row["sku"],
            "barcode": row.get("barcode") or None,
            "name_zh": row["name_zh"],
            "name_en": row.get("name_en", ""),
            "price_fen": fen,
            "category": row.get("category", ""),
            "active": active in _TRUE,
        }
        try:
            item = CatalogItem.model_validate(fields)
        except ValidationError as bad:
            first = bad.errors()[0]
            column = str(first["loc"][0]) if first["loc"] else ""
            column = "price" if column == "price_fen" else column
            problems.append(Problem(line, column, str(first["msg"]), f"取值无效：{first['msg']}"))
            continue
        if item.sku in skus:
            problems.append(
                Problem(
                    line,
                    "sku",
                    f"{item.sku} is also on line {skus[item.sku]}",
                    f"{item.sku} 与第 {skus[item.sku]} 行重复",
                )
            )
            continue
        skus[item.sku] = line
        if item.barcode:
            if item.barcode in barcodes:
                problems.append(
                    Problem(
                        line,
                        "barcode",
                        f"{item.barcode} is also on line {barcodes[item.barcode]}",
                        f"条码 {item.barcode} 与第 {barcodes[item.barcode]} 行重复",
                    )
                )
                continue
            barcodes[item.barcode] = line
        items.append(item.model_dump() | {"_line": line})
    if barcodes:
        owners = dict(
            CatalogProduct.select(CatalogProduct.barcode, CatalogProduct.sku)
            .where(CatalogProduct.barcode.in_(list(barcodes)))
            .tuples()
        )
        for item in items:
            owner = owners.get(item["barcode"])
            if owner is not None and owner != item["sku"]:
                problems.append(
                    Problem(
                        item["_line"],
                        "barcode",
                        f"{item['barcode']} belongs to product {owner}",
                        f"条码 {item['barcode']} 已属于商品 {owner}",
                    )
                )
    if problems:
        raise CsvRefused(sorted(problems, key=lambda p: p.line))
    return [{k: v for k, v in item.items() if k != "_line"} for item in items]


def import_text(text: str, now: dt.datetime, by: str) -> tuple[int, int]:
    """Add or update every product of a catalog CSV in one transaction, audited; (added, changed).
    CsvRefused (nothing written) when any row is wrong."""
    items = check(text)
    with database.atomic():
        held = {
            p.sku: p for p in CatalogProduct.select().where(CatalogProduct.sku.in_([i["sku"] for i in items]))
        }
        added = changed = 0
        for item in items:
            before = held.get(item["sku"])
            if before is None:
                CatalogProduct.create(**item)
                added += 1
            elif any(getattr(before, k) != v for k, v in item.items()):
                CatalogProduct.update(**{k: v for k, v in item.items() if k != "sku"}).where(
                    CatalogProduct.sku == item["sku"]
                ).execute()
                changed += 1
        owner_audit.record(
            by, "catalog.import", "catalog", now, rows=len(items), added=added, changed=changed
        )
    return added, changed
