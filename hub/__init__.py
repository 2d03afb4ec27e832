"""The hub: MQTT ingest into the authoritative ledger, reports and the owner's dashboard."""

__version__ = "0.1.0"
