"""The owner's audit trail on the hub: campaigns created and run, items resolved, attributes changed."""

import datetime as dt
import json
from contextvars import ContextVar
from typing import Any

from hub.members.models import OwnerAudit

# the signed-in caller of the request being served (set by hub.web.auth): what the log records as
# ``by``, whatever name a form or a JSON body declares
ACTOR: ContextVar[str | None] = ContextVar("hub_actor", default=None)


def record(by: str, action: str, subject: str, now: dt.datetime, **detail: Any) -> None:
    """Append one audit row; call it inside the transaction of the change it describes.

    Within a signed-in request ``by`` is the caller (:data:`ACTOR`), not the name the caller gave.
    """
    OwnerAudit.create(
        at=now,
        by=ACTOR.get() or by,
        action=action,
        subject=subject,
        detail=json.dumps(detail, ensure_ascii=False, sort_keys=True),
    )


def trail(subject: str | None = None) -> list[dict[str, Any]]:
    """Audit rows, oldest first (of one subject when given), with ``detail`` decoded."""
    query = OwnerAudit.select().order_by(OwnerAudit.id)
    if subject is not None:
        query = query.where(OwnerAudit.subject == subject)
    return [{**row, "detail": json.loads(row["detail"])} for row in query.dicts()]
