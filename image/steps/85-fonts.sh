#!/usr/bin/env bash
# Flatten the CJK faces the app draws with, once, at build time (kiosk/fonts.py):
# each font size then costs about 0.7 MB of the Pi's memory instead of 2.4 MB,
# and no terminal spends minutes doing it on its first start.
# Runs on the build machine (`python -m kiosk.fonts` under qemu-user would take
# many times longer; fonts are the same bytes on any architecture) from the
# image's own font files, into the cache kiosk.service names (KIOSK_CACHE=
# /var/lib/kiosk/cache); 90-assemble.sh puts it on the data partition.
set -euo pipefail
root=$1
cache=$WORK/kiosk-cache
rm -rf "$cache"
mkdir -p "$cache"
started=$(date +%s)
# PYTHONPATH: this tree's kiosk package, whichever checkout the venv was installed from.
KIOSK_CACHE=$cache PYTHONPATH=$REPO "$REPO/.venv/bin/python" -c '
import sys
from pathlib import Path
from kiosk import fonts
fonts.NOTO_DIR = Path(sys.argv[1])  # the image s fonts-noto-cjk, not the build machine s
for path in fonts.prepare_faces():
    print(f"85-fonts: {path.name} {path.stat().st_size} bytes")
' "$root/usr/share/fonts/opentype/noto"
# The unflattened single faces were only the way there; the app uses the flat ones.
rm -f "$cache"/NotoSansCJKsc-Regular.otf "$cache"/NotoSansCJKsc-Bold.otf
ls -l "$cache"
echo "85-fonts: flattened in $(($(date +%s) - started)) s"
