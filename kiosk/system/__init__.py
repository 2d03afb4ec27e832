"""The terminal's operating-system edges: sd_notify and giving memory back after a sale."""
