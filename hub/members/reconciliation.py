"""Reconciliation items for the owner: list them (open or resolved) and resolve them with a note.

The items themselves are written by the checks in :mod:`hub.members.ledger` and
:mod:`hub.members.coupon_terms`; resolving one records who closed it and why and
changes nothing in the ledger (a correction, if any, is its own adjustment).
"""

import datetime as dt
from typing import Any

from hub.accounts import audit as owner_audit
from hub.members.models import Reconciliation, ReconciliationNote


class ItemError(Exception):
    """An item that cannot be resolved as asked; the message is bilingual."""


def items(status: str = "open", kind: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
    """Items by ``status`` (open, resolved, all), oldest first for open ones, newest first otherwise.

    Resolved items carry ``note`` and ``resolved_by``.
    """
    query = Reconciliation.select()
    if status == "open":
        query = query.where(Reconciliation.resolved_at.is_null()).order_by(Reconciliation.id)
    elif status == "resolved":
        query = query.where(Reconciliation.resolved_at.is_null(False)).order_by(Reconciliation.id.desc())
    else:
        query = query.order_by(Reconciliation.id.desc())
    if kind:
        query = query.where(Reconciliation.kind == kind)
    return _with_notes(list(query.limit(limit).dicts()))


def item(item_id: int) -> dict[str, Any] | None:
    """One item with its note, or None."""
    rows = list(Reconciliation.select().where(Reconciliation.id == item_id).dicts())
    return _with_notes(rows)[0] if rows else None


def _with_notes(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    notes = {
        n.item_id: n
        for n in ReconciliationNote.select().where(ReconciliationNote.item_id.in_([r["id"] for r in rows]))
    }
    for row in rows:
        note = notes.get(row["id"])
        row["note"], row["resolved_by"] = (note.note, note.by) if note else ("", "")
    return rows


def counts() -> dict[str, int]:
    """How many items are open and how many resolved."""
    total = Reconciliation.select().count()
    open_ = Reconciliation.select().where(Reconciliation.resolved_at.is_null()).count()
    return {"open": open_, "resolved": total - open_}


def resolve_item(item_id: int, note: str, by: str, now: dt.datetime) -> dict[str, Any]:
    """Close an open item with ``note``; audited. ItemError when missing, closed or the note is blank."""
    if not note.strip():
        raise ItemError("a note is required: say what was checked or done / 请填写处理说明")
    found = Reconciliation.get_or_none(Reconciliation.id == item_id)
    if found is None:
        raise ItemError(f"no item {item_id} / 对账项不存在")
    if found.resolved_at is not None:
        raise ItemError(f"item {item_id} is already resolved / 该对账项已处理")
    Reconciliation.update(resolved_at=now).where(Reconciliation.id == item_id).execute()
    ReconciliationNote.create(item_id=item_id, note=note.strip(), by=by, at=now)
    owner_audit.record(by, "reconciliation.resolve", f"reconciliation:{item_id}", now, kind=found.kind,
                       note=note.strip())  # fmt: skip
    return item(item_id) or {}


def as_json(row: dict[str, Any]) -> dict[str, Any]:
    """An item with its times as ISO strings."""
    return {
        **row,
        "found_at": row["found_at"].isoformat() if row.get("found_at") else None,
        "resolved_at": row["resolved_at"].isoformat() if row.get("resolved_at") else None,
    }
