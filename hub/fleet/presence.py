"""The fleet: every terminal's presence, health, clock skew and how long since it last synced.

Terminals publish a retained status on ``pos/{d}/status`` (see docs/protocol.md);
every hub worker stores it here. Ingest records the clock skew of each batch.
"""

import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any

from peewee import BigIntegerField, CharField, DateTimeField, FloatField, IntegerField

from hub.db import database
from hub.ingest.models import BaseModel, DeviceHead, Event, Gap
from hub.members import feed as member_feed
from kiosk.sync.topics import device_of

log = logging.getLogger(__name__)

STALE_AFTER = dt.timedelta(minutes=15)  # a kiosk silent this long is flagged
SKEW_WARNING_S = 120.0  # a terminal clock further off than this is flagged


class DeviceStatus(BaseModel):
    """The latest retained status of a terminal, and its measured clock skew."""

    device = CharField(primary_key=True)
    state = CharField(default="unknown")
    app_version = CharField(default="")
    config_version = IntegerField(default=0)
    outbox_depth = IntegerField(default=0)
    oldest_unsent_s = FloatField(default=0)
    disk_free_bytes = BigIntegerField(default=0)
    uptime_s = FloatField(default=0)
    printer = CharField(default="unknown")
    reported_at = DateTimeField(null=True)  # hub clock when the status arrived
    clock_skew_s = FloatField(null=True)  # hub clock minus terminal clock at send time
    skew_at = DateTimeField(null=True)
    fork_seq = BigIntegerField(null=True)  # set while the terminal re-chains after a fork (a restore)
    key_id = CharField(default="")  # the business key the terminal writes with (hub keys status)
    resend_asked = CharField(default="")  # the ranges the hub last asked it to send again: "5-9,12-12"
    resend_at = DateTimeField(null=True)  # hub clock when it asked


MODELS = [DeviceStatus]

_STATUS_FIELDS = {
    "state": str,
    "app_version": str,
    "config_version": int,
    "outbox_depth": int,
    "oldest_unsent_s": (int, float),
    "disk_free_bytes": int,
    "uptime_s": (int, float),
    "printer": str,
    "key_id": str,
}


def record_status(topic: str, payload: bytes, now: dt.datetime) -> bool:
    """Store a retained status message; return False (and log) when it is unusable."""
    try:
        device = device_of(topic)
        status = json.loads(payload) if payload else None
    except ValueError as exc:
        log.error("ignored status on %s: %s", topic, exc)
        return False
    if not isinstance(status, dict) or status.get("device") != device:
        log.error("ignored status on %s: not a status of this device", topic)
        return False
    values: dict[str, Any] = {
        name: status[name]
        for name, kind in _STATUS_FIELDS.items()
        if isinstance(status.get(name), kind) and not isinstance(status.get(name), bool)
    }
    values["reported_at"] = now
    with database.atomic():
        DeviceStatus.insert(device=device, **values).on_conflict(
            conflict_target=[DeviceStatus.device], update=values
        ).execute()
        member_version = status.get("member_version")
        if isinstance(member_version, int) and not isinstance(member_version, bool):
            member_feed.record_reported(device, member_version, now)
    return True


def skew_seconds(sent_at: str | None, now: dt.datetime) -> float | None:
    """How far the terminal's clock (``sent_at``) is from the hub's; None when unknown or unreadable."""
    if sent_at is None:
        return None
    try:
        terminal = dt.datetime.fromisoformat(sent_at)
    except ValueError:
        return None
    if terminal.tzinfo is None:
        return None
    return round((now - terminal).total_seconds(), 3)


def record_skew(device: str, sent_at: str | None, now: dt.datetime) -> None:
    """Store how far the terminal's clock is from the hub's (positive: terminal behind)."""
    skew = skew_seconds(sent_at, now)
    if skew is None:
        return
    values = {"clock_skew_s": skew, "skew_at": now}
    DeviceStatus.insert(device=device, **values).on_conflict(
        conflict_target=[DeviceStatus.device], update=values
    ).execute()


def is_forked(device: str) -> bool:
    """True while ``device`` has sent events that fork from the hub's chain and has not re-chained."""
    row = DeviceStatus.get_or_none(DeviceStatus.device == device)
    return row is not None and row.fork_seq is not None


