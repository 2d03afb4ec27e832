"""The big digit keypad of the member screens (phone number, member PIN)."""

from kivy.properties import ObjectProperty
from kivy.uix.gridlayout import GridLayout

from kiosk.screens.base import load_kv


class MemberKeypad(GridLayout):
    """Digits, delete and OK; each key calls ``target.press(key)`` (``"0"``–``"9"``, ``del``, ``ok``)."""

    target = ObjectProperty(None)

    def press(self, key: str) -> None:
        """Hand a key to the screen that owns the keypad."""
        if self.target is not None:
            self.target.press(key)


load_kv("keypad")
