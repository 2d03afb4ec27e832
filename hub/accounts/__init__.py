"""Who works the hub and what they did: the owner's audit trail (accounts and roles come here)."""
