"""Details staff corrected for a member at a terminal (``member.updated``), checked and applied.

The terminal sends the new name and birthday encrypted (under the member's data key, or its
business key), bound to the member id it knows. The hub opens them with its keys, checks them with
the terminal's own rules (:mod:`kiosk.domain.loyalty.member_details`), and stores them under that
member's data key (the current business key for a member from before data keys) bound to the
member the id resolves to (a merged member's change lands on the survivor). A change the hub
cannot accept raises :class:`hub.errors.Rejected`: the event is quarantined with that reason and
the member stays as they were. Each applied change is a row in the owner's audit chain, shown on
the member's page.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from hub.accounts import audit as owner_audit
from hub.errors import Rejected
from hub.members.feed import touch
from hub.members.models import HubMember
from hub.members.settings import settings
from hub.messaging import queue as messages
from hub.staff.accounts import StaffAccount
from kiosk.domain.loyalty.member_details import InvalidDetails, check_birthday, check_name
from kiosk.store.pii import PiiError, PiiKey
from kiosk.translations import N_

ACTION = "member.details_changed"  # the owner's audit action, read back by the member page
DETAIL_FIELDS = ("name_enc", "birthday_enc", "marketing_consent")
_FIELD_NAMES = {"name_enc": "name", "birthday_enc": "birthday", "marketing_consent": "marketing"}
# what the member page calls each field (the template builds the key from the field's name)
FIELD_KEYS = (N_("details_field_name"), N_("details_field_birthday"), N_("details_field_marketing"))


@dataclass(frozen=True)
class Checked:
    """A change ready to store: the member's new encrypted columns and the marketing answer."""

    columns: dict[str, str]
    marketing: dict[str, Any] | None
    fields: list[str]


def carries_details(data: dict[str, Any]) -> bool:
    """Whether a ``member.updated`` holds details staff changed (not only a PIN hash)."""
    return any(field in data for field in DETAIL_FIELDS)


def check(data: dict[str, Any], member_id: str, day: dt.date) -> Checked:
    """The change in ``data`` (sent for ``data["member_id"]``) ready to store for ``member_id``;
    :class:`Rejected` with the reason when a field cannot be opened or breaks the rules."""
    sent_for, key = str(data["member_id"]), settings.key
    columns = {
        column: _reseal(key, str(data[column]), sent_for, member_id, column, day)
        for column in ("name_enc", "birthday_enc")
        if column in data
    }
    marketing = data.get("marketing_consent")
    if marketing is not None and not (
        isinstance(marketing, dict) and isinstance(marketing.get("granted"), bool)
    ):
        raise Rejected(f"member.updated: the marketing answer {marketing!r} is not yes or no")
    return Checked(columns, marketing, [_FIELD_NAMES[f] for f in DETAIL_FIELDS if f in data])


def _reseal(key: PiiKey | None, token: str, sent_for: str, member_id: str, column: str, day: dt.date) -> str:
    """One encrypted field checked and moved to ``member_id`` and their data key (or the current key)."""
    if not token or key is None:  # removed, or a hub without a key: kept as sent, like a registration
        return token
    field = column.removesuffix("_enc")
    try:
        text = key.decrypt(token, f"{sent_for}:{field}")
    except PiiError as exc:
        raise Rejected(f"member.updated: the {field} cannot be opened with the hub's keys ({exc})") from exc
    try:
        if field == "name":
            text = check_name(text)
        else:
            text = check_birthday(dt.date.fromisoformat(text), day).isoformat()
    except (InvalidDetails, ValueError) as exc:
        raise Rejected(f"member.updated: {exc}") from exc
    return key.encrypt_member(text, f"{member_id}:{field}")  # the member's data key when they have one


def apply(event: dict[str, Any], member_id: str) -> None:
    """Store the checked change for ``member_id``: columns, marketing answer, an audit row, and
    ``touch`` (every terminal gets the member again). An erased member stays erased."""
    data = event["data"]
    member = HubMember.get_or_none(HubMember.id == member_id)
    if member is None:
        raise Rejected(f"member.updated: member {data['member_id']} is not known at the hub")
    if member.erased_at is not None:  # sent before the terminal learnt of the erasure
        return
    at = dt.datetime.fromisoformat(event["ts"])
    checked = check(data, member_id, at.date())
    where, staff_id = str(data.get("where") or event["device"]), str(data.get("changed_by", ""))
    by = f"staff:{staff_id}@{where}"
    if checked.columns:
        HubMember.update(**checked.columns).where(HubMember.id == member_id).execute()
    if checked.marketing is not None:
        answer = checked.marketing
        when = dt.datetime.fromisoformat(str(answer.get("at") or event["ts"]))
        messages.set_consent(member_id, answer["granted"], str(answer.get("version", "")), where, by, when)
    detail = {"fields": checked.fields, "where": where, "staff": staff_id, "event": event["id"]}
    owner_audit.record(by, ACTION, f"member:{member_id}", at, **detail)
    touch(member_id)


def changes(member_id: str) -> list[dict[str, Any]]:
    """The member's details changes made at terminals, newest first: when, where, who (the staff
    member's name when the hub knows them, else their id) and which fields."""
    rows = [row for row in owner_audit.trail(f"member:{member_id}") if row["action"] == ACTION]
    ids = {row["detail"].get("staff", "") for row in rows}
    names = {a.id: a.name for a in StaffAccount.select().where(StaffAccount.id.in_(list(ids)))} if ids else {}
    return [
        {
            "at": row["at"],
            "where": row["detail"].get("where", ""),
            "staff": names.get(row["detail"].get("staff", ""), row["detail"].get("staff", "")),
            "fields": row["detail"].get("fields", []),
        }
        for row in reversed(rows)
    ]
