"""The CJK faces Kivy draws with: the plain extracted face, and its flattened copy."""

import logging
from pathlib import Path

import pytest
from fontTools import subset
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont

from kiosk import fonts

TEXT = "扫码或刷会员卡开始 农夫山泉 ¥46.31 喆 Pay"


@pytest.fixture(scope="module")
def small_face(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real Simplified Chinese face cut down to TEXT's glyphs, subroutines kept (like the original)."""
    font = TTFont(str(fonts.simplified_chinese_face("Regular")))
    options = subset.Options()
    options.desubroutinize = False
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=TEXT)
    subsetter.subset(font)
    path = tmp_path_factory.mktemp("fonts") / "small.otf"
    font.save(str(path))
    return path


def subroutines(path: Path) -> tuple[int, int]:
    """(global subroutines, local subroutines over every font dict) of the face at ``path``."""
    cff = TTFont(str(path))["CFF "].cff
    top = cff.topDictIndex[0]
    dicts = top.FDArray if hasattr(top, "FDArray") else [top]
    local = sum(len(fd.Private.Subrs) for fd in dicts if hasattr(fd.Private, "Subrs"))
    return len(cff.GlobalSubrs), local


def drawn(path: Path, size: int) -> bytes:
    image = Image.new("L", (900, 80), 255)
    ImageDraw.Draw(image).text((4, 4), TEXT, font=ImageFont.truetype(str(path), size), fill=0)
    return image.tobytes()


def test_flattening_expands_the_subroutines_and_draws_the_same_pixels(
    small_face: Path, tmp_path: Path
) -> None:
    assert subroutines(small_face)[0] > 0  # Noto CJK calls global subroutines
    flat = fonts.flatten_face(small_face, tmp_path / "flat.otf")
    assert subroutines(flat) == (0, 0)
    assert TTFont(str(flat)).getGlyphOrder() == TTFont(str(small_face)).getGlyphOrder()
    for size in (14, 17, 40):
        assert drawn(flat, size) == drawn(small_face, size)
    assert [p.name for p in tmp_path.iterdir()] == ["flat.otf"]  # no partial file left


def test_kivy_uses_the_flat_faces_only_when_both_are_there(
    small_face: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("KIOSK_CACHE", str(tmp_path))
    for weight in ("Regular", "Bold"):  # the extracted faces, as a first start leaves them
        (tmp_path / f"NotoSansCJKsc-{weight}.otf").symlink_to(small_face)
    with caplog.at_level(logging.WARNING, logger="kiosk.fonts"):
        assert fonts.kivy_faces() == (
            tmp_path / "NotoSansCJKsc-Regular.otf",
            tmp_path / "NotoSansCJKsc-Bold.otf",
        )
    assert "python -m kiosk.fonts" in caplog.text
    fonts.flatten_face(small_face, tmp_path / "NotoSansCJKsc-Regular-flat.otf")
    assert fonts.kivy_faces()[0].name == "NotoSansCJKsc-Regular.otf"  # bold not flat yet: both plain
    fonts.flatten_face(small_face, tmp_path / "NotoSansCJKsc-Bold-flat.otf")
    assert fonts.kivy_faces() == (
        tmp_path / "NotoSansCJKsc-Regular-flat.otf",
        tmp_path / "NotoSansCJKsc-Bold-flat.otf",
    )
