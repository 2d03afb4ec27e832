"""The hub's JSON API under ``/api/v1`` (in the OpenAPI document): loyalty, members, campaigns, rules."""
