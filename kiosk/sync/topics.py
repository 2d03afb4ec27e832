"""Per-device MQTT topic names (see docs/protocol.md)."""

EVENTS_WILDCARD = "pos/+/up/events"
STATUS_WILDCARD = "pos/+/status"


def events_topic(device: str) -> str:
    """Terminal -> hub: batches of outbox events."""
    return f"pos/{device}/up/events"


def ack_topic(device: str) -> str:
    """Hub -> terminal: the event ids the hub has committed."""
    return f"pos/{device}/down/ack"


def config_topic(device: str) -> str:
    """Hub -> terminal, retained: the versioned catalog, prices, rules and settings."""
    return f"pos/{device}/down/config"


def members_topic(device: str) -> str:
    """Hub -> terminal: member deltas for offline lookup."""
    return f"pos/{device}/down/members"


def staff_topic(device: str) -> str:
    """Hub -> terminal, retained: the staff roster of the terminal's store (PIN hashes, roles)."""
    return f"pos/{device}/down/staff"


def together_topic(device: str) -> str:
    """Hub -> terminal, retained: the "often bought together" table the cart suggests from."""
    return f"pos/{device}/down/together"


def update_topic(device: str) -> str:
    """Hub -> terminal, retained: the software version the terminal should run (docs/appliance.md)."""
    return f"pos/{device}/down/update"


def status_topic(device: str) -> str:
    """Retained presence and health of a terminal."""
    return f"pos/{device}/status"


def device_of(topic: str) -> str:
    """The device id in a ``pos/{device}/...`` topic."""
    parts = topic.split("/")
    if len(parts) < 3 or parts[0] != "pos" or not parts[1]:
        raise ValueError(f"not a device topic: {topic!r}")
    return parts[1]
