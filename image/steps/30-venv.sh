#!/usr/bin/env bash
# The kiosk in a venv under /opt/kiosk. Packages without arm64 wheels (evdev,
# peewee's C speedups) compile here, so the compiler comes in and goes out again.
set -euo pipefail
root=$1
build_deps=(gcc libc6-dev python3-dev linux-libc-dev)
chroot "$root" apt-get install -y -qq --no-install-recommends "${build_deps[@]}" >/dev/null
mkdir -p "$root/tmp/wheels"
cp "$WORK"/wheels/*.whl "$root/tmp/wheels/"
wheel=$(basename "$(ls "$WORK"/wheels/member_kiosk-*.whl)")
chroot "$root" python3 -m venv /opt/kiosk
chroot "$root" /opt/kiosk/bin/pip install -q --no-cache-dir --upgrade pip
chroot "$root" /opt/kiosk/bin/pip install -q --no-cache-dir "/tmp/wheels/${wheel}[kiosk]"
chroot "$root" /opt/kiosk/bin/pip freeze > "$WORK/pip-freeze.txt"
chroot "$root" /opt/kiosk/bin/python -c "import kiosk.config, kiosk.firstboot, evdev, kivy" \
  > "$WORK/import-check.txt" 2>&1
chroot "$root" apt-get purge -y -qq --auto-remove "${build_deps[@]}" >/dev/null
rm -rf "$root/tmp/wheels"
mkdir -p "$root/opt/kiosk/share/doc"
cp "$REPO/docs/appliance.md" "$root/opt/kiosk/share/doc/" 2>/dev/null || true
