"""Member PIN entry: choose (twice), sign in, or change (old, new, new again). Shows dots only."""

from kivy.properties import BooleanProperty, StringProperty

from kiosk.screens.base import load_kv
from kiosk.screens.member_base import MemberScreen
from kiosk.translations import N_

MAX_PIN = 6


class MemberPinScreen(MemberScreen):
    """``step`` names the prompt (a string key such as ``m_pin_choose``); OK hands the PIN to the flow."""

    step = StringProperty(N_("m_pin_choose"))
    title_key = StringProperty("m_join_title")
    subtitle = StringProperty("")  # the masked phone, when signing in
    pin = StringProperty("")
    busy = BooleanProperty(False)  # the PIN is being checked or hashed: keys wait

    def press(self, key: str) -> None:
        """A keypad key: a digit, ``del`` or ``ok``."""
        self.flow.touched()
        if key == "del":
            self.pin = self.pin[:-1]
        elif key == "ok":
            pin, self.pin = self.pin, ""
            self.flow.pin_entered(pin)
        elif len(self.pin) < MAX_PIN:
            self.pin += key

    def ask(self, step: str, title_key: str, subtitle: str = "") -> None:
        """Show the prompt ``step`` with an empty entry."""
        self.step, self.title_key, self.subtitle, self.pin = step, title_key, subtitle, ""

    def clear(self) -> None:
        """Forget the digits and the phone shown."""
        super().clear()
        self.pin, self.subtitle, self.busy = "", "", False


load_kv("member_pin")
