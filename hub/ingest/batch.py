"""Ingest of uplink batches: dedupe, chain checks, effects, quarantine, clock skew.

One message is one database transaction; each event inside it runs in its own
savepoint. An event is inserted by id together with its effect, so a duplicate
(already committed, or committed a moment ago by another worker) changes
nothing and is re-acked. Events that cannot be applied are quarantined and
reported back as ``rejected`` so the terminal stops resending them; the owner
replays them after a fix (``hub quarantine replay``).

The caller acks only after :func:`ingest_batch` returns, i.e. after commit.
"""

import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from peewee import DataError, IntegrityError, PostgresqlDatabase, SqliteDatabase

from hub.db import database, transaction
from hub.errors import Forked, Rejected
from hub.fleet import presence as fleet
from hub.ingest import booking, bulk_pg, refunds
from hub.ingest.models import DeviceHead, Event, Gap, Quarantine, Sale
from hub.members import ledger as loyalty
from hub.members.raw_copies import keep_data_key
from hub.staff import hours as staff_hours
from hub.staff import shifts as staff_shifts
from kiosk.sync import schema
from kiosk.sync.topics import device_of

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 1024 * 1024  # the broker's max_packet_size is the same (hub broker-config)
QUARANTINE_KEEP_BYTES = 64 * 1024  # of an oversized message, this much is kept for inspection


@dataclass
class IngestResult:
    """What to ack: committed (or already known) ids, and rejections with reasons."""

    acked: list[str] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    applied: int = 0
    duplicates: int = 0
    # sequence numbers (first, last) this batch showed missing: the terminal sends them again
    # if it still has them (a hub restored from a backup lacks what it acked after it)
    resend: list[tuple[int, int]] = field(default_factory=list)


Effect = Callable[[dict[str, Any], ZoneInfo], None]


@dataclass
class _Chain:
    """A device's chain as this batch sees it: the locked head and known hashes by sequence."""

    device: str
    head_seq: int
    head_hash: str
    known: dict[int, tuple[str, str]]  # seq -> (event id, hash)
    gaps: list[tuple[int, int]] = field(default_factory=list)
    forked: bool = False  # the terminal's unsent events fork from the hub's chain until it re-chains


# which store a terminal sells for, from the device registry (``hub.fleet.devices.StoreBook``): the
# registry decides, not the event; None (a terminal the registry does not know, or no registry as
# in a bare test) leaves the event's store unchecked
STORE_OF: list[Callable[[str], str | None]] = []


def configure_stores(store_of: Callable[[str], str | None] | None) -> None:
    """Check each event's store against ``store_of(device)`` (None: stop checking)."""
    STORE_OF[:] = [store_of] if store_of is not None else []


def event_problem(event: Any, device: str) -> str | None:
    """Why ``event`` from ``device`` cannot be booked as sent (schema, or a store not its own), or None."""
    problem = schema.check_event(event, device)
    if problem or not STORE_OF:
        return problem
    claimed = event["data"].get("store")
    registered = STORE_OF[0](device)
    if claimed is None or registered is None or claimed == registered:
        return None
    return (
        f"the event says store {claimed!r}, but terminal {device} is registered for store {registered!r};"
        f" re-provision it or fix the registry, then replay / 事件中的门店 {claimed} 与终端 {device}"
        f" 登记的门店 {registered} 不符，请重新开通终端或修正登记后重放"
    )


