"""Sale commit rate, cash and member: ``commit_sale`` vs a raw sqlite3 transaction writing the same rows.

All sides use WAL with synchronous=FULL on fresh files in the same directory, one
``BEGIN IMMEDIATE`` transaction per sale, and alternate in rounds (cash product, cash
raw, member product, member raw) so a busy disk slows all alike.

- cash: daily receipt counter, sale, 3 lines, payment, chain head read + update, and
  the hashed outbox event;
- member: the same plus a 满减 coupon marked used, points + stored value + cash
  payments, three ledger entries chained by hash after the ledger head, the head
  updated, and the member's part of the ``sale.completed`` event. The member sale is
  priced and its entries made before the clock starts on both sides (the app does
  that on the pay screen, before the commit).

Prints JSON (``benchmarks/harness.py`` format).

    python benchmarks/bench_sale_commit.py [--sales 200] [--rounds 5] [--dir /tmp]
"""

import argparse
import cProfile
import datetime as dt
import hashlib
import itertools
import json
import sqlite3
import statistics
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

from harness import Rate, Stopwatch, alternate, app_logging, emit, figure, spread

from kiosk.domain.cart import Cart, Product
from kiosk.domain.loyalty import (
    Coupon,
    CouponKind,
    EarnContext,
    LoyaltyRules,
    MemberPayment,
    Split,
    price_cart,
    sale_ledger,
)
from kiosk.domain.loyalty.coupons import coupon_to_dict
from kiosk.domain.loyalty.rules import StoredValueRule
from kiosk.store import members
from kiosk.store.connection import database
from kiosk.store.db import open_database
from kiosk.store.pii import PiiKey
from kiosk.store.sales import PaymentIntent, Terminal, commit_sale
from kiosk.sync.schema import GENESIS, make_event

ITEMS = [Product(f"P{i}", f"690101037000{i}", f"商品{i}", f"Item {i}", 150 + 50 * i) for i in range(3)]
TERMINAL = Terminal(store="S01", device="K01", boot="bench")


def cart() -> Cart:
    """Three lines, six items: a typical small-shop basket."""
    return Cart().add(ITEMS[0], 1).add(ITEMS[1], 2).add(ITEMS[2], 3)


def peewee_rate(sales: int) -> Rate:
    """Sales per second through ``commit_sale`` on the open store database."""
    basket = cart()
    pay = [PaymentIntent("cash", basket.total_fen)]
    now = dt.datetime.now(dt.UTC)
    started = Stopwatch()
    for _ in range(sales):
        commit_sale(basket, pay, TERMINAL, now)
    return started.rate(sales)


def raw_connection(path: Path) -> sqlite3.Connection:
    """A sqlite3 connection to a database with the store's schema and pragmas."""
    open_database(path)  # same schema, then let go of peewee
    database.close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=wal")
    conn.execute("PRAGMA synchronous=full")
    conn.execute("PRAGMA foreign_keys=1")
    return conn


def raw_rate(conn: sqlite3.Connection, sales: int) -> Rate:
    """Sales per second writing the same rows with sqlite3 and hand-written SQL."""
    basket = cart()
    now = dt.datetime.now(dt.UTC)
    ts = now.isoformat(timespec="milliseconds")
    day = now.strftime("%Y%m%d")
    started = Stopwatch()
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
    return started.rate(sales)


