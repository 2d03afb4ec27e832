#!/usr/bin/env bash
# Build the Member Kiosk SD-card image for Raspberry Pi (arm64, Debian bookworm).
#
#   sudo bash image/build.sh            # or: make image
#   sudo RESUME_FROM=30 bash image/build.sh   # rerun steps 30.. on the last root file system
#   sudo IMAGE_URL_BASE=https://hub.shop.lan/images/ make image   # also write os_list.json
#
# Output in image/out/: member-kiosk-<version>-<commit>.img.xz, .sha256, .bmap,
# os_list.json (Raspberry Pi Imager; with IMAGE_URL_BASE), manifest.txt (every package and wheel version).
# Runs as root; needs no loop devices: file systems are made from directories
# (mkfs.ext4 -d, mkfs.vfat + mcopy) and assembled with sfdisk + dd.
# Steps are numbered scripts in image/steps/; files copied verbatim are in image/files/.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
export REPO
# Outside the source tree: setuptools would otherwise walk the rootfs (and its /proc) on `pip install -e .`.
export WORK=${WORK:-/var/tmp/member-kiosk-image}
export OUT=${OUT:-$REPO/image/out}
export SUITE=${SUITE:-bookworm}
# Point MIRROR at snapshot.debian.org/archive/debian/<timestamp> to pin the archive in time.
export MIRROR=${MIRROR:-http://deb.debian.org/debian}
export SECURITY_MIRROR=${SECURITY_MIRROR:-http://deb.debian.org/debian-security}
# Where the .img.xz will be downloaded from (http(s)://…/, the folder): os_list.json's
# `url` for Raspberry Pi Imager. Without it no os_list.json is written (Imager needs a full URL).
export IMAGE_URL_BASE=${IMAGE_URL_BASE:-}
COMMIT=$(git -C "$REPO" rev-parse --short=12 HEAD)
if [ -n "$(git -C "$REPO" status --porcelain --untracked-files=no)" ]; then
  COMMIT="$COMMIT-dirty"
fi
export COMMIT
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' "$REPO/pyproject.toml")
export VERSION
export NAME="member-kiosk-$VERSION-$COMMIT"

if [ "$(id -u)" != 0 ]; then
  echo "image: run as root (mmdebstrap needs it) / 请以 root 身份运行" >&2
  exit 1
fi

log() { printf '[%s] image: %s\n' "$(date -u +%H:%M:%S)" "$*"; }
export -f log

log "installing build tools"
HOST_PACKAGES=(mmdebstrap qemu-user-static binfmt-support dosfstools mtools e2fsprogs
  bmap-tools xz-utils fdisk python3-venv git)
missing=()
for p in "${HOST_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# arm64 binaries run through qemu-user: binfmt_misc must be mounted and the handler on.
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
update-binfmts --enable qemu-aarch64

start=$(date +%s)
if [ -z "${RESUME_FROM:-}" ]; then
  rm -rf "$WORK"
fi
mkdir -p "$WORK" "$OUT"
log "building the kiosk wheel (from a clean copy: the source tree is left as it was)"
rm -rf "$WORK/wheels"
bash "$REPO/image/kiosk-wheel.sh" "$WORK/wheels"

if [ -z "${RESUME_FROM:-}" ]; then
  packages=$(grep -v '^#' "$REPO/image/packages.txt" | paste -sd, -)
  hooks=()
  for step in "$REPO"/image/steps/[1-7]*.sh; do
    hooks+=(--customize-hook="echo 'image: step $(basename "$step")'; bash '$step' \"\$1\"")
  done

  log "mmdebstrap $SUITE arm64 with $(echo "$packages" | tr ',' '\n' | wc -l) packages"
  mmdebstrap --mode=root --arch=arm64 --variant=minbase \
    --components="main non-free-firmware" \
    --include="$packages" \
    --essential-hook="bash '$REPO/image/steps/00-essential.sh' \"\$1\"" \
    "${hooks[@]}" \
    "$SUITE" "$WORK/rootfs" \
    "deb $MIRROR $SUITE main non-free-firmware" \
    "deb $MIRROR $SUITE-updates main non-free-firmware" \
    "deb $SECURITY_MIRROR $SUITE-security main non-free-firmware"
else
  # After a failed customize step: rerun steps >= RESUME_FROM on the existing
  # root file system, with the mounts mmdebstrap gives its hooks. Saves the
  # half hour of installing packages under emulation.
  rootfs=$WORK/rootfs
  test -x "$rootfs/usr/bin/dpkg"
  mount -t proc proc "$rootfs/proc"
  mount -t sysfs sysfs "$rootfs/sys"
  mount --bind /dev "$rootfs/dev"
  mount --bind /dev/pts "$rootfs/dev/pts"
  unmount_chroot() { umount "$rootfs/dev/pts" "$rootfs/dev" "$rootfs/sys" "$rootfs/proc"; }
  trap unmount_chroot EXIT
  for step in "$REPO"/image/steps/[1-7]*.sh; do
    number=$(basename "$step" | cut -c1-2)
    if [ "$number" -ge "$RESUME_FROM" ]; then
      log "step $(basename "$step") (resumed)"
      bash "$step" "$rootfs"
    fi
  done
  unmount_chroot
  trap - EXIT
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin
fi

for step in "$REPO"/image/steps/[89]*.sh; do
  log "step $(basename "$step")"
  bash "$step" "$WORK/rootfs"
done
log "done in $(($(date +%s) - start)) s: $OUT/$NAME.img.xz"
