#!/usr/bin/env bash
# Before the kernel is installed: the places its hooks write to, the modules
# the initramfs must carry (virtio for qemu boot tests; the Pi's own drivers
# come with MODULES=most), and update-initramfs diverted to a no-op.
#
# Without the diversion the package install runs mkinitramfs twice under
# qemu-user (the kernel's postinst hook, then initramfs-tools' trigger), about
# 20 minutes on the 2-core build machine. Step 35-initramfs.sh removes the
# diversion and builds the initramfs once, at the end.
set -euo pipefail
root=$1
mkdir -p "$root/boot/firmware" "$root/usr/share/initramfs-tools/modules.d"
cat > "$root/usr/share/initramfs-tools/modules.d/kiosk" <<'MODULES'
virtio_pci
virtio_mmio
virtio_blk
virtio_net
MODULES

chroot "$root" dpkg-divert --local --rename \
  --divert /usr/sbin/update-initramfs.kiosk-build --add /usr/sbin/update-initramfs
cat > "$root/usr/sbin/update-initramfs" <<'STUB'
#!/bin/sh
# Member Kiosk image build: update-initramfs is deferred to step 35-initramfs.sh.
echo "update-initramfs $*: deferred to the image build's step 35" >&2
exit 0
STUB
chmod 0755 "$root/usr/sbin/update-initramfs"
