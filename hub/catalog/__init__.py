"""The catalog: the owner's products, their edits, and the versioned config releases sent to terminals."""