def ingest_batch(
    topic: str, payload: bytes, now: dt.datetime, tz: ZoneInfo, *, replaying: bool = False
) -> IngestResult | None:
    """Apply one uplink message; return what to ack, or None if nothing can be acked.

    ``replaying`` is for :mod:`hub.ingest.quarantine`: rejections are returned but not
    quarantined again, and an unusable envelope raises SchemaError.
    """
    try:
        if len(payload) > MAX_MESSAGE_BYTES:
            raise schema.SchemaError(f"message of {len(payload)} bytes exceeds {MAX_MESSAGE_BYTES}")
        device = device_of(topic)
        events, sent_at = schema.parse_uplink(payload, device)
    except (ValueError, schema.SchemaError) as exc:
        if replaying:
            raise schema.SchemaError(str(exc)) from exc
        kept = payload[:QUARANTINE_KEEP_BYTES]
        with database.atomic():
            _quarantine(topic, _device_or_none(topic), None, str(exc), kept, now)
        log.error("quarantined a message on %s: %s", topic, exc)
        return None
    if _plain_sales_pg(device, events):
        fast = _ingest_plain_sales_pg(device, events, sent_at, now, tz)
        if fast is not None:
            return fast
    result = IngestResult()
    with transaction():
        chain = _lock_chain(device, events, now)
        ordered = sorted(events, key=_seq_or_zero)
        known = _known_ids(ordered)
        plan = _Plan(chain)
        for event in ordered:
            if _bulk_eligible(event, device) and event["id"] not in known:
                if not plan.add(event, now, tz, result):
                    _reject(topic, device, event, plan.rejected, now, result, replaying, plan.forked)
                continue
            plan.flush(topic, device, now, tz, result, replaying)
            _ingest_event(topic, device, event, chain, now, tz, result, replaying)
        plan.flush(topic, device, now, tz, result, replaying)
        _close_chain(chain, now)
        result.resend = _missing(chain)
        if result.resend:  # the fleet page shows what the hub asked for (after a restore: the lost days)
            fleet.record_resend(device, result.resend, now)
        _answer_forks(chain, result)
        _resolve_requarantined(device, result, now)
        fleet.record_skew(device, sent_at, now)
    return result


class _Unusual(Exception):
    """The batch needs the general path (a known id, a fork, a link problem): roll back, go there."""


def _plain_sales_pg(device: str, events: list[Any]) -> bool:
    """On PostgreSQL, a batch of distinct, well-formed sales without member work goes the fast way."""
    if not isinstance(database.obj, PostgresqlDatabase) or not events:
        return False
    if not all(_bulk_eligible(event, device) for event in events):
        return False
    return len({event["id"] for event in events}) == len(events)


def _ingest_plain_sales_pg(
    device: str, events: list[dict[str, Any]], sent_at: str | None, now: dt.datetime, tz: ZoneInfo
) -> IngestResult | None:
    """Book a batch of new plain sales in three round trips (:mod:`hub.ingest.bulk_pg`).

    None: use the general path.

    The same guarantees as the general path: the head row is locked, every id is checked against
    the booked ones and the chain is checked link by link, all inside the transaction that books.
    """
    ordered = sorted(events, key=lambda e: e["seq"])
    ids = [e["id"] for e in ordered]
    db = database.obj
    try:
        with transaction():
            head_seq, head_hash = bulk_pg.lock_head(db, device, schema.GENESIS, now)
            seen, chain_known, forked, release = bulk_pg.known(
                db, device, ids, ordered[0]["seq"] - 1, ordered[-1]["seq"]
            )
            if seen or forked:
                raise _Unusual
            chain = _Chain(device, head_seq, head_hash, chain_known)
            rows = booking.Rows()
            for event in ordered:
                try:
                    _check_link(event, chain)
                    sale, lines = booking.sale_rows(event, tz)
                except (Rejected, booking.BookingError) as exc:
                    raise _Unusual from exc
                _advance(event, chain)
                rows.events.append(booking.event_row(event, now))
                rows.add_sale(sale, lines, event["data"], tz)
            for expected, got in chain.gaps:
                log.warning("device %s: gap in sequence, expected %d, got %d", device, expected, got)
            head = (chain.head_seq, chain.head_hash)
            skew = fleet.skew_seconds(sent_at, now)
            # the resend the ack asks for is stored for the fleet page in the same statement
            bulk_pg.write(db, device, rows, chain.gaps, head, skew, now, release=release)
    except (_Unusual, *REFUSED):
        return None  # rolled back; the general path sorts it out event by event
    return IngestResult(acked=ids, applied=len(ids), resend=_missing(chain))


def _answer_forks(chain: _Chain, result: IngestResult) -> None:
    for item in result.rejected:
        if item.pop("fork", None):
            item["rebase"] = {"seq": chain.head_seq, "hash": chain.head_hash}


