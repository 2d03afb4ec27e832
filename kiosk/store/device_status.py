"""The condition of devices the app process owns (the printer), kept for the sync agent's heartbeat.

The kiosk app and the sync agent are separate processes: the app's print queue
owns the printer and writes its condition here when it changes; the agent reads
it for the retained status on ``pos/{d}/status`` (docs/protocol.md, "Status").
"""

import datetime as dt

from kiosk.store.connection import database
from kiosk.store.models import DeviceStatus

PRINTER = "printer"


def record(component: str, state: str, now: dt.datetime) -> bool:
    """Store ``component``'s condition; return True when it differs from the stored one."""
    with database.atomic("IMMEDIATE"):
        row = DeviceStatus.get_or_none(DeviceStatus.component == component)
        if row is not None and row.state == state:
            return False
        stamp = now.isoformat(timespec="seconds")
        DeviceStatus.insert(component=component, state=state, updated_at=stamp).on_conflict(
            conflict_target=[DeviceStatus.component],
            update={DeviceStatus.state: state, DeviceStatus.updated_at: stamp},
        ).execute()
    return True


def current(component: str) -> tuple[str, str] | None:
    """(state, updated_at) of ``component`` as last recorded, or None when never recorded."""
    row = DeviceStatus.get_or_none(DeviceStatus.component == component)
    return (row.state, row.updated_at) if row else None
