"""The MQTT message schemas (version 1), shared by the kiosk and the hub.

See docs/protocol.md for the full description. Everything here is pure: it
builds, hashes and checks messages but never sends them.
"""

import hashlib
import json
from typing import Any

try:  # the hub installs orjson (pip install .[hub]); the terminal does fine without it
    import orjson
except ImportError:  # pragma: no cover - exercised on terminals without the hub extra
    orjson = None  # type: ignore[assignment]

SCHEMA_VERSION = 1
GENESIS = "0" * 64  # the ``prev`` of a device's first event

EVENT_TYPES = frozenset(
    {
        "sale.completed",
        "sale.refunded",
        "sale.voided",
        "cart.abandoned",
        "member.registered",
        "member.updated",
        "member.erasure_requested",
        "card.linked",
        "ledger.adjusted",
        "staff.clock",
        "shift.closed",
        "shift.x_report",
        "audit.action",
        "receipt.failed",
        "app.update",
    }
)


class SchemaError(ValueError):
    """A message does not follow the protocol; the text says which part and why."""


def canonical(obj: Any) -> bytes:
    """The one byte form of ``obj`` that hashes are computed over."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(event: dict[str, Any]) -> str:
    """sha256 over the previous hash and the event's content (everything but ``hash``)."""
    content = {k: v for k, v in event.items() if k != "hash"}
    return hashlib.sha256(event["prev"].encode() + canonical(content)).hexdigest()


def hash_matches(event: dict[str, Any]) -> bool:
    """True when ``event["hash"]`` is :func:`event_hash` of the event.

    With orjson the canonical bytes are built in C first: for the JSON a terminal writes
    (strings, integers, lists, objects) they are byte for byte those of :func:`canonical`.
    Only when that hash differs is the reference encoder asked, so a value the two
    encoders write differently (a float) costs time, never a wrongly rejected event.
    """
    if orjson is not None:
        content = {k: v for k, v in event.items() if k != "hash"}
        try:
            fast = orjson.dumps(content, option=orjson.OPT_SORT_KEYS)
        except TypeError:  # an integer beyond 64 bits
            fast = b""
        if fast and hashlib.sha256(event["prev"].encode() + fast).hexdigest() == event["hash"]:
            return True
    return event_hash(event) == event["hash"]


def loads(payload: bytes | str) -> Any:
    """Parse JSON: orjson when installed, the standard parser for what orjson refuses (integers
    beyond 64 bits, lone surrogates), so both give the same answer. Raises ValueError."""
    if orjson is not None:
        try:
            return orjson.loads(payload)
        except orjson.JSONDecodeError:
            pass
    return json.loads(payload)


def dumps_sorted(obj: Any) -> str:
    """Compact JSON text with sorted keys, for storage (not for hashing: use :func:`canonical`)."""
    if orjson is not None:
        try:
            return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS).decode()
        except TypeError:
            pass
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def make_event(
    *,
    event_id: str,
    device: str,
    seq: int,
    boot: str,
    ts: str,
    type: str,
    prev: str,
    data: dict[str, Any],
) -> dict[str, Any]:
    """Build one event with its hash, linked to ``prev``."""
    event = {
        "id": event_id,
        "device": device,
        "seq": seq,
        "boot": boot,
        "ts": ts,
        "type": type,
        "prev": prev,
        "data": data,
    }
    event["hash"] = event_hash(event)
    return event


def batch(device: str, events: list[dict[str, Any]], sent_at: str | None = None) -> bytes:
    """The uplink message for ``events`` on ``pos/{device}/up/events``.

    ``sent_at`` is the terminal's clock when it published; the hub compares it
    with its own to report clock skew (it never changes how a sale is booked).
    """
    message: dict[str, Any] = {"v": SCHEMA_VERSION, "device": device, "events": events}
    if sent_at is not None:
        message["sent_at"] = sent_at
    return canonical(message)


def batch_of_bodies(device: str, bodies: list[str], sent_at: str) -> bytes:
    """The same message as :func:`batch`, from events already serialised (the outbox's bodies).

    The agent publishes stored bodies as they are instead of decoding and encoding each one
    again; the hub verifies hashes over its own canonical form, so spacing does not matter.
    """
    head = json.dumps(device, ensure_ascii=False)
    tail = json.dumps(sent_at, ensure_ascii=False)
    events = ",".join(bodies)
    return f'{{"device":{head},"events":[{events}],"sent_at":{tail},"v":{SCHEMA_VERSION}}}'.encode()


def batch_sent_at(payload: bytes) -> str | None:
    """The ``sent_at`` of an uplink message, or None when absent or unreadable."""
    try:
        value = json.loads(payload).get("sent_at")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def ack(
    ids: list[str], rejected: list[dict[str, Any]] | None = None, resend: list[tuple[int, int]] | None = None
) -> bytes:
    """The downlink ack on ``pos/{device}/down/ack``; ``resend``: (first, last) sequence numbers the
    hub lacks, asked again (only present when there are some, so older terminals read it unchanged)."""
    message: dict[str, Any] = {"v": SCHEMA_VERSION, "ids": ids, "rejected": rejected or []}
    if resend:
        message["resend"] = [[first, last] for first, last in resend]
    return canonical(message)


_EVENT_FIELDS = {
    "id": str,
    "device": str,
    "seq": int,
    "boot": str,
    "ts": str,
    "type": str,
    "prev": str,
    "hash": str,
    "data": dict,
}


def parse_batch(payload: bytes, topic_device: str) -> list[Any]:
    """Decode an uplink batch; raise SchemaError if the envelope itself is unusable.

    Returns the raw event list; each event is checked on its own by
    :func:`check_event`, so one bad event does not sink its neighbours.
    """
    return parse_uplink(payload, topic_device)[0]


