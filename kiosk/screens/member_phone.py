"""Phone entry for joining or for phone + PIN sign-in: a big keypad, the number as typed."""

from kivy.properties import StringProperty

from kiosk.screens.base import load_kv
from kiosk.screens.member_base import MemberScreen

MAX_DIGITS = 15  # E.164 allows at most 15 digits


class MemberPhoneScreen(MemberScreen):
    """``purpose`` is ``join`` or ``sign_in``; OK hands the digits to the member flow."""

    purpose = StringProperty("join")
    digits = StringProperty("")

    def press(self, key: str) -> None:
        """A keypad key: a digit, ``del`` or ``ok``."""
        self.flow.touched()
        if key == "del":
            self.digits = self.digits[:-1]
        elif key == "ok":
            self.flow.phone_entered(self.digits)
        elif len(self.digits) < MAX_DIGITS:
            self.digits += key
            self.note("")

    def shown(self, digits: str) -> str:
        """The number grouped as people read it: 138 1234 5678."""
        if len(digits) <= 3:
            return digits
        return " ".join([digits[:3], digits[3:7], digits[7:]]).strip()

    def clear(self) -> None:
        """Forget the number typed."""
        super().clear()
        self.digits = ""


load_kv("member_phone")
