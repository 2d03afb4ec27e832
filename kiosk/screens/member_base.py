"""What the member screens share: a note line (error or hint) and a way to their flow."""

from typing import Any

from kivy.app import App
from kivy.properties import BooleanProperty, DictProperty, StringProperty

from kiosk.screens.base import KioskScreen, load_kv
from kiosk.screens.keypad import MemberKeypad


class MemberScreen(KioskScreen):
    """A member screen; :meth:`clear` empties everything it shows (timeout, reset, sign-out)."""

    note_key = StringProperty("")
    note_values = DictProperty({})
    note_is_error = BooleanProperty(False)

    @property
    def flow(self) -> Any:
        """The app's :class:`kiosk.flows.members.MemberFlow`."""
        return App.get_running_app().member_flow

    def note(self, key: str, error: bool = False, **values: object) -> None:
        """Show ``key`` on the note line (red when ``error``); ``""`` clears it."""
        self.note_key = ""  # first, so the old key never meets the new values
        self.note_values = values
        self.note_key = key
        self.note_is_error = error

    def clear(self) -> None:
        """Forget what this screen shows."""
        self.note("")

    def press(self, key: str) -> None:
        """A keypad key (screens with a keypad override this)."""


__all__ = ["MemberKeypad", "MemberScreen"]

load_kv("member_common")
