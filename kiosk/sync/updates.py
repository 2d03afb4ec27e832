"""The sync agent's half of software updates: keep the hub's offer, report the updater's outcomes.

The agent runs as the ``kiosk`` user and the updater as root, so they meet in
files (see :mod:`kiosk.updates.runner`): the agent writes the retained offer from
``pos/{d}/down/update`` to ``offer.json`` (which starts ``kiosk-update.path``),
and turns each outcome file the updater leaves into an ``app.update`` outbox
event, deleting the file only after the event is committed. A file left
behind by a crash between the two is recognised by its id and not counted twice.
"""

import json
import logging
from pathlib import Path

from kiosk.store.connection import database
from kiosk.store.models import Outbox
from kiosk.store.outbox import append_event
from kiosk.sync.schema import SchemaError
from kiosk.sync.update_offer import parse_offer
from kiosk.updates.runner import UpdatePaths, write_atomically

__all__ = ["OUTCOME_FIELDS", "report_outcomes", "store_offer", "update_paths"]

log = logging.getLogger(__name__)

OUTCOME_FIELDS = {"id", "version", "from_version", "outcome", "reason", "at"}


def update_paths() -> UpdatePaths:
    """The update directory beside the database (``/var/lib/kiosk/update`` on a terminal)."""
    return UpdatePaths(Path(database.database).parent / "update")


def store_offer(payload: bytes, paths: UpdatePaths) -> bool:
    """Keep a new offer (or its withdrawal, an empty payload); return True when the file changed."""
    if payload:
        try:
            parse_offer(payload)
        except SchemaError as exc:
            log.error("ignored an update offer: %s", exc)
            return False
    try:
        if paths.offer.read_bytes() == payload:
            return False
    except FileNotFoundError:
        if not payload:
            return False
    write_atomically(paths.offer, payload)
    return True


def report_outcomes(paths: UpdatePaths, device: str, boot: str) -> int:
    """Turn each outcome file into an ``app.update`` outbox event; return how many were added."""
    added = 0
    folder = paths.outcomes
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            outcome = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            log.error("unreadable update outcome %s: %s", path, exc)
            continue
        if not isinstance(outcome, dict) or set(outcome) != OUTCOME_FIELDS:
            log.error("update outcome %s has unexpected fields; left in place", path)
            continue
        data = {k: v for k, v in outcome.items() if k not in ("id", "at")}
        with database.atomic("IMMEDIATE"):
            if Outbox.get_or_none(Outbox.id == outcome["id"]) is None:
                append_event(
                    event_id=outcome["id"],
                    device=device,
                    boot=boot,
                    ts=outcome["at"],
                    type="app.update",
                    data=data,
                )
                added += 1
        try:
            path.unlink()
        except OSError as exc:  # reported already (its id is in the outbox); the heartbeat must go on
            log.error("could not remove the reported update outcome %s: %s", path, exc)
    return added