def parse_uplink(payload: bytes, topic_device: str) -> tuple[list[Any], str | None]:
    """Like :func:`parse_batch`, with the batch's ``sent_at`` (None when absent): one JSON parse."""
    try:
        message = loads(payload)
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise SchemaError(f"not JSON: {exc}") from exc
    if not isinstance(message, dict):
        raise SchemaError("the batch is not a JSON object")
    if message.get("v") != SCHEMA_VERSION:
        raise SchemaError(f"unknown schema version {message.get('v')!r}")
    if message.get("device") != topic_device:
        raise SchemaError(
            f"batch device {message.get('device')!r} differs from topic device {topic_device!r}"
        )
    events = message.get("events")
    if not isinstance(events, list):
        raise SchemaError("'events' is missing or not a list")
    if not events:
        # docs/protocol.md: a batch holds 1..batch_size events; an empty one is a broken sender
        raise SchemaError("'events' is empty: a batch holds at least one event")
    sent_at = message.get("sent_at")
    return events, sent_at if isinstance(sent_at, str) else None


# The data fields the hub needs to book an event; types without an entry carry free-form data
# that the module owning them documents in docs/protocol.md.
DATA_FIELDS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "app.update": {"version": str, "from_version": str, "outcome": str, "reason": str},
    "sale.completed": {
        "sale_id": str,
        "receipt_no": str,
        "store": str,
        "total_fen": int,
        "currency": str,
        "lines": list,
        "payments": list,
    },
    "member.erasure_requested": {"member_id": str, "requested_at": str},
    "shift.closed": {
        "store": str,
        "shift_id": str,
        "attendant": str,
        "closed_at": str,
        "figures": dict,
        "counted_cash_fen": int,
        "over_short_fen": int,
    },
    "shift.x_report": {
        "store": str,
        "report_id": str,
        "attendant": str,
        "printed_at": str,
        "figures": dict,
    },
    "sale.refunded": {
        "refund_id": str,
        "sale_id": str,
        "store": str,
        "amount_fen": int,
        "lines": list,
        "payments": list,
        "reason": str,
        "attendant": str,
        "ledger": list,
    },
}

# Fields an event may leave out (older terminals do); when present they must have this type.
OPTIONAL_DATA_FIELDS: dict[str, dict[str, type]] = {
    # the loyalty rules version that priced a member sale; the receipt's member section (masked phone);
    # the member (null for a guest): a list here reached the database as a row value (found by fuzzing)
    "sale.completed": {"rules_version": int, "receipt": dict, "member_id": str},
}


def _wrong_type(value: Any, kind: type | tuple[type, ...]) -> bool:
    return not isinstance(value, kind) or (kind is int and isinstance(value, bool))


def check_event(event: Any, topic_device: str) -> str | None:
    """Return why ``event`` cannot be applied, or None when it is well formed."""
    if not isinstance(event, dict):
        return "event is not a JSON object"
    for name, kind in _EVENT_FIELDS.items():
        if _wrong_type(event.get(name), kind):
            return f"field {name!r} is missing or not a {kind.__name__}"
    if event["seq"] < 1:
        return f"sequence number {event['seq']} is not positive"
    if event["device"] != topic_device:
        return f"event device {event['device']!r} differs from topic device {topic_device!r}"
    if event["type"] not in EVENT_TYPES:
        return f"unknown event type {event['type']!r}"
    if not hash_matches(event):
        return "hash does not match the event's content"
    for data_name, data_kind in DATA_FIELDS.get(event["type"], {}).items():
        if _wrong_type(event["data"].get(data_name), data_kind):
            return f"{event['type']} data field {data_name!r} is missing or has the wrong type"
    for data_name, data_kind in OPTIONAL_DATA_FIELDS.get(event["type"], {}).items():
        value = event["data"].get(data_name)
        if value is not None and _wrong_type(value, data_kind):
            return f"{event['type']} data field {data_name!r} has the wrong type"
    return None


def parse_ack(payload: bytes) -> dict[str, Any]:
    """Decode a downlink ack; raise SchemaError when it is not a version-1 ack."""
    try:
        message = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SchemaError(f"ack is not JSON: {exc}") from exc
    if not isinstance(message, dict) or message.get("v") != SCHEMA_VERSION:
        raise SchemaError("not a version-1 ack")
    ids = message.get("ids")
    rejected = message.get("rejected", [])
    if not isinstance(ids, list) or not isinstance(rejected, list):
        raise SchemaError("ack 'ids' or 'rejected' is not a list")
    return {
        "ids": [i for i in ids if isinstance(i, str)],
        "rejected": [
            {"id": r["id"], "reason": str(r.get("reason", "")), **_rebase_of(r)}
            for r in rejected
            if isinstance(r, dict) and isinstance(r.get("id"), str)
        ],
        "resend": _ranges(message.get("resend")),
    }


def _ranges(value: Any) -> list[tuple[int, int]]:
    """The well-formed (first, last) pairs of an ack's ``resend``; anything else is ignored."""
    if not isinstance(value, list):
        return []
    return [
        (pair[0], pair[1])
        for pair in value
        if isinstance(pair, list)
        and len(pair) == 2
        and all(type(n) is int and n > 0 for n in pair)
        and pair[0] <= pair[1]
    ]


def _rebase_of(rejection: dict[str, Any]) -> dict[str, Any]:
    head = rejection.get("rebase")
    if isinstance(head, dict) and isinstance(head.get("seq"), int) and isinstance(head.get("hash"), str):
        return {"rebase": {"seq": head["seq"], "hash": head["hash"]}}
    return {}
