"""An optional name (称呼) for greetings, typed on the system keyboard; skipping is fine."""

from kiosk.screens.base import load_kv
from kiosk.screens.member_base import MemberScreen

MAX_NAME = 20


class MemberNameScreen(MemberScreen):
    """The name field and Skip / Next."""

    def submit(self, skip: bool = False) -> None:
        """Hand the name (or none) to the flow."""
        name = "" if skip else self.ids.name.text.strip()
        if len(name) > MAX_NAME:
            self.note("m_name_too_long", error=True)
            return
        self.flow.name_entered(name)

    def clear(self) -> None:
        """Forget the name typed."""
        super().clear()
        self.ids.name.text = ""


load_kv("member_name")
