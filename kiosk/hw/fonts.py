"""The CJK font receipts are drawn with: Noto Sans CJK, Simplified Chinese face.

``NotoSansCJK-Regular.ttc`` (Debian ``fonts-noto-cjk``) holds several faces; face 0
is Japanese, whose glyphs for many hanzi differ from the mainland forms. The
face is chosen by its family name, never by a hard-coded index.
"""

from functools import lru_cache

from PIL import ImageFont

from kiosk import i18n
from kiosk.hw.errors import FontMissingError

#: Paths to the regular and bold collections; tests and other images may point elsewhere.
FONT_PATHS = {
    False: "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    True: "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
}
FAMILY = "Noto Sans CJK SC"
_MAX_FACES = 32


@lru_cache(maxsize=4)
def face_index(path: str, family: str = FAMILY) -> int:
    """The index of the face named ``family`` in the collection at ``path``."""
    for index in range(_MAX_FACES):
        try:
            font = ImageFont.truetype(path, 12, index=index)
        except OSError as exc:
            if index == 0:
                raise _missing(path) from exc
            break
        if font.getname()[0] == family:
            return index
    raise _missing(path, family)


@lru_cache(maxsize=32)
def cjk_font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """Noto Sans CJK SC at ``size`` pixels; raises FontMissingError when not installed."""
    path = FONT_PATHS[bold]
    return ImageFont.truetype(path, size, index=face_index(path))


def _missing(path: str, family: str = FAMILY) -> FontMissingError:
    return FontMissingError(i18n.bilingual("hw_receipt_font_missing", family=family, path=path))
