"""Export my data: a QR that opens the hub's download page, where the member's PIN is checked."""

from kivy.properties import BooleanProperty, NumericProperty

from kiosk.screens.base import load_kv
from kiosk.screens.member_base import MemberScreen
from kiosk.screens.receipt import qr_texture


class MemberExportScreen(MemberScreen):
    """Shows the signed, expiring link as a QR (or says a PIN is needed first)."""

    minutes = NumericProperty(10)
    has_qr = BooleanProperty(False)

    def show_link(self, url: str, minutes: int) -> None:
        """Draw the QR for ``url``, valid ``minutes``."""
        self.minutes = minutes
        self.ids.qr.texture = qr_texture(url)
        self.has_qr = True

    def clear(self) -> None:
        """Remove the QR (it names the member)."""
        super().clear()
        self.ids.qr.texture = None
        self.has_qr = False


load_kv("member_export")
