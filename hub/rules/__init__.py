"""The owner's loyalty rules: one validated, versioned, audited record, and the rules in plain words."""
