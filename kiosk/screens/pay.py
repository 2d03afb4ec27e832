"""Pay screen: the total, and the attendant's confirmation of cash received."""

from kiosk.screens.base import KioskScreen, load_kv


class PayScreen(KioskScreen):
    """Cash only in the skeleton; the attendant confirms on the terminal."""


load_kv("pay")
