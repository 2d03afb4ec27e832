"""Idle / attract screen: the shop's name, rotating promotions and how to start."""

from kiosk.screens.base import KioskScreen, load_kv


class IdleScreen(KioskScreen):
    """Shown when no one is shopping; a scan or card tap starts a sale. Shows no member data."""


load_kv("idle")
