"""Ingest of uplink batches: dedupe, chain checks, effects, quarantine.

Each event is inserted by id in the same transaction as its effect. A
duplicate id fails the insert, rolls back only its own savepoint, and is
re-acked with no effect. Events that cannot be applied are quarantined and
reported back as ``rejected`` so the terminal stops resending them.
"""

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from peewee import IntegrityError

from hub import loyalty
from hub.db import database, transaction
from hub.models import DeviceHead, Event, Gap, Quarantine, Sale, SaleLine
from kiosk.sync import schema
from kiosk.sync.topics import device_of

log = logging.getLogger(__name__)


@dataclass
class IngestResult:
    """What to ack: committed (or already known) ids, and rejections with reasons."""

    acked: list[str] = field(default_factory=list)
    rejected: list[dict[str, str]] = field(default_factory=list)
    applied: int = 0
    duplicates: int = 0


class Rejected(Exception):
    """An event that cannot be applied; the message is the reason sent back."""


def ingest_batch(topic: str, payload: bytes, now: dt.datetime, tz: ZoneInfo) -> IngestResult | None:
    """Apply one uplink message; return what to ack, or None if nothing can be acked."""
    try:
        device = device_of(topic)
        events = schema.parse_batch(payload, device)
    except (ValueError, schema.SchemaError) as exc:
        _quarantine(topic, None, None, str(exc), payload, now)
        log.error("quarantined a message on %s: %s", topic, exc)
        return None
    result = IngestResult()
    for event in sorted(events, key=_seq_or_zero):
        _ingest_event(topic, device, event, now, tz, result)
    return result


def _seq_or_zero(event: Any) -> int:
    seq = event.get("seq") if isinstance(event, dict) else None
    return seq if isinstance(seq, int) else 0


def _ingest_event(
    topic: str, device: str, event: Any, now: dt.datetime, tz: ZoneInfo, result: IngestResult
) -> None:
    problem = schema.check_event(event, device)
    if problem:
        _reject(topic, device, event, problem, now, result)
        return
    try:
        with transaction():
            if Event.get_or_none(Event.id == event["id"]) is not None:
                result.duplicates += 1
            else:
                _apply(event, now, tz)
                result.applied += 1
        result.acked.append(event["id"])
    except IntegrityError:
        # another worker committed the same id between our check and our insert
        result.duplicates += 1
        result.acked.append(event["id"])
    except Rejected as exc:
        _reject(topic, device, event, str(exc), now, result)


def _apply(event: dict[str, Any], now: dt.datetime, tz: ZoneInfo) -> None:
    _check_chain(event, now)
    Event.insert(
        id=event["id"],
        device=event["device"],
        seq=event["seq"],
        type=event["type"],
        ts=event["ts"],
        hash=event["hash"],
        received_at=now,
        body=json.dumps(event, ensure_ascii=False, sort_keys=True),
    ).execute()
    effect = EFFECTS.get(event["type"])
    if effect is not None:
        effect(event, tz)


def _check_chain(event: dict[str, Any], now: dt.datetime) -> None:
    head = DeviceHead.get_or_none(DeviceHead.device == event["device"])
    seq = event["seq"]
    if head is None:
        if seq == 1 and event["prev"] != schema.GENESIS:
            raise Rejected("first event of a device must link to the genesis hash")
        if seq > 1:
            _record_gap(event["device"], 1, seq, now)
        DeviceHead.create(device=event["device"], seq=seq, hash=event["hash"], last_seen=now)
        return
    if seq <= head.seq:
        # an older event arriving late (after a gap) is fine; a reused seq is not
        if Event.select().where(Event.device == event["device"], Event.seq == seq).exists():
            raise Rejected(f"sequence {seq} already used by another event of this device")
        head.last_seen = now
        head.save()
        return
    if seq == head.seq + 1 and event["prev"] != head.hash:
        raise Rejected(f"hash chain does not link at sequence {seq}")
    if seq > head.seq + 1:
        _record_gap(event["device"], head.seq + 1, seq, now)
    DeviceHead.update(seq=seq, hash=event["hash"], last_seen=now).where(
        DeviceHead.device == event["device"]
    ).execute()


def _record_gap(device: str, expected: int, got: int, now: dt.datetime) -> None:
    log.warning("device %s: gap in sequence, expected %d, got %d", device, expected, got)
    Gap.create(device=device, expected=expected, got=got, found_at=now)


def _apply_sale_completed(event: dict[str, Any], tz: ZoneInfo) -> None:
    data = event["data"]
    try:
        sold_at = dt.datetime.fromisoformat(event["ts"])
        lines = data["lines"]
        total = int(data["total_fen"])
        discount = sum(int(d["amount_fen"]) for d in data.get("discounts", []))
        if sum(int(line["total_fen"]) for line in lines) - discount != total:
            raise Rejected("line totals do not add up to the sale total")
        sale = Sale.create(
            id=data["sale_id"],
            event=event["id"],
            device=event["device"],
            store=data["store"],
            receipt_no=data["receipt_no"],
            sold_at=event["ts"],
            day=sold_at.astimezone(tz).date().isoformat(),
            total_fen=total,
            currency=data.get("currency", "CNY"),
            item_count=sum(int(line["quantity"]) for line in lines),
        )
        SaleLine.insert_many(
            [
                {
                    "sale": sale.id,
                    "position": line["position"],
                    "sku": line["sku"],
                    "name_zh": line["name_zh"],
                    "name_en": line.get("name_en", ""),
                    "unit_price_fen": line["unit_price_fen"],
                    "quantity": line["quantity"],
                    "total_fen": line["total_fen"],
                }
                for line in lines
            ]
        ).execute()
    except (KeyError, TypeError, ValueError) as exc:
        raise Rejected(f"sale.completed data is incomplete: {exc!r}") from exc
    except IntegrityError as exc:
        raise Rejected(f"sale conflicts with a booked sale: {exc}") from exc
    loyalty.on_sale_completed(event, tz)


EFFECTS = {"sale.completed": _apply_sale_completed, **loyalty.EFFECTS}


def _reject(
    topic: str,
    device: str,
    event: Any,
    reason: str,
    now: dt.datetime,
    result: IngestResult,
) -> None:
    event_id = event.get("id") if isinstance(event, dict) else None
    event_id = event_id if isinstance(event_id, str) else None
    raw = json.dumps(event, ensure_ascii=False, default=str).encode()
    _quarantine(topic, device, event_id, reason, raw, now)
    log.error("quarantined event %s from %s: %s", event_id, device, reason)
    if event_id:
        result.rejected.append({"id": event_id, "reason": reason})


def _quarantine(
    topic: str,
    device: str | None,
    event_id: str | None,
    reason: str,
    payload: bytes,
    now: dt.datetime,
) -> None:
    with database.atomic():
        Quarantine.create(
            topic=topic,
            device=device,
            event_id=event_id,
            reason=reason,
            payload=payload.decode("utf-8", errors="replace"),
            received_at=now,
        )
