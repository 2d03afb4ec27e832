"""Reports on a year of a chain's history: 10 million sale lines on PostgreSQL, every report < 1 s.

A throwaway PostgreSQL database (``KIOSK_BENCH_PG``, default the local server as ``postgres``)
gets the hub's schema by its migrations, then a year of sales written in SQL with
``generate_series`` (sales and their lines, not the events no report reads: 10 stores,
30 terminals, 1,000 products with a few hot ones and a long tail, 08:00–22:00, three payment
methods, 30 % member sales).
The summary rows are filled by one ``INSERT ... SELECT ... GROUP BY`` per table: the sums the
booking code keeps sale by sale (checked: the summary's totals equal the raw tables' totals).

Measured, each over the last 7, 30 and 366 days (the longest range the reports allow): every
query of the reports page and the home page, median and worst of 5 calls, and, as the baseline,
the same sums read from the raw ``sale``/``sale_line`` tables the way the reports read them
before the summary rows. Then ``GET /api/v1/reports/sales`` on a hub whose 4,000 sales of
7 days were booked through the real ingest, served by uvicorn as ``hub serve`` serves it: p50 / p99
of 1,000 requests over HTTP, alternating in 10 rounds with a FastAPI hello route served the same way.

Prints JSON (``benchmarks/harness.py`` format).

    python benchmarks/bench_reports.py [--lines 10000000] [--keep] [--api-only]
"""

import argparse
import datetime as dt
import os
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psycopg2
from fastapi import FastAPI
from harness import alternate, app_logging, emit, figure, percentile, timed_samples
from peewee import fn

from hub.accounts import sessions
from hub.db.schema import open_hub_database
from hub.devtools.serving import serving
from hub.ingest.batch import ingest_batch
from hub.ingest.models import Sale, SaleLine
from hub.reports import overview
from hub.reports import queries as reports
from hub.web.app import create_app
from kiosk.sync.schema import GENESIS, batch, make_event

TZ = ZoneInfo("Asia/Shanghai")
END = dt.date(2026, 11, 24)
DAYS = 366
API_REQUESTS = 1000  # p99 from at least 1,000 samples
ADMIN = os.environ.get("KIOSK_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")

# one sale = 3 lines; sale g: terminal g % 30 (store = terminal / 3), day spread evenly over the
# year, hour 08..21, product of line p skewed to the low SKUs by the cube (hot sellers, long tail)
_SALE_COLUMNS = """
  'K' || lpad((g %% 30)::text, 2, '0') AS device,
  'S' || lpad((g %% 30 / 3)::text, 2, '0') AS store,
  to_char(%(start)s::date + (g * %(days)s / %(sales)s)::int, 'YYYY-MM-DD') AS day,
  8 + (g * 7919) %% 14 AS hour,
  (g * 7) %% 60 AS minute
"""
_LINE = """
  (floor(power(((g * 2654435761 + p * 40503) %% 1000003) / 1000003.0, 3) * 1000))::int AS sku,
  1 + (g + p) %% 3 AS quantity
"""


def _price(sku: str) -> str:
    return f"(100 + ({sku} * 37) %% 4900)"


