"""The owner's audit trail on the hub: an append-only, hash-chained log of who did what.

Every row carries the SHA-256 of the row before it (``prev``) and of itself (``hash``), like the
terminals' event chains: editing, inserting or deleting a row in the middle breaks the chain, and
:func:`verify` (``hub audit verify``, the ``/audit`` page) says where. ``by`` is the signed-in
account of the request (:data:`ACTOR`), never a name the caller typed.
"""

import datetime as dt
import hashlib
import json
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from peewee import PostgresqlDatabase

from hub.db import database
from hub.members.models import OwnerAudit

# the signed-in caller of the request being served (set by hub.web.auth): what the log records as
# ``by``, whatever name a form or a JSON body declares
ACTOR: ContextVar[str | None] = ContextVar("hub_actor", default=None)

GENESIS = "0" * 64
# any fixed 64-bit number: PostgreSQL writers of the log take turns on it, so two rows never
# chain to the same predecessor (SQLite's write transactions already take turns)
PG_LOCK_KEY = 0x4855424155444954


@dataclass(frozen=True)
class Break:
    """Where the chain is broken: the row id and what is wrong with it."""

    row: int
    reason: str


def _stamp(at: dt.datetime | str) -> str:
    # one spelling of the time for hashing, whatever the database hands back (aware, naive UTC, text)
    when = dt.datetime.fromisoformat(at) if isinstance(at, str) else at
    when = when.astimezone(dt.UTC) if when.tzinfo else when.replace(tzinfo=dt.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")


def row_hash(prev: str, at: dt.datetime | str, by: str, action: str, subject: str, detail: str) -> str:
    """The hash of one row given the hash before it."""
    body = json.dumps(
        [prev, _stamp(at), by, action, subject, detail], ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _last_hash() -> str:
    last = OwnerAudit.select(OwnerAudit.hash).order_by(OwnerAudit.id.desc()).first()
    return last.hash if last is not None and last.hash else GENESIS


def record(by: str, action: str, subject: str, now: dt.datetime, **detail: Any) -> None:
    """Append one audit row; call it inside the transaction of the change it describes.

    Within a signed-in request ``by`` is the caller (:data:`ACTOR`), not the name the caller gave.
    """
    at = now.astimezone(dt.UTC) if now.tzinfo else now.replace(tzinfo=dt.UTC)
    who = ACTOR.get() or by
    text = json.dumps(detail, ensure_ascii=False, sort_keys=True)
    if isinstance(database.obj, PostgresqlDatabase):
        database.obj.execute_sql("SELECT pg_advisory_xact_lock(%s)", (PG_LOCK_KEY,))
    prev = _last_hash()
    OwnerAudit.create(
        at=at,
        by=who,
        action=action,
        subject=subject,
        detail=text,
        prev=prev,
        hash=row_hash(prev, at, who, action, subject, text),
    )


def chain_unchained() -> int:
    """Chain the rows written before the log was a chain (migration 4), in id order; how many."""
    prev, done = GENESIS, 0
    for row in OwnerAudit.select().order_by(OwnerAudit.id):
        if not row.hash:
            digest = row_hash(prev, row.at, row.by, row.action, row.subject, row.detail)
            OwnerAudit.update(prev=prev, hash=digest).where(OwnerAudit.id == row.id).execute()
            row.hash, done = digest, done + 1
        prev = row.hash
    return done


def verify() -> tuple[int, list[Break]]:
    """Check the whole chain: (rows checked, breaks found, oldest first)."""
    prev, count, breaks = GENESIS, 0, []
    for row in OwnerAudit.select().order_by(OwnerAudit.id).iterator():
        count += 1
        if row.prev != prev:
            breaks.append(Break(row.id, "does not follow the row before it (a row was removed or inserted)"))
        if row.hash != row_hash(row.prev, row.at, row.by, row.action, row.subject, row.detail):
            breaks.append(Break(row.id, "was changed after it was written"))
        prev = row.hash
    return count, breaks


@dataclass(frozen=True)
class Anchor:
    """The newest row of the chain as it stood: kept outside the hub, it shows a rewrite of the end.

    The chain alone cannot show the newest rows removed, or the whole log rewritten from some row
    on with fresh hashes: both leave a chain that verifies. A copy of ``id:hash`` written down
    elsewhere (``hub audit anchor``) can: that row must still be there with that hash.
    """

    row: int
    hash: str

    def __str__(self) -> str:
        return f"{self.row}:{self.hash}"


class BadAnchor(ValueError):
    """An anchor that is not ``<row id>:<64 hex digits>``."""


def anchor() -> Anchor | None:
    """The newest row's id and hash (None: the log is empty)."""
    last = OwnerAudit.select(OwnerAudit.id, OwnerAudit.hash).order_by(OwnerAudit.id.desc()).first()
    return Anchor(last.id, last.hash) if last is not None else None


def parse_anchor(text: str) -> Anchor:
    """``text`` (``42:9f…``, as ``hub audit anchor`` prints it) as an anchor."""
    row, _, digest = text.strip().partition(":")
    digest = digest.lower()
    if not row.isdigit() or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise BadAnchor(
            f"{text[:80]!r} is not an anchor: expected <row id>:<64 hex digits>, as `hub audit anchor` prints"
            f" / {text[:80]!r} 不是审计锚点，应为 行号:64 位十六进制"
        )
    return Anchor(int(row), digest)


def check_anchor(kept: Anchor) -> Break | None:
    """None if the row ``kept`` names is still in the log with that hash; else what happened to it."""
    row = OwnerAudit.get_or_none(OwnerAudit.id == kept.row)
    if row is None:
        return Break(kept.row, "the anchored row is gone: the newest rows were removed")
    if row.hash != kept.hash:
        return Break(kept.row, "the anchored row has another hash now: the log was rewritten up to it")
    return None


def trail(subject: str | None = None) -> list[dict[str, Any]]:
    """Audit rows, oldest first (of one subject when given), with ``detail`` decoded."""
    query = OwnerAudit.select().order_by(OwnerAudit.id)
    if subject is not None:
        query = query.where(OwnerAudit.subject == subject)
    return [{**row, "detail": json.loads(row["detail"])} for row in query.dicts()]
