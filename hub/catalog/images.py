"""Product images: the owner uploads one picture per product; the dashboard shows it.

Checked before it is stored: at most :data:`MAX_BYTES`, a PNG, JPEG or WebP by its own first bytes
(never by the file name or the browser's word), with a size the file itself states between
:data:`MIN_SIDE` and :data:`MAX_SIDE` pixels a side. Anything else (SVG, which can carry script; GIF;
a renamed file) is refused in zh/en. The image is served back with the type found here and
``nosniff``, so a browser never reads it as anything else.

Terminals do not get the images: the catalog travels as one retained JSON message per terminal
(docs/protocol.md), and a few hundred photos would make every config release megabytes. The kiosk's
product rows stay text (docs/stock.md says what carrying them would take).
"""

import datetime as dt
import hashlib
import struct

from hub.accounts import audit as owner_audit
from hub.catalog.edits import CatalogError
from hub.catalog.models import CatalogProduct, ProductImage
from hub.db import database

MAX_BYTES = 512 * 1024
MIN_SIDE = 32
MAX_SIDE = 4096


def _png_size(data: bytes) -> tuple[int, int] | None:
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR" or len(data) < 24:
        return None
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    if data[:3] != b"\xff\xd8\xff":
        return None
    at = 2
    while at + 9 < len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            at += 2
            continue
        length = struct.unpack(">H", data[at + 2 : at + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # a start of frame
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return int(width), int(height)
        at += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP" or len(data) < 30:
        return None
    chunk = data[12:16]
    if chunk == b"VP8X":
        width = 1 + int.from_bytes(data[24:27], "little")
        height = 1 + int.from_bytes(data[27:30], "little")
        return width, height
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def inspect(data: bytes) -> tuple[str, int, int]:
    """``(content type, width, height)`` of an acceptable image; CatalogError (zh/en) otherwise."""
    if not data:
        raise CatalogError("请选择一张图片。", "Choose an image file.")
    if len(data) > MAX_BYTES:
        raise CatalogError(
            f"图片太大（{len(data) // 1024} KB），最大 {MAX_BYTES // 1024} KB：请缩小后再传。",
            f"The image is {len(data) // 1024} KB; at most {MAX_BYTES // 1024} KB: make it smaller.",
        )
    for kind, read in (("image/png", _png_size), ("image/jpeg", _jpeg_size), ("image/webp", _webp_size)):
        size = read(data)
        if size is None:
            continue
        width, height = size
        if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
            raise CatalogError(
                f"图片尺寸 {width}×{height} 不行：每边须在 {MIN_SIDE} 到 {MAX_SIDE} 像素之间。",
                f"A {width}×{height} image will not do: each side {MIN_SIDE} to {MAX_SIDE} pixels.",
            )
        return kind, width, height
    raise CatalogError(
        "只收 PNG、JPEG 或 WebP 图片（按文件内容判断，不看扩展名）。",
        "Only PNG, JPEG or WebP images (judged by the file's content, not its name).",
    )


def save_image(sku: str, data: bytes, now: dt.datetime, by: str) -> ProductImage:
    """Store ``data`` as ``sku``'s picture (replacing the old one), checked and audited."""
    if CatalogProduct.get_or_none(CatalogProduct.sku == sku) is None:
        raise CatalogError(f"没有商品 {sku[:40]}。", f"No product {sku[:40]}.")
    kind, width, height = inspect(data)
    digest = hashlib.sha256(data).hexdigest()
    fields = {"content_type": kind, "data": data, "width": width, "height": height, "sha256": digest,
              "uploaded_at": now.isoformat(timespec="seconds")}  # fmt: skip
    with database.atomic():
        ProductImage.insert(sku=sku, **fields).on_conflict(
            conflict_target=[ProductImage.sku],
            update={getattr(ProductImage, k): v for k, v in fields.items()},
        ).execute()
        owner_audit.record(by, "catalog.image", f"product:{sku}", now, type=kind, size=[width, height],
                           sha256=digest)  # fmt: skip
    return ProductImage.get_by_id(sku)


def with_images(skus: list[str]) -> dict[str, str]:
    """The SKUs among ``skus`` that have a picture, with its hash (a cache key for the page)."""
    rows = ProductImage.select(ProductImage.sku, ProductImage.sha256).where(ProductImage.sku.in_(skus))
    return {sku: digest for sku, digest in rows.tuples()}