GENERATE = [
    "SET synchronous_commit = off",
    "SET maintenance_work_mem = '256MB'",
    f"""INSERT INTO sale (id, event_id, device, store, receipt_no, sold_at, day, total_fen, currency,
                          item_count)
        SELECT 's' || g, 'e' || g, s.device, s.store, s.store || '-' || s.device || '-' || g,
               s.day || 'T' || lpad(s.hour::text, 2, '0') || ':' || lpad(s.minute::text, 2, '0')
                 || ':00+08:00',
               s.day, t.total, 'CNY', t.items
        FROM generate_series(1::bigint, %(sales)s) g, LATERAL (SELECT {_SALE_COLUMNS}) s,
        LATERAL (SELECT sum({_price("l.sku")} * l.quantity) AS total, sum(l.quantity) AS items
                 FROM generate_series(1, 3) p, LATERAL (SELECT {_LINE}) l) t""",
    f"""INSERT INTO sale_line (sale_id, position, sku, name_zh, name_en, unit_price_fen, quantity, total_fen)
        SELECT 's' || g, p, 'P' || lpad(l.sku::text, 4, '0'), '商品' || l.sku, 'Item ' || l.sku,
               {_price("l.sku")}, l.quantity, {_price("l.sku")} * l.quantity
        FROM generate_series(1::bigint, %(sales)s) g, generate_series(1, 3) p, LATERAL (SELECT {_LINE}) l""",
    # the summary rows the booking keeps, in one pass each (member: sales g with g % 10 < 3)
    """INSERT INTO sales_hour (day, hour, store, device, member, sales, total_fen, items, refunds,
                               refunded_fen)
        SELECT day, substr(sold_at, 12, 2)::int, store, device, substr(id, 2)::bigint % 10 < 3,
               count(*), sum(total_fen), sum(item_count), 0, 0
        FROM sale GROUP BY 1, 2, 3, 4, 5""".replace("%", "%%"),
    """INSERT INTO sales_product_day (day, store, sku, name_zh, name_en, quantity, total_fen,
                                      refunded_quantity, refunded_fen)
        SELECT s.day, s.store, l.sku, max(l.name_zh), max(l.name_en), sum(l.quantity), sum(l.total_fen), 0, 0
        FROM sale_line l JOIN sale s ON s.id = l.sale_id GROUP BY 1, 2, 3""",
    """INSERT INTO sales_product_month (month, store, sku, name_zh, name_en, quantity, total_fen,
                                        refunded_quantity, refunded_fen)
        SELECT substr(day, 1, 7), store, sku, max(name_zh), max(name_en), sum(quantity), sum(total_fen), 0, 0
        FROM sales_product_day GROUP BY 1, 2, 3""",
    """INSERT INTO sales_sku_day (day, sku, name_zh, name_en, quantity, total_fen, refunded_quantity,
                                  refunded_fen)
        SELECT day, sku, max(name_zh), max(name_en), sum(quantity), sum(total_fen), 0, 0
        FROM sales_product_day GROUP BY 1, 2""",
    """INSERT INTO sales_sku_month (month, sku, name_zh, name_en, quantity, total_fen, refunded_quantity,
                                    refunded_fen)
        SELECT month, sku, max(name_zh), max(name_en), sum(quantity), sum(total_fen), 0, 0
        FROM sales_product_month GROUP BY 1, 2""",
    """INSERT INTO sales_payment_day (day, store, method, payments, amount_fen, refunds, refunded_fen)
        SELECT day, store, (ARRAY['cash', 'wechat', 'alipay'])[substr(id, 2)::bigint % 3 + 1], count(*),
               sum(total_fen), 0, 0
        FROM sale GROUP BY 1, 2, 3""".replace("%", "%%"),
    "INSERT INTO hub_catalog_product (sku, name_zh, name_en, price_fen, category, active) "
    "SELECT 'P' || lpad(n::text, 4, '0'), '商品' || n, 'Item ' || n, 100 + (n * 37) %% 4900, "
    "'C' || (n %% 12), true FROM generate_series(0, 1009) n",  # ten products that never sell
]


@contextmanager
def throwaway_database(keep: bool) -> Iterator[str]:
    """A new PostgreSQL database on the benchmark server, dropped afterwards unless ``keep``."""
    name = f"bench_reports_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(ADMIN)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        if not keep:
            with admin.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


# The sale and sale-line tables' foreign keys, unique constraints and secondary indexes, dropped
# while the year is written and built again after it (one sort each instead of 10 million index
# inserts and foreign key checks).
_DEFINITIONS = """
SELECT 'ALTER TABLE ' || conrelid::regclass || ' DROP CONSTRAINT ' || quote_ident(conname),
       'ALTER TABLE ' || conrelid::regclass || ' ADD CONSTRAINT ' || quote_ident(conname) || ' ' ||
       pg_get_constraintdef(oid)
FROM pg_constraint WHERE contype IN ('f', 'u') AND conrelid IN ('sale'::regclass, 'sale_line'::regclass)
UNION ALL
SELECT 'DROP INDEX ' || indexrelid::regclass::text, pg_get_indexdef(indexrelid)
FROM pg_index WHERE indrelid IN ('sale'::regclass, 'sale_line'::regclass) AND NOT indisprimary
  AND indexrelid NOT IN (SELECT conindid FROM pg_constraint)
"""


