"""Sync between terminal and hub over MQTT v5: schemas, topics, and the outbox agent."""

from kiosk.sync.schema import SCHEMA_VERSION, SchemaError
from kiosk.sync.topics import ack_topic, events_topic

__all__ = ["SCHEMA_VERSION", "SchemaError", "ack_topic", "events_topic"]
