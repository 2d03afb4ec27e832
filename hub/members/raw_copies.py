"""An erased member's personal data in the hub's raw copies: the ``event`` table's bodies and the
quarantine's payloads.

The hub keeps every event it booked as the terminal sent it (``event.body``), and a rejected one
in ``quarantine.payload``. A ``member.registered`` body holds the member's encrypted phone, name,
birthday and the phone's blind index, which the hub's own business key still opens; a
``card.linked`` body holds the card's number; a ``member.updated`` one the PIN hash. At erasure
these fields are blanked in every such copy (the same transaction as the member row), so no key
opens them any more. What stays: the event's id, type, device, sequence and hash (the chain still
links by hash, so a terminal's later events are checked as before), and every other field (a
welcome coupon, consent, the ledger), so the books still add up. The blanked body no longer
matches its stored hash; ``"erased": true`` in its data says why.

A ``member.registered`` from a terminal also carries the member's data key, wrapped under the
business key (``data_key``). It never reaches a raw copy: :func:`keep_data_key` moves it into the
key store (:mod:`hub.members.key_store`) and blanks it in the copy the hub stores, before the
event's own transaction commits, so neither the database nor its backups hold a data key.
"""

import copy
import json
import logging
from typing import Any

from hub.ingest.models import Event, Quarantine
from hub.members.settings import settings
from kiosk.store.pii import PiiError

log = logging.getLogger(__name__)

# the event types whose data can name a member and carry their personal data
MEMBER_EVENTS = ("member.registered", "member.updated", "card.linked")
PERSONAL = ("phone_enc", "name_enc", "birthday_enc", "gender", "pin_hash", "data_key")


def keep_data_key(event: Any) -> Any:
    """``event`` as the hub keeps it raw: a ``member.registered``'s ``data_key`` put into the key
    store (re-wrapped under the current business key) and blanked in the returned copy. Anything
    else, and every event on a hub without a key store, comes back as it is."""
    store = settings.key_store
    member = _registered_member(event)
    if store is None or member is None or not member.get("data_key"):
        return event
    member_id, wrapped = str(member.get("id", "")), str(member["data_key"])
    key = settings.key
    if key is not None:
        try:
            wrapped = key.rewrap_data_key(wrapped, member_id)
        except PiiError as exc:  # kept as sent: a key the hub gets later may still open it
            log.warning("member %s: %s", member_id, exc)
    store.put(member_id, wrapped)
    kept = copy.deepcopy(event)
    kept["data"]["member"]["data_key"] = ""
    return kept


def _registered_member(event: Any) -> dict[str, Any] | None:
    if not isinstance(event, dict) or event.get("type") != "member.registered":
        return None
    data = event.get("data")
    member = data.get("member") if isinstance(data, dict) else None
    return member if isinstance(member, dict) and isinstance(member.get("id"), str) else None


def scrub_member(member_ids: set[str]) -> int:
    """Blank the personal data of ``member_ids`` in every raw event and quarantined payload;
    return how many copies changed. Call inside the erasure's transaction."""
    changed = 0
    for member_id in member_ids:
        query = Event.select(Event.id, Event.body).where(
            Event.type.in_(MEMBER_EVENTS), Event.body.contains(member_id)
        )
        for event_id, body in query.tuples():
            scrubbed = _scrubbed(body, member_id)
            if scrubbed is not None:
                changed += Event.update(body=scrubbed).where(Event.id == event_id).execute()
        for entry_id, payload in (
            Quarantine.select(Quarantine.id, Quarantine.payload)
            .where(Quarantine.payload.contains(member_id))
            .tuples()
        ):
            scrubbed = _scrubbed_payload(payload, member_id)
            if scrubbed is not None:
                changed += Quarantine.update(payload=scrubbed).where(Quarantine.id == entry_id).execute()
    return changed


def _scrubbed(body: str, member_id: str) -> str | None:
    """``body`` (one event's JSON) with the member's personal data blanked, or None if not theirs."""
    try:
        event = json.loads(body)
    except ValueError:
        return None
    if not isinstance(event, dict) or not _blank(event, member_id):
        return None
    return json.dumps(event, ensure_ascii=False, sort_keys=True)


def _scrubbed_payload(payload: str, member_id: str) -> str | None:
    """A quarantined message (a batch or one event) with the member's personal data blanked."""
    try:
        message = json.loads(payload)
    except ValueError:
        return None
    events = message.get("events") if isinstance(message, dict) and "events" in message else [message]
    if not isinstance(events, list):
        return None
    hit = [_blank(event, member_id) for event in events if isinstance(event, dict)]
    return json.dumps(message, ensure_ascii=False, sort_keys=True) if any(hit) else None


def _blank(event: dict[str, Any], member_id: str) -> bool:
    """Blank ``member_id``'s personal fields in ``event`` in place; True if it was about them."""
    data = event.get("data")
    if not isinstance(data, dict):
        return False
    member = data.get("member")
    if (
        event.get("type") == "member.registered"
        and isinstance(member, dict)
        and member.get("id") == member_id
    ):
        member.update({field: "" for field in PERSONAL if field in member})
        if "phone_index" in member:
            member["phone_index"] = f"erased:{member_id}"
    elif event.get("type") == "card.linked" and data.get("member_id") == member_id:
        data["uid"] = ""
    elif event.get("type") == "member.updated" and data.get("member_id") == member_id:
        data.update({field: "" for field in PERSONAL if field in data})
    else:
        return False
    data["erased"] = True
    return True
