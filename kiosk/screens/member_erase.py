"""Erase my data: says what goes and what stays, then asks once more."""

from kivy.properties import NumericProperty

from kiosk.domain.money import format_fen
from kiosk.screens.base import load_kv
from kiosk.screens.member_base import MemberScreen


class MemberEraseScreen(MemberScreen):
    """The confirm screen; the flow writes ``member.erasure_requested`` on confirm."""

    points = NumericProperty(0)
    stored_value_fen = NumericProperty(0)

    def money(self, fen: int) -> str:
        """Fen as shown: ¥12.34."""
        return format_fen(fen)

    def clear(self) -> None:
        """Forget the balances shown."""
        super().clear()
        self.points, self.stored_value_fen = 0, 0


load_kv("member_erase")
