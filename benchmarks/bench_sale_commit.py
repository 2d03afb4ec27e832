"""Sale commit rate: ``commit_sale`` (peewee) vs a raw sqlite3 transaction writing the same rows.

Both use WAL with synchronous=FULL on a fresh file in the same directory, one
``BEGIN IMMEDIATE`` transaction per sale: daily receipt counter, sale, 3 lines,
payment, chain head read + update, and the hashed outbox event. Prints JSON.

    python benchmarks/bench_sale_commit.py [--sales 1000] [--dir /tmp]
"""

import argparse
import datetime as dt
import json
import os
import platform
import sqlite3
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from kiosk.domain.cart import Cart, Product
from kiosk.store.connection import database
from kiosk.store.db import open_database
from kiosk.store.sales import PaymentIntent, Terminal, commit_sale
from kiosk.sync.schema import GENESIS, make_event

ITEMS = [Product(f"P{i}", f"690101037000{i}", f"商品{i}", f"Item {i}", 150 + 50 * i) for i in range(3)]
TERMINAL = Terminal(store="S01", device="K01", boot="bench")


def cart() -> Cart:
    """Three lines, six items: a typical small-shop basket."""
    return Cart().add(ITEMS[0], 1).add(ITEMS[1], 2).add(ITEMS[2], 3)


def peewee_rate(sales: int) -> float:
    """Sales per second through ``commit_sale`` on the open store database."""
    basket = cart()
    pay = [PaymentIntent("cash", basket.total_fen)]
    now = dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    for _ in range(sales):
        commit_sale(basket, pay, TERMINAL, now)
    return sales / (time.perf_counter() - started)


def raw_connection(path: Path) -> sqlite3.Connection:
    """A sqlite3 connection to a database with the store's schema and pragmas."""
    open_database(path)  # same schema, then let go of peewee
    database.close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=wal")
    conn.execute("PRAGMA synchronous=full")
    conn.execute("PRAGMA foreign_keys=1")
    return conn


def raw_rate(conn: sqlite3.Connection, sales: int) -> float:
    """Sales per second writing the same rows with sqlite3 and hand-written SQL."""
    basket = cart()
    now = dt.datetime.now(dt.UTC)
    ts = now.isoformat(timespec="milliseconds")
    day = now.strftime("%Y%m%d")
    started = time.perf_counter()
    for _ in range(sales):
        sale_id, event_id = str(uuid.uuid4()), str(uuid.uuid4())
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO daily_counter (day, last) VALUES (?, 0) ON CONFLICT DO NOTHING", (day,))
        conn.execute("UPDATE daily_counter SET last = last + 1 WHERE day = ?", (day,))
        (seq,) = conn.execute("SELECT last FROM daily_counter WHERE day = ?", (day,)).fetchone()
        receipt = f"S01-K01-{day}{seq:04d}"
        conn.execute(
            "INSERT INTO sale (id, receipt_no, device_id, created_at, total_fen, currency)"
            " VALUES (?,?,?,?,?,?)",
            (sale_id, receipt, "K01", ts, basket.total_fen, "CNY"),
        )
        lines = [
            (sale_id, i, ln.product.sku, ln.product.name_zh, ln.product.name_en, ln.product.price_fen,
             ln.quantity, ln.total_fen)
            for i, ln in enumerate(basket.lines, start=1)
        ]  # fmt: skip
        conn.executemany(
            "INSERT INTO sale_line (sale_id, position, sku, name_zh, name_en, unit_price_fen, quantity,"
            " total_fen) VALUES (?,?,?,?,?,?,?,?)",
            lines,
        )
        conn.execute(
            "INSERT INTO payment (sale_id, method, amount_fen, reference) VALUES (?,?,?,?)",
            (sale_id, "cash", basket.total_fen, ""),
        )
        head = conn.execute("SELECT seq, hash FROM chain_head WHERE id = 1").fetchone() or (0, GENESIS)
        data = {"sale_id": sale_id, "receipt_no": receipt, "store": "S01", "total_fen": basket.total_fen,
                "currency": "CNY", "lines": [list(r[1:]) for r in lines], "payments": [], "member_id": None,
                "ledger": []}  # fmt: skip
        event = make_event(event_id=event_id, device="K01", seq=head[0] + 1, boot="bench", ts=ts,
                           type="sale.completed", prev=head[1], data=data)  # fmt: skip
        conn.execute(
            "INSERT INTO outbox (id, seq, type, ts, prev, hash, body, created_at) VALUES (?,?,?,?,?,?,?,?)",
            (event_id, event["seq"], "sale.completed", ts, head[1], event["hash"],
             json.dumps(event, ensure_ascii=False, sort_keys=True), str(now)),
        )  # fmt: skip
        conn.execute(
            "INSERT OR REPLACE INTO chain_head (id, seq, hash) VALUES (1, ?, ?)",
            (event["seq"], event["hash"]),
        )
        conn.execute("COMMIT")
    return sales / (time.perf_counter() - started)


def main() -> None:
    """Run both, print one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sales", type=int, default=200, help="Sales per round and side.")
    parser.add_argument("--rounds", type=int, default=5, help="Alternating rounds; the median is reported.")
    parser.add_argument("--dir", type=Path, default=None, help="Where the database files go (default: /tmp).")
    args = parser.parse_args()
    raws, peewees = [], []
    with tempfile.TemporaryDirectory(prefix="bench-sale-", dir=args.dir) as work:
        conn = raw_connection(Path(work) / "raw.db")
        open_database(Path(work) / "peewee.db")
        for _ in range(args.rounds):  # alternate, so a busy disk slows both alike
            raws.append(raw_rate(conn, args.sales))
            peewees.append(peewee_rate(args.sales))
        conn.close()
        database.close()
    raw, peewee = statistics.median(raws), statistics.median(peewees)
    print(json.dumps({
        "benchmark": "sale_commit", "sales": args.sales * args.rounds, "synchronous": "full",
        "commit_sale_per_s": round(peewee, 1), "raw_sqlite3_per_s": round(raw, 1),
        "ratio": round(peewee / raw, 3), "machine": f"{platform.machine()} {os.cpu_count()} cpu",
        "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