def _resolve_requarantined(device: str, result: IngestResult, now: dt.datetime) -> None:
    """Events quarantined once (a fork, a failed rule) and booked now: their entries are resolved."""
    if result.applied:
        Quarantine.update(resolved_at=now, resolution="applied when the terminal sent it again").where(
            Quarantine.device == device,
            Quarantine.resolved_at.is_null(),
            Quarantine.event_id.in_(result.acked),
        ).execute()


def _known_ids(events: list[Any]) -> set[str]:
    ids = [e["id"] for e in events if isinstance(e, dict) and isinstance(e.get("id"), str)]
    return {row.id for row in Event.select(Event.id).where(Event.id.in_(ids))} if ids else set()


def _bulk_eligible(event: Any, device: str) -> bool:
    """Well-formed sales whose only effect is the built-in booking go the fast way."""
    return (
        event_problem(event, device) is None
        and event["type"] == "sale.completed"
        and EFFECTS.get("sale.completed") is _apply_sale_completed
        and not (MEMBER_SALE_HOOKS and event["data"].get("member_id"))
    )


class _Plan:
    """Sales checked in memory and written together; on any clash, replayed one by one."""

    def __init__(self, chain: _Chain) -> None:
        self.chain = chain
        self.events: list[dict[str, Any]] = []
        self.rows = booking.Rows()
        self.rejected: str = ""
        self.forked = False
        self._snapshot = self._take()

    def _take(self) -> tuple[int, str, dict[int, tuple[str, str]], int]:
        c = self.chain
        return c.head_seq, c.head_hash, dict(c.known), len(c.gaps)

    def add(self, event: dict[str, Any], now: dt.datetime, tz: ZoneInfo, result: IngestResult) -> bool:
        """Plan ``event``; False (reason in ``rejected``) when it fails the link or data checks."""
        if any(e["id"] == event["id"] for e in self.events):
            result.duplicates += 1
            result.acked.append(event["id"])
            return True
        try:
            _check_link(event, self.chain)
            sale, lines = booking.sale_rows(event, tz)
        except (Rejected, booking.BookingError) as exc:
            self.rejected, self.forked = str(exc), isinstance(exc, Forked)
            return False
        _advance(event, self.chain)
        self.events.append(event)
        self.rows.events.append(booking.event_row(event, now))
        self.rows.add_sale(sale, lines, event["data"], tz)
        return True

    def flush(
        self, topic: str, device: str, now: dt.datetime, tz: ZoneInfo, result: IngestResult, replaying: bool
    ) -> None:
        """Write the planned rows in one savepoint; on a clash fall back to one savepoint per event."""
        if self.events:
            try:
                with database.atomic():
                    booking.write(database.obj, self.rows)
                result.applied += len(self.events)
                result.acked.extend(e["id"] for e in self.events)
            except REFUSED:
                log.warning("batch from %s clashed with booked rows; applying event by event", device)
                head_seq, head_hash, known, gaps = self._snapshot
                self.chain.head_seq, self.chain.head_hash, self.chain.known = head_seq, head_hash, known
                del self.chain.gaps[gaps:]
                for event in self.events:
                    _ingest_event(topic, device, event, self.chain, now, tz, result, replaying)
        self.events, self.rows = [], booking.Rows()
        self._snapshot = self._take()


def _device_or_none(topic: str) -> str | None:
    try:
        return device_of(topic)
    except ValueError:
        return None


def _seq_or_zero(event: Any) -> int:
    seq = event.get("seq") if isinstance(event, dict) else None
    return seq if isinstance(seq, int) else 0


def _lock_chain(device: str, events: list[Any], now: dt.datetime) -> _Chain:
    # The head row is locked for the whole batch so two workers never interleave one device's chain.
    DeviceHead.insert(device=device, seq=0, hash=schema.GENESIS, last_seen=now).on_conflict_ignore().execute()
    query = DeviceHead.select().where(DeviceHead.device == device)
    if not isinstance(database.obj, SqliteDatabase):  # SQLite's IMMEDIATE transaction already locks
        query = query.for_update()
    head = query.get()
    seqs = [s for s in map(_seq_or_zero, events) if s > 0]
    known: dict[int, tuple[str, str]] = {}
    if seqs:
        rows = Event.select(Event.id, Event.seq, Event.hash).where(
            Event.device == device, Event.seq >= min(seqs) - 1, Event.seq <= max(seqs)
        )
        known = {row.seq: (row.id, row.hash) for row in rows}
    return _Chain(device, head.seq, head.hash, known, forked=fleet.is_forked(device))


