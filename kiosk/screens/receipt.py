"""Receipt choice: print, no receipt, or a QR that opens the e-receipt on the hub."""

import io

from kivy.core.image import Image as CoreImage

from kiosk.screens.base import KioskScreen, load_kv


def qr_texture(url: str) -> object:
    """A Kivy texture of a QR code for ``url`` (drawn with ``qrcode`` and Pillow)."""
    import qrcode

    image = qrcode.make(url, box_size=8, border=2).convert("RGB")
    data = io.BytesIO()
    image.save(data, format="png")
    data.seek(0)
    texture = CoreImage(data, ext="png").texture
    texture.mag_filter = "nearest"
    return texture


class ReceiptScreen(KioskScreen):
    """Shown after the sale is committed; the QR appears when asked for."""

    def on_enter(self, *_args: object) -> None:
        self.ids.qr.texture = None
        self.ids.qr.opacity = 0

    def show_qr(self, url: str) -> None:
        """Draw the e-receipt QR for ``url``."""
        self.ids.qr.texture = qr_texture(url)
        self.ids.qr.opacity = 1


load_kv("receipt")