def generate(db: Any, lines: int) -> dict[str, float]:
    """Write the year of sales and its summary rows; seconds per step.

    No ``event`` rows: no report reads them, so the sales' foreign key to them is left off
    (``sale.event_id`` holds ids that no event row has)."""
    params = {"sales": lines // 3, "days": DAYS, "start": (END - dt.timedelta(days=DAYS - 1)).isoformat()}
    steps: dict[str, float] = {}
    definitions = db.execute_sql(_DEFINITIONS).fetchall()
    for drop, _create in sorted(definitions, key=lambda d: "FOREIGN" not in d[1]):  # foreign keys first
        db.execute_sql(drop)
    for n, sql in enumerate(GENERATE):
        started = time.perf_counter()
        with db.atomic():
            db.execute_sql(sql, params)  # every statement's % is escaped as %%
        steps[f"step_{n}"] = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    for _drop, create in sorted(definitions, key=lambda d: "FOREIGN" in d[1]):  # keys they need first
        if "REFERENCES event" not in create:  # the events were not written
            db.execute_sql(create)
    steps["indexes"] = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    db.execute_sql("VACUUM ANALYZE")  # a hub's autovacuum would have done it over the year
    steps["vacuum_analyze"] = round(time.perf_counter() - started, 1)
    return steps


def check(db: Any) -> None:
    """The summary's sums equal the raw tables' sums (the generation is the bookings' equivalent)."""
    raw = db.execute_sql("SELECT count(*), sum(total_fen) FROM sale").fetchone()
    kept = db.execute_sql("SELECT sum(sales), sum(total_fen) FROM sales_hour").fetchone()
    lines = db.execute_sql("SELECT count(*), sum(total_fen) FROM sale_line").fetchone()
    products = db.execute_sql("SELECT sum(total_fen) FROM sales_product_day").fetchone()
    months = db.execute_sql("SELECT sum(total_fen) FROM sales_product_month").fetchone()
    chain = db.execute_sql("SELECT sum(total_fen) FROM sales_sku_day").fetchone()
    chain_months = db.execute_sql("SELECT sum(total_fen) FROM sales_sku_month").fetchone()
    assert int(months[0]) == int(products[0]) == int(chain[0]) == int(chain_months[0]), (
        months,
        products,
        chain,
    )
    paid = db.execute_sql("SELECT sum(amount_fen) FROM sales_payment_day").fetchone()
    assert tuple(map(int, raw)) == tuple(map(int, kept)), (raw, kept)
    assert int(lines[1]) == int(products[0]) and int(paid[0]) == int(raw[1]), (lines, products, paid)


def raw_queries(first: dt.date, last: dt.date) -> dict[str, Callable[[], object]]:
    """The baseline: the same figures from the raw tables, as the reports read them before."""
    where = (Sale.day >= first.isoformat()) & (Sale.day <= last.isoformat())
    return {
        "range_summary": lambda: (
            Sale.select(fn.COUNT(Sale.id), fn.SUM(Sale.total_fen)).where(where).tuples()[:]
        ),
        "by_terminal": lambda: (
            Sale.select(Sale.store, Sale.device, fn.SUM(Sale.total_fen))
            .where(where)
            .group_by(Sale.store, Sale.device)
            .tuples()[:]
        ),
        "products": lambda: (
            SaleLine.select(SaleLine.sku, fn.SUM(SaleLine.quantity), fn.SUM(SaleLine.total_fen))
            .join(Sale)
            .where(where)
            .group_by(SaleLine.sku)
            .tuples()[:]
        ),
    }


def report_queries(first: dt.date, last: dt.date) -> dict[str, Callable[[], object]]:
    """Every query the reports page runs for ``first``..``last`` (all stores)."""
    return {
        "range_summary": lambda: reports.range_summary(first, last),
        "by_period_hour": lambda: reports.by_period("hour", first, last),
        "by_period_day": lambda: reports.by_period("day", first, last),
        "by_period_week": lambda: reports.by_period("week", first, last),
        "by_period_month": lambda: reports.by_period("month", first, last),
        "heatmap": lambda: reports.heatmap(first, last),
        "by_store": lambda: reports.by_store(first, last),
        "by_terminal": lambda: reports.by_terminal(first, last),
        "by_payment": lambda: reports.by_payment(first, last),
        "products": lambda: reports.products(first, last),
        "by_category": lambda: reports.by_category(first, last),
        "daily_payments": lambda: reports.daily_payments(first, last),
    }


def timed(run: Callable[[], object], repeat: int = 5) -> list[float]:
    """Seconds of ``repeat`` calls of ``run``."""
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        out.append(time.perf_counter() - started)
    return out


def api_on_booked_sales(keep: bool) -> dict[str, Any]:
    """4,000 sales over 7 days booked by the real ingest; p50/p99 ms of ``GET /api/v1/reports/sales``."""
    with throwaway_database(keep) as url:
        db = open_hub_database(url)
        now = dt.datetime.now(dt.UTC)
        for device in range(8):
            prev, events = GENESIS, []
            for seq in range(1, 501):
                day = END - dt.timedelta(days=seq % 7)
                ts = f"{day.isoformat()}T{8 + seq % 13:02d}:{seq % 60:02d}:00.000+08:00"
                lines = [
                    {
                        "position": p,
                        "sku": f"P{(seq * p) % 300:04d}",
                        "name_zh": "商品",
                        "name_en": "Item",
                        "unit_price_fen": 250 * p,
                        "quantity": p,
                        "total_fen": 250 * p * p,
                    }
                    for p in (1, 2, 3)
                ]
                data = {
                    "sale_id": f"K{device}-{seq}",
                    "receipt_no": f"S0{device % 2}-K{device}-{seq}",
                    "store": f"S0{device % 2}",
                    "total_fen": 3500,
                    "currency": "CNY",
                    "lines": lines,
                    "payments": [{"method": "wechat", "amount_fen": 3500, "reference": ""}],
                    "ledger": [],
                }
                event = make_event(
                    event_id=f"K{device}-ev-{seq}",
                    device=f"K{device}",
                    seq=seq,
                    boot="boot",
                    ts=ts,
                    type="sale.completed",
                    prev=prev,
                    data=data,
                )
                prev = event["hash"]
                events.append(event)
            for start in range(0, 500, 50):
                ingest_batch(
                    f"pos/K{device}/up/events", batch(f"K{device}", events[start : start + 50]), now, TZ
                )
        # as an integration calls it: over HTTP from another client, to `hub serve`'s server
        # (uvicorn), with an API token (the hub answers no stranger). Not FastAPI's TestClient: it
        # starts an event loop and worker threads per request, so every request opened two new
        # PostgreSQL connections (a peewee connection is per thread), which a served hub does not.
        bearer = sessions.issue_token("bench", "reports:read", "bench", now)
        hello = FastAPI()
        hello.get("/hello")(lambda: {"hello": "world"})
        with (
            serving(create_app(TZ, today=lambda: END), role=None) as port,
            serving(hello, role=None) as hello_port,
            httpx.Client(headers={"Authorization": f"Bearer {bearer}"}) as client,
        ):
            api = f"http://127.0.0.1:{port}/api/v1/reports/sales"
            answer = client.get(api).json()
            assert answer["summary"]["sales"] == 4000, answer
            sides = {
                "api": lambda: timed_samples(
                    lambda _i: client.get(api).raise_for_status(), API_REQUESTS // 10
                ),
                "hello": lambda: timed_samples(
                    lambda _i: client.get(f"http://127.0.0.1:{hello_port}/hello").raise_for_status(),
                    API_REQUESTS // 10,
                ),
            }
            rounds = alternate(sides, 10)
        db.close()
    samples = [ms for chunk in rounds["api"] for ms in chunk]
    base = [ms for chunk in rounds["hello"] for ms in chunk]
    return {
        "p50": statistics.median(samples),
        "p99": percentile(samples, 99),
        "samples": len(samples),
        "hello_p50": statistics.median(base),
        "hello_p99": percentile(base, 99),
        "rounds_p99": [percentile(chunk, 99) for chunk in rounds["api"]],
    }


def year_of_reports(lines: int, keep: bool, figures: list[dict[str, Any]]) -> dict[str, int]:
    """Generate the year, check it, time every report over 7, 30 and 366 days into ``figures``;
    the rows of each table."""
    with throwaway_database(keep) as url:
        db = open_hub_database(url)
        started = time.perf_counter()
        steps = generate(db, lines)
        generated_s = time.perf_counter() - started
        check(db)
        counts = {
            t: db.execute_sql(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in (
                "sale",
                "sale_line",
                "sales_hour",
                "sales_product_day",
                "sales_product_month",
                "sales_sku_day",
                "sales_sku_month",
                "sales_payment_day",
            )
        }
        figures.append(figure("generate 10M-line year", round(generated_s, 1), "s", note=str(steps)))
        for days in (7, 30, DAYS):
            first = END - dt.timedelta(days=days - 1)
            worst = 0.0
            for name, run in report_queries(first, END).items():
                seconds = timed(run)
                worst = max(worst, max(seconds))
                figures.append(
                    figure(
                        f"{name}, {days} days",
                        round(statistics.median(seconds) * 1000, 1),
                        "ms",
                        rounds={"min": round(min(seconds) * 1000, 1), "max": round(max(seconds) * 1000, 1)},
                        goal="< 1 s",
                        met=max(seconds) < 1.0,
                    )
                )
            for name, run in raw_queries(first, END).items():
                raw = statistics.median(timed(run, 3 if days < DAYS else 1))
                fast = statistics.median(timed(report_queries(first, END)[name]))
                figures.append(
                    figure(
                        f"{name} from raw tables, {days} days",
                        round(raw * 1000, 1),
                        "ms",
                        baseline="summary rows",
                        baseline_value=round(fast * 1000, 1),
                        ratio=raw / fast,
                        note="time ratio raw / summary (higher: the summary is that many times faster)",
                    )
                )
            started = time.perf_counter()
            overview.periods(END)
            figures.append(
                figure(
                    f"home page periods ({days}-day history irrelevant)",
                    round((time.perf_counter() - started) * 1000, 1),
                    "ms",
                )
            )
        db.close()
    return counts


def main() -> None:
    """Generate, check, time; print the JSON figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--keep", action="store_true", help="leave the databases for a look")
    parser.add_argument("--api-only", action="store_true", help="only the API on 4,000 ingested sales")
    args = parser.parse_args()
    app_logging()
    figures: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    if not args.api_only:
        counts = year_of_reports(args.lines, args.keep, figures)
    api = api_on_booked_sales(args.keep)
    figures.append(
        figure(
            "GET /api/v1/reports/sales p99 (7 days, 4,000 sales), served by uvicorn",
            round(api["p99"], 1),
            "ms",
            baseline="FastAPI hello route served the same way, p99",
            baseline_value=round(api["hello_p99"], 1),
            ratio=api["p99"] / api["hello_p99"],
            rounds={"min": round(min(api["rounds_p99"]), 1), "max": round(max(api["rounds_p99"]), 1)},
            samples=api["samples"],
            goal="p99 < 50 ms",
            met=api["p99"] < 50,
            note=f"p50 {api['p50']:.1f} ms (hello p50 {api['hello_p50']:.1f} ms); httpx keep-alive client,"
            " API token; rounds: each round's p99 (100 requests)",
        )
    )
    emit("reports", figures, rows=counts)


if __name__ == "__main__":
    main()