def _missing(chain: _Chain) -> list[tuple[int, int]]:
    return [(expected, got - 1) for expected, got in chain.gaps]


def _close_chain(chain: _Chain, now: dt.datetime) -> None:
    for expected, got in chain.gaps:
        log.warning("device %s: gap in sequence, expected %d, got %d", chain.device, expected, got)
        Gap.create(device=chain.device, expected=expected, got=got, found_at=now)
    DeviceHead.update(seq=chain.head_seq, hash=chain.head_hash, last_seen=now).where(
        DeviceHead.device == chain.device
    ).execute()
    fleet.record_fork(chain.device, chain.head_seq + 1 if chain.forked else None)


def _ingest_event(
    topic: str,
    device: str,
    event: Any,
    chain: _Chain,
    now: dt.datetime,
    tz: ZoneInfo,
    result: IngestResult,
    replaying: bool,
) -> None:
    problem = event_problem(event, device)
    if problem:
        _reject(topic, device, event, problem, now, result, replaying)
        return
    try:
        with database.atomic():
            if Event.select().where(Event.id == event["id"]).exists():
                result.duplicates += 1
            else:
                _check_link(event, chain)
                _apply(event, now, tz)
                _advance(event, chain)
                result.applied += 1
        result.acked.append(event["id"])
    except REFUSED as exc:  # the savepoint is rolled back: the batch's transaction goes on
        if isinstance(exc, IntegrityError) and Event.select().where(Event.id == event["id"]).exists():
            # another worker committed the same id while we were working: re-ack, no effect
            result.duplicates += 1
            result.acked.append(event["id"])
            return
        # an effect the database refuses (a unique key, a value out of range) would fail the whole
        # batch on every resend: quarantine this event with the database's words, book the others
        reason = f"the hub's database refused this event: {type(exc).__name__}: {exc}"
        _reject(topic, device, event, reason[:1000], now, result, replaying)
    except Rejected as exc:
        _reject(topic, device, event, str(exc), now, result, replaying, isinstance(exc, Forked))


# What the database says when it refuses a row (a constraint, a value it cannot hold); Python's
# OverflowError is SQLite's driver refusing an integer beyond 64 bits. Connection and lock errors
# (OperationalError) are not here: they fail the batch, which the terminal sends again.
REFUSED = (IntegrityError, DataError, OverflowError)


def _check_link(event: dict[str, Any], chain: _Chain) -> None:
    seq = event["seq"]
    if chain.forked:
        if seq == chain.head_seq + 1 and event["prev"] == chain.head_hash:
            chain.forked = False  # re-chained after our head: the fork is over
        elif seq > chain.head_seq:
            raise Forked(f"waiting for sequence {chain.head_seq + 1} after the hub's head (re-chain)")
    if seq in chain.known:
        chain.forked = True
        raise Forked(f"sequence {seq} already used by another event of this device")
    if seq == 1 and event["prev"] != schema.GENESIS:
        raise Rejected("first event of a device must link to the genesis hash")
    before = chain.known.get(seq - 1)
    if before is not None and before[1] != event["prev"]:
        chain.forked = True
        raise Forked(f"hash chain does not link at sequence {seq}")


def _advance(event: dict[str, Any], chain: _Chain) -> None:
    seq = event["seq"]
    chain.known[seq] = (event["id"], event["hash"])
    if seq > chain.head_seq:
        if seq > chain.head_seq + 1:
            chain.gaps.append((chain.head_seq + 1, seq))
        chain.head_seq, chain.head_hash = seq, event["hash"]


def _apply(event: dict[str, Any], now: dt.datetime, tz: ZoneInfo) -> None:
    Event.insert(
        id=event["id"],
        device=event["device"],
        seq=event["seq"],
        type=event["type"],
        ts=event["ts"],
        hash=event["hash"],
        received_at=now,
        body=json.dumps(keep_data_key(event), ensure_ascii=False, sort_keys=True),
    ).execute()
    effect = EFFECTS.get(event["type"])
    if effect is not None:
        effect(event, tz)


