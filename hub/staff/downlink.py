"""The staff roster to the terminals: one retained message per terminal on ``pos/{d}/down/staff``.

Each terminal gets only its own store's staff (the device registry says which store
a terminal is in), with the roster version and the permission matrix; it applies a
newer version only (:func:`kiosk.store.staff.apply_roster`). Retained, so a terminal
that was off gets the latest roster when it reconnects.
"""

import logging
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from hub.catalog.releases import publish_retained
from hub.fleet.devices import DeviceRecord, DeviceRegistry
from hub.staff.accounts import roster_for
from kiosk.sync.schema import canonical
from kiosk.sync.topics import staff_topic

log = logging.getLogger(__name__)

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
    only: str | None = None,
) -> RosterPublisher:
    """Publish every registered terminal's roster (or only terminal ``only``'s), retained, through the
    broker at ``host:port``."""

    def publish() -> int:
        devices = [d for d in DeviceRegistry(data_dir).all() if only is None or d.id == only]
        messages = roster_messages(devices)
        if messages:
            publish_retained(
                messages, host, port, username, password, ca_file, client_id="hub-staff-publisher"
            )
        return len(messages)

    return publish


def publish_until_sent(publish: RosterPublisher, stop: threading.Event, retry_s: float = 30.0) -> int | None:
    """``hub serve`` at start: send the rosters, retrying every ``retry_s`` while the broker is away.

    Returns how many terminals got one, or None when ``stop`` was set first. Run on a thread.
    """
    while not stop.is_set():
        try:
            count = publish()
        except (ConnectionError, OSError) as exc:
            log.warning("staff rosters not sent yet, retrying in %.0f s / 员工名单暂未发送: %s", retry_s, exc)
            stop.wait(retry_s)
            continue
        log.info("staff rosters sent to %d terminals / 员工名单已发送", count)
        return count
    return None


def start_publishing(publish: RosterPublisher, stop: threading.Event, retry_s: float = 30.0) -> None:
    """Run :func:`publish_until_sent` on a daemon thread; setting ``stop`` ends its retries."""
    threading.Thread(
        target=publish_until_sent, args=(publish, stop, retry_s), daemon=True, name="staff-rosters"
    ).start()
