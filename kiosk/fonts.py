"""The CJK font the kiosk draws with.

Debian's fonts-noto-cjk ships a font collection (.ttc) whose face 0 is
Japanese. Kivy's SDL2 text provider only opens face 0, so we extract the
Simplified Chinese face once into a cache directory and register that file.

Kivy opens the face once per font size (and bold), and FreeType copies the
face's CFF subroutines into memory for each: about 2.4 MB per size for Noto
Sans CJK, 17 sizes on the kiosk's screens. :func:`flatten_face` writes a
copy with the subroutines expanded into each glyph (the outlines, and so the
pixels, are the same); each size then costs about 0.7 MB. Flattening takes a
minute or two, so it is done ahead (``python -m kiosk.fonts``, which
``scripts/bootstrap.sh`` runs once per machine), never while the app starts:
:func:`kivy_faces` uses the flat copies when they are there and the plain
faces otherwise.
"""

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

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
            partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")  # two first runs never share it
            face.save(str(partial))
            partial.replace(target)
            return target
    raise FontMissing(f"{source} has no {SC_FAMILY} face")


def flat_face_path(weight: str = "Regular") -> Path:
    """Where the flattened copy of the Simplified Chinese face lives."""
    return cache_dir() / f"NotoSansCJKsc-{weight}-flat.otf"


def flatten_face(source: Path, target: Path) -> Path:
    """Write ``source`` to ``target`` with its CFF subroutines expanded; every glyph and table kept."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(str(source))
    options = subset.Options()
    options.desubroutinize = True
    options.drop_tables = []
    options.passthrough_tables = True
    options.layout_features = ["*"]
    options.layout_scripts = ["*"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.glyph_names = True
    options.hinting = True
    options.legacy_kern = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(glyphs=font.getGlyphOrder())
    subsetter.subset(font)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    font.save(str(partial))
    partial.replace(target)
    return target


def prepare_faces() -> list[Path]:
    """Extract and flatten the regular and bold faces (skipping what is already cached)."""
    made = []
    for weight in ("Regular", "Bold"):
        target = flat_face_path(weight)
        if not target.exists():
            flatten_face(simplified_chinese_face(weight), target)
        made.append(target)
    return made


def kivy_faces() -> tuple[Path, Path]:
    """The regular and bold files for Kivy: the flat copies if prepared, the plain faces otherwise."""
    flat = flat_face_path("Regular"), flat_face_path("Bold")
    if all(path.exists() for path in flat):
        return flat
    log.warning("CJK faces not flattened: each font size costs 2.4 MB more; run python -m kiosk.fonts once")
    return simplified_chinese_face("Regular"), simplified_chinese_face("Bold")


if __name__ == "__main__":
    for path in prepare_faces():
        print(path)
