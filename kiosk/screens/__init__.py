"""The kiosk's screens, one module and one .kv each, and the attendant popups."""

from kivy.uix.screenmanager import Screen


def all_screens() -> list[Screen]:
    """One instance of every screen, in the order a shopper meets them."""
    from kiosk.screens.cart import CartScreen
    from kiosk.screens.done import DoneScreen
    from kiosk.screens.idle import IdleScreen
    from kiosk.screens.member_account import MemberAccountScreen
    from kiosk.screens.member_consent import MemberConsentScreen
    from kiosk.screens.member_erase import MemberEraseScreen
    from kiosk.screens.member_export import MemberExportScreen
    from kiosk.screens.member_name import MemberNameScreen
    from kiosk.screens.member_phone import MemberPhoneScreen
    from kiosk.screens.member_pin import MemberPinScreen
    from kiosk.screens.pay import PayScreen
    from kiosk.screens.pick import PickScreen
    from kiosk.screens.receipt import ReceiptScreen
    from kiosk.screens.refund import RefundScreen

    checkout = [IdleScreen(), CartScreen(), PickScreen(), PayScreen(), ReceiptScreen(), DoneScreen()]
    member = [
        MemberPhoneScreen(), MemberConsentScreen(), MemberNameScreen(), MemberPinScreen(),
        MemberAccountScreen(), MemberExportScreen(), MemberEraseScreen(),
    ]  # fmt: skip
    return [*checkout, *member, RefundScreen()]
