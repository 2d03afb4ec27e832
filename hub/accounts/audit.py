"""The owner's audit trail on the hub: campaigns created and run, items resolved, attributes changed."""

import datetime as dt
import json
from typing import Any

from hub.members.models import OwnerAudit


def record(by: str, action: str, subject: str, now: dt.datetime, **detail: Any) -> None:
    """Append one audit row; call it inside the transaction of the change it describes."""
    OwnerAudit.create(
        at=now,
        by=by,
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
