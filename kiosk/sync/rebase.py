"""Re-chaining unsent events after the hub's head: a terminal restored from an old backup.

A restored terminal hands out sequence numbers the hub has already booked from
the same device. The hub rejects such events with its head (``rebase`` in the
ack, docs/protocol.md "Forks"); the agent then renumbers every unsent event
after that head, re-links and re-hashes them, and sends them again. Their ids
do not change, so an event the hub booked before can never be booked twice.
"""

import json
import logging

from kiosk.store.connection import database
from kiosk.store.models import ChainHead, Outbox
from kiosk.sync.schema import event_hash

log = logging.getLogger(__name__)


def rebase_unsent(head_seq: int, head_hash: str) -> int:
    """Renumber unsent events to follow the hub's ``head_seq``/``head_hash``; return how many moved."""
    with database.atomic("IMMEDIATE"):
        rows = list(
            Outbox.select().where(Outbox.sent_at.is_null(), Outbox.rejected.is_null()).order_by(Outbox.seq)
        )
        if not rows or (rows[0].seq == head_seq + 1 and rows[0].prev == head_hash):
            return 0  # already follows the hub's head (a second rejection of the same fork)
        # Move them out of the way first: ``seq`` is unique and old and new numbers overlap.
        Outbox.update(seq=Outbox.seq * -1).where(Outbox.id.in_([r.id for r in rows])).execute()
        seq, prev = head_seq, head_hash
        for row in rows:
            event = json.loads(row.body)
            seq += 1
            event.update(seq=seq, prev=prev)
            event["hash"] = event_hash(event)
            body = json.dumps(event, ensure_ascii=False, sort_keys=True)
            Outbox.update(seq=seq, prev=prev, hash=event["hash"], body=body).where(
                Outbox.id == row.id
            ).execute()
            prev = event["hash"]
        ChainHead.insert(id=1, seq=seq, hash=prev).on_conflict_replace().execute()
    log.warning(
        "re-chained %d unsent events after the hub's head %d (restored terminal?)", len(rows), head_seq
    )
    return len(rows)
