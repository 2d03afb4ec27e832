"""Tables as downloads: CSV for any spreadsheet, XLSX for the accountant's finance tables.

Every text cell goes through :func:`spreadsheet_text` first: a member's name or a product's
name like ``=HYPERLINK(...)`` or ``=cmd|' /C calc'!A0`` must open as text, never as a formula
(CSV formula injection). In XLSX the cells are typed as strings as well.
"""

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi.responses import Response
from openpyxl import Workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def spreadsheet_text(value: Any) -> Any:
    """``value`` safe for a spreadsheet cell: a text that a spreadsheet would read as a formula
    (``=``, ``+``, ``-``, ``@``, a tab or line break first; fullwidth too) gets a leading ``'``,
    which spreadsheets show as text. Numbers, and texts that are just a number (``-12.50``), pass."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_rows(rows: Iterable[Sequence[Any]]) -> Iterable[list[Any]]:
    """``rows`` with every cell through :func:`spreadsheet_text`."""
    return ([spreadsheet_text(cell) for cell in row] for row in rows)


def csv_response(name: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    """``rows`` under ``header`` as ``name``.csv (UTF-8 with a BOM, so Excel reads the Chinese right)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(safe_rows(rows))
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def xlsx_response(name: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    """``rows`` under ``header`` as ``name``.xlsx: one sheet, numbers as numbers, the header frozen."""
    book = Workbook()
    sheet = book.active
    sheet.title = name[:31]  # Excel's limit on a sheet name
    sheet.append(list(header))
    for row in safe_rows(rows):
        sheet.append(row)
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # openpyxl would store a leading "=" as a formula
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return Response(
        out.getvalue(),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
    )
