"""Idle / attract screen: the shop's name and how to start."""

from kiosk.screens.base import KioskScreen, load_kv


class IdleScreen(KioskScreen):
    """Shown when no one is shopping; a scan or card tap starts a sale."""


load_kv("idle")
