"""Product images: checked by their own bytes (type, size, sides) before they are stored, served back
with that type and nosniff, shown on the catalog page."""

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from hub.catalog import images
from hub.catalog.edits import CatalogError
from hub.catalog.models import ProductImage
from hub.catalog.releases import load_catalog
from hub.web.app import create_app

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 24, 7, 0, tzinfo=dt.UTC)


def picture(kind: str, size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 80, 20)).save(out, format=kind)
    return out.getvalue()


@pytest.mark.parametrize(
    ("kind", "size", "media"),
    [("PNG", (64, 48), "image/png"), ("JPEG", (100, 50), "image/jpeg"), ("WEBP", (120, 90), "image/webp")],
)
def test_the_type_and_sides_come_from_the_bytes(kind: str, size: tuple[int, int], media: str) -> None:
    assert images.inspect(picture(kind, size)) == (media, *size)


ONLY = "Only PNG, JPEG or WebP images (judged by the file's content, not its name)."


@pytest.mark.parametrize(
    ("data", "en"),
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', ONLY),
        (b"GIF89a" + b"\0" * 40, ONLY),
        (picture("PNG", (8, 8)), "A 8×8 image will not do: each side 32 to 4096 pixels."),
        (b"\x89PNG\r\n\x1a\n" + bytes(600 * 1024), "The image is 600 KB; at most 512 KB: make it smaller."),
        (b"", "Choose an image file."),
    ],
)  # fmt: skip
def test_anything_else_is_refused(data: bytes, en: str) -> None:
    with pytest.raises(CatalogError) as refused:
        images.inspect(data)
    assert refused.value.en == en


def test_upload_show_and_serve(hub_db, signed_in) -> None:  # type: ignore[no-untyped-def]
    load_catalog([{"sku": "A100", "name_zh": "有机奶", "price_fen": 650}])
    web = signed_in(create_app(TZ, clock=lambda: NOW), follow_redirects=False)
    csrf = web.headers.pop("X-CSRF-Token")
    png = picture("PNG", (64, 64))
    sent = web.post("/catalog/image", data={"csrf": csrf, "sku": "A100"}, files={"file": ("milk.png", png)})
    assert (sent.status_code, sent.headers["location"]) == (303, "/catalog?done=saved:A100&q=A100")
    served = web.get("/catalog/A100/image")
    assert (served.content, served.headers["content-type"], served.headers["x-content-type-options"]) == (
        png, "image/png", "nosniff",
    )  # fmt: skip
    assert '<img class="thumb" src="/catalog/A100/image?v=' in web.get("/catalog").text
    svg = b"<svg><script>alert(1)</script></svg>"
    refused = web.post("/catalog/image?lang=en", data={"csrf": csrf, "sku": "A100"},
                       files={"file": ("milk.png", svg)})  # fmt: skip
    assert refused.status_code == 400
    assert "A100: Only PNG, JPEG or WebP images" in refused.text
    assert bytes(ProductImage.get_by_id("A100").data) == png  # the old picture stays
    assert web.get("/catalog/NOSKU/image").status_code == 404
