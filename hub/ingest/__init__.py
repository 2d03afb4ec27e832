"""Events from terminals into the ledger: the MQTT worker, batches, booking, quarantine, refunds."""
