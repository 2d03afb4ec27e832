#!/bin/sh
# Grow the data partition (labelled kiosk-data, the last on the card) to the
# end of the card. A no-op when it already ends there, so it is safe every boot.
# The ext4 file system inside is grown at mount by x-systemd.growfs (fstab).
set -eu
# This runs before /tmp is mounted and with / read-only; growpart needs a scratch directory.
TMPDIR=/run
export TMPDIR
part=$(readlink -f /dev/disk/by-label/kiosk-data)
disk=/dev/$(lsblk -no PKNAME "$part")
number=$(cat "/sys/class/block/$(basename "$part")/partition")
# growpart exits 1 with NOCHANGE when there is nothing to do.
if out=$(growpart "$disk" "$number" 2>&1); then
  echo "growdata: grew $part: $out"
  partx -u "$disk" || echo "growdata: partx -u failed; the kernel sees the new size after a reboot" >&2
else
  case $out in
    NOCHANGE*) echo "growdata: $part already fills $disk" ;;
    *) echo "growdata: growpart failed: $out" >&2; exit 1 ;;
  esac
fi
