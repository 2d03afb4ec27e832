#!/usr/bin/env bash
# The kiosk in a venv under /opt/kiosk, installed offline from a wheelhouse.
# The build machine downloads the arm64 wheels (its pip has the network and
# any proxy certificates); inside the chroot pip never touches the network.
# evdev has no arm64 wheel and compiles here: the compiler comes in and goes out again.
set -euo pipefail
root=$1
build_deps=(gcc libc6-dev python3-dev linux-libc-dev)
house=$WORK/wheelhouse
pip=("$REPO/.venv/bin/python" -m pip)
kiosk_wheel=$(ls "$WORK"/wheels/member_kiosk-*.whl)

# 1. On the build machine: fetch arm64 wheels of the locked kiosk dependencies.
rm -rf "$house"
mkdir -p "$house"
# The pinned kiosk dependencies (`make lock`), name==version per line; hashes checked in the chroot.
sed -n 's/^\([A-Za-z0-9][^ =]*==[^ ]*\).*/\1/p' "$REPO/requirements/aarch64.txt" > "$WORK/requirements.txt"
arm64=(--only-binary=:all: --platform manylinux2014_aarch64 --platform manylinux_2_17_aarch64
  --platform manylinux_2_28_aarch64 --platform linux_aarch64 --python-version 3.11
  --implementation cp --abi cp311 --abi abi3 --abi none)
while read -r requirement; do
  if ! "${pip[@]}" download -q --no-deps --dest "$house" "${arm64[@]}" "$requirement" 2>/dev/null; then
    echo "30-venv: no arm64 wheel for $requirement; its source is built in the chroot"
    "${pip[@]}" download -q --no-deps --dest "$house" --no-binary=:all: "$requirement"
  fi
done < "$WORK/requirements.txt"
# Build backends for the source packages.
"${pip[@]}" download -q --dest "$house" --only-binary=:all: setuptools wheel
cp "$kiosk_wheel" "$house/"

# 2. In the chroot: a clean environment (no build-machine PIP_* settings leak in).
in_root() {
  chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 "$@"
}
# apt needs name resolution; the image's resolv.conf points at systemd-resolved, not running here.
resolv=$root/etc/resolv.conf
if [ -e "$resolv" ] || [ -L "$resolv" ]; then mv "$resolv" "$resolv.kiosk-build"; fi
cp /etc/resolv.conf "$resolv"
restore_resolv() {
  rm -f "$resolv"
  if [ -e "$resolv.kiosk-build" ] || [ -L "$resolv.kiosk-build" ]; then
    mv "$resolv.kiosk-build" "$resolv"
  fi
  rm -rf "$root/tmp/wheelhouse"
}
trap restore_resolv EXIT

if ! compgen -G "$root/var/lib/apt/lists/*_Packages" >/dev/null; then
  in_root apt-get update -qq
fi
in_root apt-get install -y -qq --no-install-recommends "${build_deps[@]}" >/dev/null
cp "$REPO/requirements/aarch64.txt" "$house/lock.txt"
cp -r "$house" "$root/tmp/wheelhouse"
in_root python3 -m venv --clear /opt/kiosk
in_root /opt/kiosk/bin/pip install -q --no-cache-dir --no-index --find-links /tmp/wheelhouse \
  --require-hashes -r /tmp/wheelhouse/lock.txt
in_root /opt/kiosk/bin/pip install -q --no-cache-dir --no-index --no-deps \
  "/tmp/wheelhouse/$(basename "$kiosk_wheel")"
in_root /opt/kiosk/bin/pip freeze > "$WORK/pip-freeze.txt"
# What first boot and the hardware readers need must import; the build fails otherwise.
in_root /opt/kiosk/bin/python -c "import kiosk.config, kiosk.firstboot, evdev"
# Kivy is checked too, but reported rather than fatal: importing it under
# qemu-user is not the Pi, and the rest of the image is still worth booting.
if in_root env KIVY_HOME=/tmp/kivy-check KIVY_NO_ARGS=1 /opt/kiosk/bin/python -c "import kivy"; then
  echo "30-venv: kivy imports"
else
  echo "30-venv: WARNING: kivy does not import under qemu-user; check on a Pi" >&2
fi
rm -rf "$root/tmp/kivy-check"
in_root apt-get purge -y -qq --auto-remove "${build_deps[@]}" >/dev/null
rm -rf "$root/root/.cache"
mkdir -p "$root/opt/kiosk/share/doc"
cp "$REPO/docs/appliance.md" "$root/opt/kiosk/share/doc/"
