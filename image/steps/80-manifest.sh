#!/usr/bin/env bash
# Stamp the image with the commit it was built from and record every version.
set -euo pipefail
root=$1
{
  echo "member-kiosk $VERSION commit $COMMIT built $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "debian $SUITE from $MIRROR"
} > "$root/etc/kiosk-release"
mkdir -p "$OUT"
{
  cat "$root/etc/kiosk-release"
  echo "== Debian packages"
  # shellcheck disable=SC2016  # dpkg-query expands these itself
  chroot "$root" dpkg-query -W -f '${Package} ${Version}\n'
  echo "== Python packages in /opt/kiosk"
  cat "$WORK/pip-freeze.txt"
} > "$OUT/$NAME.manifest.txt"
