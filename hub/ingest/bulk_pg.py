"""PostgreSQL: book a batch of plain sales in one statement (docs/perf.md, "Sync").

The usual uplink message on a busy hub is 50 ``sale.completed`` events without a
member from one terminal, none of them seen before. On PostgreSQL such a batch is
booked with three round trips instead of about sixteen: lock the device's chain
head (:func:`lock_head`), read what the hub already holds for these ids and
sequence numbers (:func:`known`), and one statement whose data-modifying CTEs
insert the events, sales, lines and gaps, move the head, record the clock skew and
resolve old quarantine entries (:func:`write`). The rows of each table travel as one
JSON parameter (``json_to_recordset``): one string to quote and parse instead of a
constant per value (``unnest`` of arrays cost PostgreSQL about a third more CPU).

Anything unusual (a known id, a fork, a receipt number booked before) is left to
the general path in :mod:`hub.ingest.batch`, which handles every case event by event.
"""

import datetime as dt
from typing import Any

from peewee import Database

from hub.catalog.prices import mismatches
from hub.fleet import presence as fleet
from hub.ingest.booking import Rows
from hub.ingest.models import DeviceHead, Gap, Quarantine
from hub.members.models import Reconciliation
from hub.reports.summary import upserts
from hub.stock.ledger import level_query
from kiosk.sync.schema import dumps_sorted

_EVENTS = (
    'INSERT INTO "event" ("id", "device", "seq", "type", "ts", "hash", "received_at", "body") '
    "SELECT x.id, x.device, x.seq, x.type, x.ts, x.hash, %s, x.body FROM json_to_recordset(%s::json)"
    " AS x(id text, device text, seq bigint, type text, ts text, hash text, body text)"
)
_SALES = (
    'INSERT INTO "sale" ("id", "event_id", "device", "store", "receipt_no", "sold_at", "day", "total_fen",'
    ' "currency", "item_count") SELECT * FROM json_to_recordset(%s::json) AS x(id text, event_id text,'
    " device text, store text, receipt_no text, sold_at text, day text, total_fen bigint, currency text,"
    " item_count int)"
)
_LINES = (
    'INSERT INTO "sale_line" ("sale_id", "position", "sku", "name_zh", "name_en", "unit_price_fen",'
    ' "quantity", "total_fen") SELECT * FROM json_to_recordset(%s::json) AS x(sale_id text, position int,'
    " sku text, name_zh text, name_en text, unit_price_fen bigint, quantity int, total_fen bigint)"
)
_MOVES = (
    'INSERT INTO "stock_move" ("store", "sku", "quantity", "kind", "ref", "at") SELECT * FROM'
    " json_to_recordset(%s::json) AS x(store text, sku text, quantity bigint, kind text, ref text, at text)"
)
_MOVE_KEYS = ("store", "sku", "quantity", "kind", "ref", "at")
_EVENT_KEYS = ("id", "device", "seq", "type", "ts", "hash", "body")  # received_at is one parameter
_SALE_KEYS = ("id", "event_id", "device", "store", "receipt_no", "sold_at", "day", "total_fen", "currency",
              "item_count")  # fmt: skip
_LINE_KEYS = ("sale_id", "position", "sku", "name_zh", "name_en", "unit_price_fen", "quantity", "total_fen")


