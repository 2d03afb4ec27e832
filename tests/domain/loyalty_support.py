"""Shared helpers for the domain tests."""

import itertools

from kiosk.domain.loyalty import Stamp

AT = "2026-03-01T10:00:00+08:00"


def stamp(at: str = AT, device: str = "d1", prefix: str = "e") -> Stamp:
    """A stamp whose ids are ``e1``, ``e2``, ... so tests can name entries."""
    return Stamp(device, at, (f"{prefix}{i}" for i in itertools.count(1)))
