"""Members: the book, the authoritative ledger, attributes, the feed to terminals, reconciliation."""
