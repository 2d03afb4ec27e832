#!/usr/bin/env bash
# The kiosk in a venv under /opt/kiosk. Packages without arm64 wheels (evdev,
# peewee's C speedups) compile here, so the compiler comes in and goes out again.
set -euo pipefail
root=$1
build_deps=(gcc libc6-dev python3-dev linux-libc-dev)

# pip needs DNS, but the image's resolv.conf points at systemd-resolved, which
# does not run in the chroot: use the build machine's for this step only.
resolv=$root/etc/resolv.conf
if [ -e "$resolv" ] || [ -L "$resolv" ]; then mv "$resolv" "$resolv.kiosk-build"; fi
cp /etc/resolv.conf "$resolv"
restore_resolv() {
  rm -f "$resolv"
  if [ -e "$resolv.kiosk-build" ] || [ -L "$resolv.kiosk-build" ]; then
    mv "$resolv.kiosk-build" "$resolv"
  fi
}
trap restore_resolv EXIT

chroot "$root" apt-get install -y -qq --no-install-recommends "${build_deps[@]}" >/dev/null
mkdir -p "$root/tmp/wheels"
cp "$WORK"/wheels/*.whl "$root/tmp/wheels/"
wheel=$(basename "$(ls "$WORK"/wheels/member_kiosk-*.whl)")
chroot "$root" python3 -m venv /opt/kiosk
chroot "$root" /opt/kiosk/bin/pip install -q --no-cache-dir --upgrade pip
chroot "$root" /opt/kiosk/bin/pip install -q --no-cache-dir "/tmp/wheels/${wheel}[kiosk]"
chroot "$root" /opt/kiosk/bin/pip freeze > "$WORK/pip-freeze.txt"
# What first boot and the hardware readers need must import; the build fails otherwise.
chroot "$root" /opt/kiosk/bin/python -c "import kiosk.config, kiosk.firstboot, evdev"
# Kivy is checked too, but reported rather than fatal: importing it under
# qemu-user is not the Pi, and the rest of the image is still worth booting.
if chroot "$root" env KIVY_HOME=/tmp/kivy-check KIVY_NO_ARGS=1 /opt/kiosk/bin/python -c "import kivy"; then
  echo "30-venv: kivy imports"
else
  echo "30-venv: WARNING: kivy does not import under qemu-user; check on a Pi" >&2
fi
rm -rf "$root/tmp/kivy-check"
chroot "$root" apt-get purge -y -qq --auto-remove "${build_deps[@]}" >/dev/null
rm -rf "$root/tmp/wheels" "$root/root/.cache"
mkdir -p "$root/opt/kiosk/share/doc"
cp "$REPO/docs/appliance.md" "$root/opt/kiosk/share/doc/"
