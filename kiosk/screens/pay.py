"""Pay screen: total, paid so far, what is left; cash (whole or part) or a scanned payment code."""

from kiosk.screens.base import KioskScreen, load_kv


class PayScreen(KioskScreen):
    """Split payment: each tender reduces what is left; the sale commits when nothing is.

    The part-cash buttons (¥10, ¥20, ¥50, ``CASH_PARTS_FEN`` in pay.kv) work only below what is left.
    """


load_kv("pay")
