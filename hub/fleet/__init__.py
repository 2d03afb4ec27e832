"""The terminals: registry, presence and health, provisioning, broker config, software releases."""