MEMBER_ITEMS = (
    Product("rice", "1", "大米", "Rice", 5000, "food"),
    Product("cola", "2", "可乐", "Cola", 350, "drink"),
)
NOW = dt.datetime(2026, 11, 24, 15, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def member_cart() -> Cart:
    """Two lines, six items, over the coupon's threshold."""
    return Cart().add(MEMBER_ITEMS[0], 2).add(MEMBER_ITEMS[1], 4)


def coupon(cid: str) -> Coupon:
    """A 满100减20 coupon the member holds."""
    return Coupon(
        id=cid, kind=CouponKind.THRESHOLD, name_zh="满100减20", min_spend_fen=10000, off_fen=2000,
        valid_from=NOW - dt.timedelta(days=1), valid_until=NOW + dt.timedelta(days=1), member_id="m-1",
    )  # fmt: skip


def member_sales(tag: str, count: int) -> list[tuple[members.MemberSale, list[PaymentIntent]]]:
    """``count`` member sales priced and ledgered in advance, each with its own coupon."""
    out = []
    for i in range(count):
        sale_id = f"s-{tag}-{i}"
        priced = price_cart(member_cart(), (coupon(f"c-{tag}-{i}"),), NOW, "m-1", 5)
        paid = MemberPayment(points=500, points_fen=500, stored=Split(1000, 0))
        stamp = members.new_stamp(TERMINAL, NOW)
        _, entries = sale_ledger(
            "m-1", sale_id, priced, paid, LoyaltyRules(), EarnContext(day=NOW.date()), stamp
        )
        pays = [PaymentIntent("points", 500), PaymentIntent("stored_value", 1000),
                PaymentIntent("cash", priced.total_fen - 1500)]  # fmt: skip
        out.append((members.MemberSale("m-1", sale_id, priced, tuple(entries), 83), pays))
    return out


def seed_coupons(add: Callable[[Coupon], None], tag: str, count: int) -> None:
    """Store the coupons ``member_sales(tag, count)`` will use."""
    for i in range(count):
        add(coupon(f"c-{tag}-{i}"))


_round = itertools.count()


def member_rate(sales: int) -> Rate:
    """Member sales per second through ``commit_sale(..., member=...)`` on the open store database."""
    tag = f"p{next(_round)}"
    seed_coupons(members.add_coupon, tag, sales)
    prepared = member_sales(tag, sales)
    basket = member_cart()
    started = Stopwatch()
    for sale, pays in prepared:
        commit_sale(basket, pays, TERMINAL, NOW, sale.sale_id, member=sale)
    return started.rate(sales)


def raw_member_rate(conn: sqlite3.Connection, sales: int) -> Rate:
    """Member sales per second writing the same rows with sqlite3 and hand-written SQL."""
    tag = f"r{next(_round)}"
    conn.execute("BEGIN")
    seed_coupons(lambda c: conn.execute(
        "INSERT INTO coupon_row (id, member_id, body, single_use) VALUES (?, ?, ?, 1)",
        (c.id, c.member_id, json.dumps(coupon_to_dict(c), ensure_ascii=False)),
    ), tag, sales)  # fmt: skip
    conn.execute("COMMIT")
    prepared = member_sales(tag, sales)
    basket = member_cart()
    ts = NOW.isoformat(timespec="milliseconds")
    day = NOW.strftime("%Y%m%d")
    started = Stopwatch()
    for sale, pays in prepared:
        sale_id, event_id, priced = sale.sale_id, str(uuid.uuid4()), sale.priced
        conn.execute("BEGIN IMMEDIATE")
        (seq,) = conn.execute(
            "INSERT INTO daily_counter (day, last) VALUES (?, 1)"
            " ON CONFLICT (day) DO UPDATE SET last = last + 1 RETURNING last",
            (day,),
        ).fetchone()
        receipt = f"S01-K01-{day}{seq:04d}"
        conn.execute(
            "INSERT INTO sale (id, receipt_no, device_id, created_at, total_fen, currency)"
            " VALUES (?,?,?,?,?,?)",
            (sale_id, receipt, "K01", ts, priced.total_fen, "CNY"),
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
        conn.executemany(
            "INSERT INTO payment (sale_id, method, amount_fen, reference) VALUES (?,?,?,?)",
            [(sale_id, p.method, p.amount_fen, p.reference) for p in pays],
        )
        for cid in priced.coupon_ids:
            used = conn.execute(
                "UPDATE coupon_row SET used_sale_id = ?, used_at = ? WHERE id = ? AND used_sale_id IS NULL",
                (sale_id, ts, cid),
            ).rowcount
            assert used == 1
        lseq, lprev = conn.execute("SELECT seq, hash FROM ledger_head WHERE id = 1").fetchone() or (
            0,
            GENESIS,
        )
        ledger = []
        for e in sale.entries:
            lseq += 1
            entry = {"id": e.id, "member_id": e.member_id, "account": e.account, "kind": str(e.kind),
                     "amount": e.amount, "at": e.at, "device": e.device, "sale_id": e.sale_id,
                     "action": e.action, "rule": e.rule, "reverses": e.reverses, "earned_on": e.earned_on,
                     "seq": lseq, "prev": lprev}  # fmt: skip
            body = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            entry["hash"] = lprev = hashlib.sha256(entry["prev"].encode() + body.encode()).hexdigest()
            ledger.append(entry)
        conn.executemany(
            "INSERT INTO ledger_row (id, member_id, account, kind, amount, at, device, sale_id, action, rule,"
            " reverses, earned_on, seq, prev, hash, event_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [(*e.values(), event_id) for e in ledger],
        )
        conn.execute(
            "INSERT INTO ledger_head (id, seq, hash) VALUES (1, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
            (lseq, lprev),
        )
        head = conn.execute("SELECT seq, hash FROM chain_head WHERE id = 1").fetchone() or (0, GENESIS)
        data = {"sale_id": sale_id, "receipt_no": receipt, "store": "S01", "total_fen": priced.total_fen,
                "currency": "CNY", "lines": [list(r[1:]) for r in lines],
                "payments": [[p.method, p.amount_fen, p.reference] for p in pays], "member_id": "m-1",
                "ledger": ledger, "coupons": list(priced.coupon_ids),
                "discounts": [[d.source, d.label_zh, d.amount_fen, list(d.per_line)]
                              for d in priced.discounts],
                "net_lines": [ln.net_fen for ln in priced.lines],
                "earn_lines": [[x.sku, x.category, x.net_fen] for x in priced.earn_lines()],
                "earned_points": sale.earned_points, "tier": None}  # fmt: skip
        event = make_event(event_id=event_id, device="K01", seq=head[0] + 1, boot="bench", ts=ts,
                           type="sale.completed", prev=head[1], data=data)  # fmt: skip
        conn.execute(
            "INSERT INTO outbox (id, seq, type, ts, prev, hash, body, created_at) VALUES (?,?,?,?,?,?,?,?)",
            (event_id, event["seq"], "sale.completed", ts, head[1], event["hash"],
             json.dumps(event, ensure_ascii=False, sort_keys=True), str(dt.datetime.now(dt.UTC))),
        )  # fmt: skip
        conn.execute(
            "INSERT INTO chain_head (id, seq, hash) VALUES (1, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
            (event["seq"], event["hash"]),
        )
        conn.execute("COMMIT")
    return started.rate(sales)


def main() -> None:
    """Alternate the four sides in rounds, print one JSON object."""
    app_logging()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sales", type=int, default=100, help="Sales per round and side.")
    parser.add_argument("--rounds", type=int, default=10, help="Alternating rounds; min/median/max reported.")
    parser.add_argument("--dir", type=Path, default=None, help="Where the database files go (default: /tmp).")
    parser.add_argument("--profile", type=Path, default=None, help="Also write a cProfile of member commits.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-sale-", dir=args.dir) as work:
        raw_cash = raw_connection(Path(work) / "raw.db")
        raw_member = raw_connection(Path(work) / "raw-member.db")
        open_database(Path(work) / "peewee.db")
        members.register_member(
            PiiKey(bytes(32)), TERMINAL, NOW, "13812341234", members.Consent("v1", "K01"), member_id="m-1"
        )
        members.top_up_stored_value(TERMINAL, NOW, "m-1", 10_000_000, StoredValueRule(), "bench")
        rates = alternate(
            {
                "cash": lambda: peewee_rate(args.sales),
                "cash_raw": lambda: raw_rate(raw_cash, args.sales),
                "member": lambda: member_rate(args.sales),
                "member_raw": lambda: raw_member_rate(raw_member, args.sales),
            },
            args.rounds,
        )
        if args.profile:
            cProfile.runctx("member_rate(args.sales)", globals(), {"args": args}, str(args.profile))
        raw_cash.close()
        raw_member.close()
        database.close()
    figures = []
    for side, title in (("cash", "cash sale commit"), ("member", "member sale commit")):
        ours, raw = rates[side], rates[f"{side}_raw"]
        ratios = [p.wall / r.wall for p, r in zip(ours, raw, strict=True)]
        cpu_ratios = [p.cpu / r.cpu for p, r in zip(ours, raw, strict=True)]
        ratio = statistics.median(ratios)
        figures.append(figure(
            f"{title} vs raw sqlite3, same rows, WAL + synchronous=FULL",
            round(statistics.median(p.wall for p in ours), 1), "sales/s",
            baseline="raw sqlite3, same rows",
            baseline_value=round(statistics.median(r.wall for r in raw), 1),
            ratio=ratio, rounds=spread(ratios), goal="ratio >= 0.60", met=ratio >= 0.60,
        ))  # fmt: skip
        figures.append(figure(
            f"{title} vs raw sqlite3, CPU time of this process only",
            round(statistics.median(p.cpu for p in ours), 1), "sales per CPU-s",
            baseline="raw sqlite3, same rows", baseline_value=round(statistics.median(r.cpu for r in raw), 1),
            ratio=statistics.median(cpu_ratios), rounds=spread(cpu_ratios),
            note="leaves out fsync and other processes: the steadier view of the code's own cost",
        ))  # fmt: skip
    emit(
        "sale_commit", figures, sales_per_round=args.sales, rounds=args.rounds, synchronous="full",
        rates={k: [[round(r.wall, 1), round(r.cpu, 1)] for r in vs] for k, vs in rates.items()},
        sqlite=sqlite3.sqlite_version,
    )  # fmt: skip


if __name__ == "__main__":
    main()
