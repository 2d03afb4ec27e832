"""A/B software updates: venvs per version, the update run with health check and rollback, its CLI."""
