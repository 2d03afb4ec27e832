"""The CJK font the kiosk draws with.

Debian's fonts-noto-cjk ships a font collection (.ttc) whose face 0 is
Japanese. Kivy's SDL2 text provider only opens face 0, so we extract the
Simplified Chinese face once into a cache directory and register that file.
"""

import os
from pathlib import Path

NOTO_DIR = Path("/usr/share/fonts/opentype/noto")
SC_FAMILY = "Noto Sans CJK SC"


class FontMissing(RuntimeError):
    """The CJK font is not installed; the message says how to install it."""


def cache_dir() -> Path:
    """Where extracted fonts live (``$KIOSK_CACHE`` or ``~/.cache/member-kiosk``)."""
    base = os.environ.get("KIOSK_CACHE") or Path.home() / ".cache" / "member-kiosk"
    return Path(base)


def simplified_chinese_face(weight: str = "Regular") -> Path:
    """Path to a single-face OpenType file of Noto Sans CJK SC (extracting it on first use)."""
    target = cache_dir() / f"NotoSansCJKsc-{weight}.otf"
    if target.exists():
        return target
    source = NOTO_DIR / f"NotoSansCJK-{weight}.ttc"
    if not source.exists():
        raise FontMissing(
            f"{source} is missing: install the Debian package fonts-noto-cjk "
            "(缺少中文字体：请安装 fonts-noto-cjk)"
        )
    from fontTools.ttLib import TTCollection

    collection = TTCollection(str(source))
    for face in collection.fonts:
        if face["name"].getDebugName(1) == SC_FAMILY:
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".tmp")
            face.save(str(partial))
            partial.replace(target)
            return target
    raise FontMissing(f"{source} has no {SC_FAMILY} face")
