"""Correcting a member's details for them at the terminal: name, birthday, marketing answer.

A staff member whose role allows ``member`` makes the change for the customer at the
counter. The new name and birthday are stored encrypted exactly like at registration (under the
member's own data key when they have one),
and one transaction holds the change, its ``member.updated`` event (the encrypted
fields, the marketing answer, who and where) and the ``audit.action`` (``member_edit``),
so the hub learns the change, and the owner who made it, with nothing lost in between.
"""

import datetime as dt
from typing import Any

from kiosk.domain.loyalty.member_details import DetailsChange, check_birthday, check_name
from kiosk.domain.loyalty.registration import MARKETING_VERSION
from kiosk.store import audit
from kiosk.store.connection import database
from kiosk.store.member_models import Member
from kiosk.store.members.ledger import timestamp
from kiosk.store.outbox import record_event
from kiosk.store.pii import PiiKey
from kiosk.store.sales import Terminal


def change_details(
    key: PiiKey, terminal: Terminal, now: dt.datetime, member_id: str, change: DetailsChange, staff_id: str
) -> str:
    """Store ``change`` for the member and send it in ``member.updated``; return the event id.

    Raises :class:`kiosk.domain.loyalty.member_details.InvalidDetails` (nothing stored) for a name
    or birthday that breaks the rules, and :class:`LookupError` for a member this terminal does
    not hold; a change that touches nothing writes nothing and returns ``""``.
    """
    row: dict[str, Any] = {}
    held = Member.get_or_none(Member.id == member_id)
    # under the member's own data key when they have one (erasing it shreds these too)
    key = key.with_data_keys({member_id: held.data_key}.get) if held is not None else key
    if change.name is not None:
        name = check_name(change.name)
        row["name_enc"] = key.encrypt_member(name, f"{member_id}:name") if name else ""
    if change.birthday is not None:
        born = check_birthday(change.birthday, now.date())
        row["birthday_enc"] = key.encrypt_member(born.isoformat(), f"{member_id}:birthday")
    if not row and change.marketing is None:
        return ""
    ts, where = timestamp(now), f"{terminal.store}/{terminal.device}"
    data: dict[str, Any] = {"member_id": member_id, **row, "changed_by": staff_id, "where": where}
    if change.marketing is not None:
        data["marketing_consent"] = {
            "granted": change.marketing,
            "version": MARKETING_VERSION,
            "at": ts,
            "where": where,
        }
    with database.atomic("IMMEDIATE"):
        if row and not Member.update(**row).where(Member.id == member_id).execute():
            raise LookupError(f"member {member_id} is not on this terminal / 本机没有这位会员")
        if not row and Member.get_or_none(Member.id == member_id) is None:
            raise LookupError(f"member {member_id} is not on this terminal / 本机没有这位会员")
        event_id = record_event(terminal, ts, "member.updated", data)
        detail = {"member_id": member_id, "fields": change.fields(), "event_id": event_id}
        audit.record_action(terminal, now, "member_edit", staff_id, detail)
    return event_id
