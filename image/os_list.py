#!/usr/bin/env python3
"""Print a Raspberry Pi Imager ``os_list`` JSON entry for a built image.

Open it in Imager with ``rpi-imager --repo os_list.json`` (or host it next to
the image and give Imager its URL). Imager downloads the image from ``url``,
which must be a full ``http(s)://`` URL: the build takes the folder it will be
served from as ``IMAGE_URL_BASE`` (``--url-base`` here). ``init_format`` is
``none``: Imager's own "OS customisation" does not apply; a terminal is
customised by kiosk.toml.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def url_base(value: str) -> str:
    """``value`` as a folder URL ending in ``/``; an ``argparse`` error unless it is http(s)."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an http(s):// URL; Raspberry Pi Imager downloads the image from "
            "this folder, e.g. https://hub.shop.lan/images/ / 须为完整的 http(s):// 地址"
        )
    return value if value.endswith("/") else value + "/"


def os_list_entry(args: argparse.Namespace) -> dict[str, object]:
    """The one ``os_list`` entry describing the image."""
    image = Path(args.image)
    return {
        "name": f"Member Kiosk {args.version}",
        "description": f"Self-checkout and membership terminal (commit {args.commit}). 自助收银与会员终端。",
        "url": f"{args.url_base}{image.name}",
        "release_date": datetime.now(UTC).date().isoformat(),
        "extract_size": args.extract_size,
        "extract_sha256": args.extract_sha256,
        "image_download_size": image.stat().st_size,
        "image_download_sha256": sha256_of(image),
        # Debian's kernel boots the Pi 4; the Pi 5 needs Raspberry Pi's kernel (docs/appliance.md).
        "devices": ["pi4-64bit"],
        "init_format": "none",
    }


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and print the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", required=True)
    parser.add_argument("--version", required=True)
    parser.add_argument("--commit", required=True)
    parser.add_argument("--image", required=True)
    parser.add_argument("--extract-size", type=int, required=True)
    parser.add_argument("--extract-sha256", required=True)
    parser.add_argument(
        "--url-base",
        type=url_base,
        required=True,
        help="The http(s):// folder the image will be downloaded from (build.sh: IMAGE_URL_BASE).",
    )
    args = parser.parse_args(argv)
    json.dump({"os_list": [os_list_entry(args)]}, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
