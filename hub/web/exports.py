"""Tables as downloads: CSV for any spreadsheet, XLSX for the accountant's finance tables."""

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi.responses import Response
from openpyxl import Workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_response(name: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    """``rows`` under ``header`` as ``name``.csv (UTF-8 with a BOM, so Excel reads the Chinese right)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
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
    for row in rows:
        sheet.append(list(row))
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return Response(
        out.getvalue(),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
    )
