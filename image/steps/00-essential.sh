#!/usr/bin/env bash
# Before the kernel is installed: the places its hooks write to, and the
# modules the initramfs must carry (virtio for qemu boot tests; the Pi's own
# drivers come with MODULES=most).
set -euo pipefail
root=$1
mkdir -p "$root/boot/firmware" "$root/usr/share/initramfs-tools/modules.d"
cat > "$root/usr/share/initramfs-tools/modules.d/kiosk" <<'MODULES'
virtio_pci
virtio_mmio
virtio_blk
virtio_net
MODULES
