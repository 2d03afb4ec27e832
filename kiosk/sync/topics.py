"""Per-device MQTT topic names."""

EVENTS_WILDCARD = "pos/+/up/events"


def events_topic(device: str) -> str:
    """Terminal -> hub: batches of outbox events."""
    return f"pos/{device}/up/events"


def ack_topic(device: str) -> str:
    """Hub -> terminal: the event ids the hub has committed."""
    return f"pos/{device}/down/ack"


def status_topic(device: str) -> str:
    """Retained presence of a terminal."""
    return f"pos/{device}/status"


def device_of(topic: str) -> str:
    """The device id in a ``pos/{device}/...`` topic."""
    parts = topic.split("/")
    if len(parts) < 3 or parts[0] != "pos" or not parts[1]:
        raise ValueError(f"not a device topic: {topic!r}")
    return parts[1]
