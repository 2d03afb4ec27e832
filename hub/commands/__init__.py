"""The ``hub`` command's groups (click): serve, device, member, campaign, release, rules, sync."""
