#!/usr/bin/env python3
"""Print a Raspberry Pi Imager ``os_list`` JSON entry for a built image.

Open it in Imager with ``rpi-imager --repo os_list.json`` (or host it next to
the image and give Imager its URL). ``init_format`` is ``none``: Imager's own
"OS customisation" does not apply; a terminal is customised by kiosk.toml.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from datetime import UTC, datetime
from pathlib import Path


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


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
    parser.add_argument("--url-base", default="", help="Where the image will be downloaded from.")
    args = parser.parse_args(argv)
    json.dump({"os_list": [os_list_entry(args)]}, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
