"""The terminal's presence and health report, published retained on ``pos/{d}/status``."""

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from peewee import fn

from kiosk import __version__
from kiosk.store import device_status
from kiosk.store.models import Outbox
from kiosk.sync.schema import SCHEMA_VERSION, canonical

PrinterStatus = Callable[[], str]


def unknown_printer() -> str:
    """Printer status when nothing on this process can see the printer."""
    return "unknown"


# The app's printer conditions (kiosk.hw.status.DeviceState values) as the heartbeat reports them.
PRINTER_REPORT = {
    "ready": "ok",
    "paper_near_end": "paper_low",
    "paper_out": "paper_out",
    "cover_open": "cover_open",
    "offline": "offline",
    "unreachable": "offline",
    "missing": "missing",
    "disconnected": "missing",
    "no_permission": "missing",
    "busy": "missing",
    "status_unknown": "unknown",
}


def stored_printer() -> str:
    """The printer condition the app (a separate process) last stored; ``unknown`` if none yet."""
    stored = device_status.current(device_status.PRINTER)
    return PRINTER_REPORT.get(stored[0], "unknown") if stored else "unknown"


def outbox_health(now: dt.datetime) -> tuple[int, float]:
    """Unsent events and the age in seconds of the oldest one (0 when none wait)."""
    query = (
        Outbox.select(fn.COUNT(Outbox.id).alias("n"), fn.MIN(Outbox.created_at).alias("oldest"))
        .where(Outbox.sent_at.is_null(), Outbox.rejected.is_null())
        .dicts()
    )
    row: dict[str, Any] = query.get()  # type: ignore[assignment]
    oldest = row["oldest"]
    if not oldest:
        return int(row["n"]), 0.0
    if isinstance(oldest, str):
        oldest = dt.datetime.fromisoformat(oldest)
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=dt.UTC)
    return int(row["n"]), max(0.0, round((now - oldest).total_seconds(), 1))


def online_status(
    device: str,
    *,
    now: dt.datetime,
    uptime_s: float,
    config_version: int,
    data_dir: Path,
    printer: PrinterStatus = unknown_printer,
    member_version: int = 0,
    key_id: str = "",
) -> bytes:
    """The retained ``online`` status with health figures (``key_id``: the business key the app
    writes with, "" before the app ran with one)."""
    depth, oldest = outbox_health(now)
    status: dict[str, Any] = {
        "v": SCHEMA_VERSION,
        "device": device,
        "state": "online",
        "ts": now.isoformat(timespec="seconds"),
        "app_version": __version__,
        "config_version": config_version,
        "member_version": member_version,
        "outbox_depth": depth,
        "oldest_unsent_s": oldest,
        "disk_free_bytes": shutil.disk_usage(data_dir).free,
        "uptime_s": round(uptime_s, 1),
        "printer": printer(),
    }
    if key_id:
        status["key_id"] = key_id
    return canonical(status)


def offline_status(device: str) -> bytes:
    """The retained ``offline`` status (also the last will)."""
    return canonical({"v": SCHEMA_VERSION, "device": device, "state": "offline"})