def _records(keys: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    """``rows`` as one JSON array of objects: PostgreSQL parses it in C (json_to_recordset)."""
    return dumps_sorted([dict(zip(keys, row, strict=True)) for row in rows])


def lock_head(db: Database, device: str, genesis: str, now: dt.datetime) -> tuple[int, str]:
    """Create (if new) and lock the device's head row until commit; return its (seq, hash)."""
    cursor = db.execute_sql(
        'INSERT INTO "device_head" ("device", "seq", "hash", "last_seen") VALUES (%s, 0, %s, %s) '
        'ON CONFLICT ("device") DO UPDATE SET "seq" = "device_head"."seq" RETURNING "seq", "hash"',
        (device, genesis, now),
    )
    seq, hash_ = cursor.fetchone()
    return int(seq), str(hash_)


def known(
    db: Database, device: str, ids: list[str], low: int, high: int
) -> tuple[set[str], dict[int, tuple[str, str]], bool, int]:
    """Ids among ``ids`` already booked, this device's events with seq in ``low..high``, whether
    the device is held in fork state, and the newest config release (for the price check,
    :func:`hub.catalog.prices.mismatches`): one round trip."""
    cursor = db.execute_sql(
        'SELECT "id", "device", "seq", "hash", 0 FROM "event" WHERE "id" = ANY(%s) '
        'OR ("device" = %s AND "seq" BETWEEN %s AND %s) '
        "UNION ALL SELECT '', '', 0, '', 1 FROM \"device_status\" WHERE \"device\" = %s "
        'AND "fork_seq" IS NOT NULL '
        "UNION ALL SELECT '', '', COALESCE(MAX(\"version\"), 0), '', 2 FROM \"config_release\"",
        (ids, device, low, high, device),
    )
    wanted, seen, chain, forked, release = set(ids), set(), {}, False, 0
    for event_id, event_device, seq, hash_, fork in cursor.fetchall():
        if fork == 2:
            release = int(seq)
            continue
        if fork:
            forked = True
            continue
        if event_id in wanted:
            seen.add(event_id)
        if event_device == device and low <= seq <= high:
            chain[int(seq)] = (event_id, hash_)
    return seen, chain, forked, release


def write(
    db: Database,
    device: str,
    rows: Rows,
    gaps: list[tuple[int, int]],
    head: tuple[int, str],
    skew_s: float | None,
    now: dt.datetime,
    release: int | None = None,
) -> None:
    """Book ``rows`` and everything that goes with them in one statement (raises IntegrityError
    on a clash, e.g. a receipt number booked before; the caller's transaction then rolls back)."""
    ids = [row[0] for row in rows.events]
    events = [(*row[:6], *row[7:]) for row in rows.events]  # without received_at (booking.event_row)
    parts = [("e", _EVENTS, [now, _records(_EVENT_KEYS, events)])]
    if rows.sales:
        parts.append(("s", _SALES, [_records(_SALE_KEYS, rows.sales)]))
    if rows.lines:
        parts.append(("l", _LINES, [_records(_LINE_KEYS, rows.lines)]))
    if rows.summary.moves:  # the stock ledger: one JSON parameter, as the lines
        parts.append(("m", _MOVES, [_records(_MOVE_KEYS, rows.summary.moves)]))
    queries = [
        DeviceHead.update(seq=head[0], hash=head[1], last_seen=now).where(DeviceHead.device == device),
        Quarantine.update(resolved_at=now, resolution="applied when the terminal sent it again").where(
            Quarantine.device == device, Quarantine.resolved_at.is_null(), Quarantine.event_id.in_(ids)
        ),
    ]
    if gaps:
        rows_ = [{"device": device, "expected": e, "got": g, "found_at": now} for e, g in gaps]
        queries.append(Gap.insert_many(rows_).returning(Gap.id))
    values: dict[str, object] = {"clock_skew_s": skew_s, "skew_at": now} if skew_s is not None else {}
    if gaps:  # what the ack asks the terminal to resend: the fleet page shows it (one upsert with the skew)
        values |= {"resend_asked": ",".join(f"{e}-{g - 1}" for e, g in gaps), "resend_at": now}
    if values:
        queries.append(
            fleet.DeviceStatus.insert(device=device, **values)
            .on_conflict(conflict_target=[fleet.DeviceStatus.device], update=values)
            .returning(fleet.DeviceStatus.device)
        )
    queries.extend(upserts(rows.summary, moves=False))  # the report rows, in the same statement
    if rows.summary.moves:
        queries.append(level_query(rows.summary.moves))  # the stock balances
    found = mismatches(rows.sales, rows.lines, release)  # charged at a price its store was not given
    if found:
        queries.append(Reconciliation.insert_many(found).returning(Reconciliation.id))
    for n, query in enumerate(queries):
        sql, params = query.sql()
        parts.append((f"q{n}", sql, list(params)))
    statement = "WITH " + ", ".join(f"{name} AS ({sql})" for name, sql, _ in parts) + " SELECT 1"
    db.execute_sql(statement, [p for _, _, params in parts for p in params])
