"""The quarantine: what the hub could not apply, kept whole, and replayed after a fix.

A quarantined *event* (bad data, failed rule, broken chain) was rejected back to
its terminal, which stopped resending it; a quarantined *message* (unusable
envelope) was not acked. Either is replayed here through the normal ingest,
with its original topic, so dedupe and chain checks hold as for live traffic.
"""

import datetime as dt
import json
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from hub.db import database
from hub.ingest.batch import ingest_batch
from hub.ingest.models import Quarantine
from kiosk.sync import schema


class ReplayError(Exception):
    """A quarantined entry cannot be replayed; the text says why, in Chinese and English."""


@dataclass(frozen=True)
class ReplayOutcome:
    """What a replay did."""

    entry_id: int
    applied: int
    duplicates: int
    still_rejected: list[dict[str, str]]

    @property
    def resolved(self) -> bool:
        """True when nothing of the entry is rejected any more."""
        return not self.still_rejected

    def describe(self) -> str:
        """One line for the owner, Chinese then English."""
        if self.resolved:
            return (
                f"隔离记录 {self.entry_id} 已处理：入账 {self.applied}，重复 {self.duplicates}。"
                f" / Entry {self.entry_id} resolved: {self.applied} applied, {self.duplicates} duplicates."
            )
        reasons = "; ".join(r["reason"] for r in self.still_rejected)
        return (
            f"隔离记录 {self.entry_id} 仍无法入账：{reasons}"
            f" / Entry {self.entry_id} still cannot be applied: {reasons}"
        )


def entries(include_resolved: bool = False, limit: int = 200) -> list[Quarantine]:
    """Quarantined entries, newest first; open ones only unless ``include_resolved``."""
    query = Quarantine.select().order_by(Quarantine.id.desc()).limit(limit)
    if not include_resolved:
        query = query.where(Quarantine.resolved_at.is_null())
    return list(query)


def open_count() -> int:
    """How many quarantined entries still wait for a fix."""
    return Quarantine.select().where(Quarantine.resolved_at.is_null()).count()


def replay(entry_id: int, now: dt.datetime, tz: ZoneInfo) -> ReplayOutcome:
    """Run entry ``entry_id`` through ingest again; mark it resolved when it applies."""
    entry = Quarantine.get_or_none(Quarantine.id == entry_id)
    if entry is None:
        raise ReplayError(f"没有编号为 {entry_id} 的隔离记录。 / No quarantine entry {entry_id}.")
    if entry.resolved_at is not None:
        raise ReplayError(f"隔离记录 {entry_id} 已处理过。 / Entry {entry_id} was already resolved.")
    payload = _as_message(entry)
    try:
        result = ingest_batch(entry.topic, payload, now, tz, replaying=True)
    except schema.SchemaError as exc:
        raise ReplayError(
            f"消息格式仍然无效：{exc}。请修正终端软件后由终端重发。"
            f" / The message is still unusable: {exc}. Fix the terminal; it will resend."
        ) from exc
    assert result is not None  # replaying raises instead of returning None
    outcome = ReplayOutcome(entry_id, result.applied, result.duplicates, result.rejected)
    if outcome.resolved:
        with database.atomic():
            Quarantine.update(
                resolved_at=now, resolution=f"applied {result.applied}, duplicates {result.duplicates}"
            ).where(Quarantine.id == entry_id).execute()
    return outcome


def _as_message(entry: Quarantine) -> bytes:
    if entry.event_id is None:
        return str(entry.payload).encode()
    try:
        event = json.loads(entry.payload)
    except json.JSONDecodeError as exc:
        raise ReplayError(f"隔离的事件不是 JSON。 / The quarantined event is not JSON: {exc}") from exc
    return schema.batch(entry.device, [event])
