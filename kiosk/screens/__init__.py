"""The kiosk's screens, one module and one .kv each, and the attendant popups."""

from kivy.uix.screenmanager import Screen


def all_screens() -> list[Screen]:
    """One instance of every screen, in the order a shopper meets them."""
    from kiosk.screens.cart import CartScreen
    from kiosk.screens.done import DoneScreen
    from kiosk.screens.idle import IdleScreen
    from kiosk.screens.pay import PayScreen
    from kiosk.screens.pick import PickScreen
    from kiosk.screens.receipt import ReceiptScreen

    return [IdleScreen(), CartScreen(), PickScreen(), PayScreen(), ReceiptScreen(), DoneScreen()]
