"""``hub stock``: stock levels out as CSV, a stock-take or a receiving in from CSV (docs/stock.md)."""

import datetime as dt
from pathlib import Path

import click

from hub.catalog.csvfile import CsvRefused, decode
from hub.db import DEFAULT_DB
from hub.db.schema import open_hub_database
from hub.stock import csvfile


@click.group()
def stock() -> None:
    """Stock per store and product (库存)."""


@stock.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "kind", type=click.Choice(csvfile.KINDS), default="count", show_default=True,
              help="count: a stock-take (the counted numbers); receive: goods in.")  # fmt: skip
@click.option("--db", "db_url", default=DEFAULT_DB, show_default=True)
@click.option("--check", is_flag=True, help="Only check the file; change nothing. / 只校验，不导入。")
def stock_import(path: Path, kind: str, db_url: str, check: bool) -> None:
    """Book a CSV (store, sku, quantity[, low, target]) as one document per store.

    Every problem is printed with its line (exit 1) and nothing is booked. / 从 CSV 导入盘点或到货。
    """
    open_hub_database(db_url)
    try:
        text = decode(path.read_bytes())
        if check:
            documents, limits = csvfile.check(text, kind)
            rows = sum(len(lines) for lines in documents.values())
            click.echo(f"OK: {path} ({rows} rows, {len(limits)} low levels) / 文件有效")
            return
        ids, limits = csvfile.import_text(text, kind, dt.datetime.now(dt.UTC), "cli")
    except CsvRefused as refused:
        click.echo(refused.render(str(path)), err=True)
        raise SystemExit(1) from None
    click.echo(f"{len(ids)} document(s), {limits} low level(s) / 已记 {len(ids)} 张单据，{limits} 个库存下限")


@stock.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--store", "stores", multiple=True, help="Only this store (repeatable).")
@click.option("--db", "db_url", default=DEFAULT_DB, show_default=True)
def stock_export(path: Path, stores: tuple[str, ...], db_url: str) -> None:
    """Write the stock levels to PATH as CSV (UTF-8 with BOM). / 导出库存。"""
    open_hub_database(db_url, create=False)
    path.write_text(csvfile.export_text(list(stores) or None), encoding="utf-8", newline="")
    click.echo(str(path))
