"""The outbox: every state change writes its event here in the same transaction.

:func:`append_event` must be called inside ``database.atomic("IMMEDIATE")``; it
extends the device's hash chain. The sync agent reads :func:`pending` and
marks rows with :func:`mark_acked` only when the hub acks them.
"""

import datetime as dt
import json
import uuid
from typing import Any, Protocol

from kiosk.store.connection import database
from kiosk.store.models import Outbox
from kiosk.sync.schema import GENESIS, make_event

_INSERT_OUTBOX = (
    "INSERT INTO outbox (id, seq, type, ts, prev, hash, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_UPSERT_HEAD = (
    "INSERT INTO chain_head (id, seq, hash) VALUES (1, ?, ?)"
    " ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash"
)


class Source(Protocol):
    """Where an event comes from: a terminal (``kiosk.store.sales.Terminal``) and its boot."""

    @property
    def device(self) -> str: ...

    @property
    def boot(self) -> str: ...


def record_event(source: Source, ts: str, type: str, data: dict[str, Any], event_id: str = "") -> str:
    """:func:`append_event` from ``source`` with a fresh UUID (or ``event_id``); return the id."""
    event_id = event_id or str(uuid.uuid4())
    append_event(event_id=event_id, device=source.device, boot=source.boot, ts=ts, type=type, data=data)
    return event_id


def append_event(
    *, event_id: str, device: str, boot: str, ts: str, type: str, data: dict[str, Any]
) -> dict[str, Any]:
    """Add one event to the outbox, linked to the chain head; return the event."""
    if not database.in_transaction():
        raise RuntimeError("append_event must run inside the change's own transaction")
    # Plain SQL on the hot path: peewee's query building cost more than the writes (docs/perf.md).
    row = database.execute_sql("SELECT seq, hash FROM chain_head WHERE id = 1").fetchone()
    seq, prev = (row[0], row[1] or GENESIS) if row else (0, GENESIS)
    event = make_event(
        event_id=event_id,
        device=device,
        seq=seq + 1,
        boot=boot,
        ts=ts,
        type=type,
        prev=prev,
        data=data,
    )
    body = json.dumps(event, ensure_ascii=False, sort_keys=True)
    created = str(dt.datetime.now(dt.UTC))
    database.execute_sql(
        _INSERT_OUTBOX, (event_id, event["seq"], type, ts, prev, event["hash"], body, created)
    )
    database.execute_sql(_UPSERT_HEAD, (event["seq"], event["hash"]))
    return event


def pending(limit: int = 50) -> list[dict[str, Any]]:
    """The oldest events not yet acked by the hub, in sequence order."""
    rows = (
        Outbox.select(Outbox.body)
        .where(Outbox.sent_at.is_null(), Outbox.rejected.is_null())
        .order_by(Outbox.seq)
        .limit(limit)
    )
    return [json.loads(row.body) for row in rows]


def pending_bodies(limit: int = 50) -> list[tuple[str, str]]:
    """Like :func:`pending`, as (event id, stored JSON body) without decoding: the agent's hot path."""
    sql = "SELECT id, body FROM outbox WHERE sent_at IS NULL AND rejected IS NULL ORDER BY seq LIMIT ?"
    return database.execute_sql(sql, (limit,)).fetchall()


def mark_acked(ids: list[str], now: dt.datetime) -> int:
    """Record the hub's ack for ``ids``; return how many rows changed.

    This commit does not wait for the disk (``synchronous=NORMAL`` for it alone): a
    power cut can lose only the newest ack marks, never an event, and the agent then
    sends those events again, which the hub re-acks as duplicates. The next commit with
    ``synchronous=FULL`` (every sale) makes the marks durable too (WAL is sequential).
    On an SD card this saves one fsync per ack message during a backlog drain.
    """
    if not ids:
        return 0
    database.execute_sql("PRAGMA synchronous = NORMAL")
    try:
        with database.atomic("IMMEDIATE"):
            query = Outbox.update(sent_at=now).where(Outbox.id.in_(ids), Outbox.sent_at.is_null())
            return query.execute()
    finally:
        database.execute_sql("PRAGMA synchronous = FULL")


def mark_unsent(ranges: list[tuple[int, int]]) -> int:
    """Send again the acked events in the (first, last) sequence ranges the hub says it lacks
    (a hub restored from a backup); return how many. Rejected events stay rejected."""
    changed = 0
    with database.atomic("IMMEDIATE"):
        for first, last in ranges:
            query = Outbox.update(sent_at=None).where(
                Outbox.seq.between(first, last), Outbox.sent_at.is_null(False), Outbox.rejected.is_null()
            )
            changed += query.execute()
    return changed


def mark_rejected(reasons: dict[str, str]) -> int:
    """Record the hub's rejections; a rejected event is kept but not sent again."""
    changed = 0
    with database.atomic("IMMEDIATE"):
        for event_id, reason in reasons.items():
            changed += Outbox.update(rejected=reason).where(Outbox.id == event_id).execute()
    return changed


def depth() -> int:
    """How many events wait for the hub."""
    return Outbox.select().where(Outbox.sent_at.is_null(), Outbox.rejected.is_null()).count()
