"""Shared helpers for the hardware tests."""

import pytest
from PIL import Image, ImageDraw


def pattern(width: int = 384, height: int = 120, seed: int = 0) -> Image.Image:
    """A 1-bit test image with features at known places (no two rows alike)."""
    image = Image.new("1", (width, height), 1)
    draw = ImageDraw.Draw(image)
    draw.rectangle((8 + seed, 8, 63, 40), fill=0)
    draw.line((0, height - 1, width - 1, 0), fill=0, width=3)
    draw.text((100, 50), f"Receipt {seed}", fill=0)
    return image


@pytest.fixture
def image() -> Image.Image:
    return pattern()