def _apply_sale_completed(event: dict[str, Any], tz: ZoneInfo) -> None:
    try:
        sale, lines = booking.sale_rows(event, tz)
    except booking.BookingError as exc:
        raise Rejected(str(exc)) from exc
    sale = _unique_receipt(event, sale)
    try:
        with database.atomic():
            rows = booking.Rows()
            rows.add_sale(sale, lines, event["data"], tz)
            booking.write(database.obj, rows)
    except IntegrityError as exc:
        # the event id is new (checked under the device lock), so the sale itself collides
        raise Rejected(f"sale conflicts with a booked sale: {exc}") from exc
    if event["data"].get("member_id"):
        for hook in MEMBER_SALE_HOOKS:
            hook(event, tz)


def _unique_receipt(event: dict[str, Any], sale: tuple[Any, ...]) -> tuple[Any, ...]:
    """A receipt number already booked for another sale (a terminal restored from a backup counts
    again from the backup's number) is booked with a suffix and reported, never refused: the money
    was taken."""
    receipt = sale[4]
    if not Sale.select().where(Sale.receipt_no == receipt, Sale.id != sale[0]).exists():
        return sale
    booked_as = f"{receipt}#{event['id'][:8]}"
    now = dt.datetime.now(dt.UTC)
    Quarantine.create(
        topic=f"pos/{event['device']}/up/events", device=event["device"], event_id=event["id"],
        reason=f"receipt number {receipt} was already used by another sale",
        payload=json.dumps(event, ensure_ascii=False), received_at=now, resolved_at=now,
        resolution=f"booked as {booked_as}",
    )  # fmt: skip
    log.warning("device %s reused receipt number %s; booked as %s", event["device"], receipt, booked_as)
    return (*sale[:4], booked_as, *sale[5:])


def _apply_sale_refunded(event: dict[str, Any], tz: ZoneInfo) -> None:
    """Book a refund against its sale (never the bulk path: that takes plain sales only)."""
    try:
        refunds.book_refund(event, tz)
    except refunds.RefundRejected as exc:
        raise Rejected(str(exc)) from exc
    loyalty.on_sale_refunded(event, tz)


# Other modules' work on a booked member sale (loyalty: earn, redeem, ledger checks). Each runs
# inside the event's savepoint and may raise Rejected. Member sales therefore take the
# event-by-event path; sales without a member have no hook work and go the bulk way.
MEMBER_SALE_HOOKS: list[Effect] = [loyalty.on_sale_completed]

EFFECTS: dict[str, Effect] = {
    "sale.completed": _apply_sale_completed,
    "sale.refunded": _apply_sale_refunded,
    "staff.clock": staff_hours.on_staff_clock,
    "shift.closed": staff_shifts.on_shift_closed,
    "shift.x_report": staff_shifts.on_x_report,
    **loyalty.EFFECTS,
}


def _reject(
    topic: str,
    device: str,
    event: Any,
    reason: str,
    now: dt.datetime,
    result: IngestResult,
    replaying: bool = False,
    forked: bool = False,
) -> None:
    event_id = event.get("id") if isinstance(event, dict) else None
    event_id = event_id if isinstance(event_id, str) else None
    if not replaying:
        raw = json.dumps(keep_data_key(event), ensure_ascii=False, default=str).encode()
        _quarantine(topic, device, event_id, reason, raw, now)
        log.error("quarantined event %s from %s: %s", event_id, device, reason)
    if event_id:
        result.rejected.append({"id": event_id, "reason": reason, **({"fork": "1"} if forked else {})})


def _quarantine(
    topic: str,
    device: str | None,
    event_id: str | None,
    reason: str,
    payload: bytes,
    now: dt.datetime,
) -> None:
    Quarantine.create(
        topic=topic,
        device=device,
        event_id=event_id,
        reason=reason,
        payload=payload.decode("utf-8", errors="replace"),
        received_at=now,
    )
