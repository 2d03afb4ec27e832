"""The staff roster to the terminals: one retained message per terminal on ``pos/{d}/down/staff``.

Each terminal gets only its own store's staff (the device registry says which store
a terminal is in), with the roster version and the permission matrix; it applies a
newer version only (:func:`kiosk.store.staff.apply_roster`). Retained, so a terminal
that was off gets the latest roster when it reconnects.
"""

from collections.abc import Callable, Iterable
from pathlib import Path

from hub.catalog.releases import publish_retained
from hub.fleet.devices import DeviceRecord, DeviceRegistry
from hub.staff.accounts import roster_for
from kiosk.sync.schema import canonical
from kiosk.sync.topics import staff_topic

#: send the rosters now; returns how many terminals got one (hub serve gives the dashboard one)
RosterPublisher = Callable[[], int]


def roster_messages(devices: Iterable[DeviceRecord]) -> dict[str, bytes]:
    """Topic → payload for every active terminal: its store's roster."""
    by_store: dict[str, bytes] = {}
    messages = {}
    for device in devices:
        if not device.active:
            continue
        if device.store not in by_store:
            by_store[device.store] = canonical(roster_for(device.store))
        messages[staff_topic(device.id)] = by_store[device.store]
    return messages


def roster_publisher(
    data_dir: Path,
    host: str,
    port: int,
    username: str | None = None,
    password: str | None = None,
    ca_file: str | None = None,
) -> RosterPublisher:
    """Publish every registered terminal's roster, retained, through the broker at ``host:port``."""

    def publish() -> int:
        messages = roster_messages(DeviceRegistry(data_dir).all())
        if messages:
            publish_retained(
                messages, host, port, username, password, ca_file, client_id="hub-staff-publisher"
            )
        return len(messages)

    return publish
