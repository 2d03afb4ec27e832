"""The kiosk's screens, one module and one .kv each, and the attendant popups.

The checkout screens are built at start; the member and refund screens, which most
shoppers never see, are built the first time they are shown (:class:`KioskScreens`):
their modules, kv rules and widgets stay out of memory until then (docs/perf.md).
"""

from collections.abc import Callable
from importlib import import_module

from kivy.uix.screenmanager import Screen, ScreenManager

# screen name -> "module:Class", built on first use
LATER: dict[str, str] = {
    "member_phone": "kiosk.screens.member_phone:MemberPhoneScreen",
    "member_consent": "kiosk.screens.member_consent:MemberConsentScreen",
    "member_name": "kiosk.screens.member_name:MemberNameScreen",
    "member_pin": "kiosk.screens.member_pin:MemberPinScreen",
    "member_account": "kiosk.screens.member_account:MemberAccountScreen",
    "member_rewards": "kiosk.screens.member_rewards:MemberRewardsScreen",
    "member_export": "kiosk.screens.member_export:MemberExportScreen",
    "member_erase": "kiosk.screens.member_erase:MemberEraseScreen",
    "refund": "kiosk.screens.refund:RefundScreen",
}


def checkout_screens() -> list[Screen]:
    """One instance of every screen a shopper meets in a sale, in that order."""
    from kiosk.screens.cart import CartScreen
    from kiosk.screens.done import DoneScreen
    from kiosk.screens.idle import IdleScreen
    from kiosk.screens.pay import PayScreen
    from kiosk.screens.pick import PickScreen
    from kiosk.screens.receipt import ReceiptScreen

    return [IdleScreen(), CartScreen(), PickScreen(), PayScreen(), ReceiptScreen(), DoneScreen()]


def build_later(name: str) -> Screen:
    """A new instance of the on-demand screen ``name`` (a key of :data:`LATER`)."""
    module, cls = LATER[name].split(":")
    factory: Callable[[], Screen] = getattr(import_module(module), cls)
    return factory()


class KioskScreens(ScreenManager):
    """A screen manager that builds the :data:`LATER` screens when first asked for.

    ``current = name`` and :meth:`get_screen` build the screen on the way, and
    :meth:`has_screen` answers yes for one not built yet, so the flows never need to
    know which screens exist yet; :meth:`built` tells without building.
    """

    def __init__(self, **kwargs: object) -> None:
        self._later = set(LATER)
        super().__init__(**kwargs)

    def knows(self, name: str) -> bool:
        """Whether ``name`` is a screen, built or not yet."""
        return name in self._later or super().has_screen(name)

    def built(self, name: str) -> bool:
        """Whether screen ``name`` exists already (nothing is built by asking)."""
        return super().has_screen(name)

    def get_screen(self, name: str) -> Screen:
        if name in self._later:
            self._later.discard(name)
            self.add_widget(build_later(name))
        return super().get_screen(name)

    def has_screen(self, name: str) -> bool:
        return self.knows(name)