def record_fork(device: str, waiting_for: int | None) -> None:
    """Remember (or clear, with None) that ``device`` must re-chain from sequence ``waiting_for``."""
    if waiting_for is None and not is_forked(device):
        return
    if waiting_for is not None:
        log.warning(
            "device %s forks from the hub's chain; waiting for it to re-chain at %d", device, waiting_for
        )
    DeviceStatus.insert(device=device, fork_seq=waiting_for).on_conflict(
        conflict_target=[DeviceStatus.device], update={DeviceStatus.fork_seq: waiting_for}
    ).execute()


def record_resend(device: str, ranges: list[tuple[int, int]], now: dt.datetime) -> None:
    """Remember that the hub's ack asked ``device`` to send ``ranges`` (first, last) again."""
    values = {"resend_asked": ",".join(f"{a}-{b}" for a, b in ranges), "resend_at": now}
    log.warning("asked device %s to resend %s", device, values["resend_asked"])
    DeviceStatus.insert(device=device, **values).on_conflict(
        conflict_target=[DeviceStatus.device], update=values
    ).execute()


def resend_text(asked: str) -> str:
    """``5-9,12-12`` as the fleet page shows it: ``#5–#9, #12``."""
    parts = []
    for item in asked.split(","):
        first, _, last = item.partition("-")
        parts.append(f"#{first}" if first == last else f"#{first}–#{last}")
    return ", ".join(parts)


@dataclass(frozen=True)
class FleetRow:
    """One terminal on the fleet page."""

    device: str
    state: str
    last_synced: dt.datetime | None
    last_seq: int
    app_version: str
    config_version: int
    outbox_depth: int
    oldest_unsent_s: float
    disk_free_bytes: int
    uptime_s: float
    printer: str
    clock_skew_s: float | None
    open_gaps: int
    stale: bool
    skewed: bool
    forked: bool = False  # restored from an old backup and not yet re-chained
    member_version: int | None = None  # the member copy's version the terminal reported
    resend_asked: str = ""  # the ranges the hub last asked it to send again (after a restore), as shown
    resend_at: dt.datetime | None = None


def as_utc(value: dt.datetime | str | None) -> dt.datetime | None:
    """A stored timestamp as an aware datetime (SQLite may return text, PostgreSQL naive UTC)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def fleet(now: dt.datetime, stale_after: dt.timedelta = STALE_AFTER) -> list[FleetRow]:
    """Every known terminal, flagged when it has not synced for ``stale_after`` or its clock is off."""
    heads = {h.device: h for h in DeviceHead.select()}
    statuses = {s.device: s for s in DeviceStatus.select()}
    gaps = open_gaps()
    member_versions = member_feed.reported_versions()
    rows = []
    for device in sorted(heads.keys() | statuses.keys()):
        head, status = heads.get(device), statuses.get(device) or DeviceStatus(device=device)
        synced = as_utc(head.last_seen) if head else None
        skew = status.clock_skew_s
        rows.append(
            FleetRow(
                device=device,
                state=status.state,
                last_synced=synced,
                last_seq=head.seq if head else 0,
                app_version=status.app_version,
                config_version=status.config_version,
                outbox_depth=status.outbox_depth,
                oldest_unsent_s=status.oldest_unsent_s,
                disk_free_bytes=status.disk_free_bytes,
                uptime_s=status.uptime_s,
                printer=status.printer,
                clock_skew_s=skew,
                open_gaps=sum(len(g.missing) for g in gaps if g.device == device),
                stale=synced is None or now - synced > stale_after or status.oldest_unsent_s > 900,
                skewed=skew is not None and abs(skew) > SKEW_WARNING_S,
                forked=status.fork_seq is not None,
                member_version=member_versions.get(device),
                resend_asked=resend_text(status.resend_asked) if status.resend_asked else "",
                resend_at=as_utc(status.resend_at),
            )
        )
    return rows


@dataclass(frozen=True)
class GapReport:
    """A reported gap and which of its sequence numbers are still missing."""

    id: int
    device: str
    expected: int
    got: int
    found_at: dt.datetime | None
    missing: list[int]


def open_gaps(limit_per_gap: int = 1000) -> list[GapReport]:
    """Every reported gap with the sequence numbers that have not arrived since."""

    reports = []
    for gap in Gap.select().order_by(Gap.found_at, Gap.id):
        wanted = range(gap.expected, min(gap.got, gap.expected + limit_per_gap))
        arrived = {
            e.seq
            for e in Event.select(Event.seq).where(
                Event.device == gap.device, Event.seq >= gap.expected, Event.seq < gap.got
            )
        }
        missing = [seq for seq in wanted if seq not in arrived]
        reports.append(GapReport(gap.id, gap.device, gap.expected, gap.got, as_utc(gap.found_at), missing))
    return reports
