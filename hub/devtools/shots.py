"""Whole-page screenshots of the dashboard: tall enough for any page, trimmed to what it drew.

Chromium's ``--screenshot`` takes the window as it is, so a fixed height cut long pages off at the
bottom. :func:`page` shoots a tall window and trims the empty page background below the content.
"""

from pathlib import Path

from PIL import Image

from kiosk.devtools import browser

BACKGROUND = (245, 247, 250)  # the dashboard's --bg
MARGIN = 24


def page(url: str, target: Path, width: int = 1280, tallest: int = 6000) -> Path:
    """Save ``url`` at ``width`` px wide, as tall as its content (up to ``tallest``), to ``target``."""
    browser.screenshot(url, target, width, tallest)
    with Image.open(target) as image:
        rgb = image.convert("RGB")
    bottom = _content_bottom(rgb)
    rgb.crop((0, 0, width, min(rgb.height, bottom + MARGIN))).save(target, optimize=True)
    return target


def in_both_languages(port: int, pages: tuple[tuple[str, str, int], ...], out: Path) -> list[Path]:
    """Shoot each ``(name, path with its query so far, width)`` of the dashboard served on ``port``,
    in Chinese and in English, as ``out/hub-{name}-{zh|en}.png``."""
    return [
        page(f"http://127.0.0.1:{port}{path}{q}", out / f"hub-{name}-{lang}.png", width)
        for name, path, width in pages
        for lang, q in (("zh", ""), ("en", "lang=en"))
    ]


def _content_bottom(image: Image.Image) -> int:
    """The last row that is not all page background (0 when the page drew nothing)."""
    # a row is empty when every pixel is the background colour
    for y in range(image.height - 1, -1, -1):
        extrema = image.crop((0, y, image.width, y + 1)).getextrema()
        if any(channel != (value, value) for channel, value in zip(extrema, BACKGROUND, strict=True)):
            return y + 1
    return 0
