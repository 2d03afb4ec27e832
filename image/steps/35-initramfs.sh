#!/usr/bin/env bash
# Build the initramfs exactly once, after every package is installed.
# 00-essential.sh diverted update-initramfs to a no-op for the package install;
# undo that and create the initramfs of the installed kernel. Its post-update
# hook runs raspi-firmware's kernel hook, which copies kernel, initrd and device
# trees to /boot/firmware and writes config.txt (the hook does nothing while
# there is no initrd, so this runs before 40-system.sh). Safe to rerun (RESUME_FROM); a rerun
# keeps the initramfs when nothing it is made of changed.
set -euo pipefail
root=$1
started=$(date +%s)
if chroot "$root" dpkg-divert --list /usr/sbin/update-initramfs | grep -q kiosk-build; then
  rm -f "$root/usr/sbin/update-initramfs"
  chroot "$root" dpkg-divert --local --rename \
    --divert /usr/sbin/update-initramfs.kiosk-build --remove /usr/sbin/update-initramfs
fi
if chroot "$root" dpkg-divert --list | grep -q update-initramfs; then
  echo "35-initramfs: update-initramfs is still diverted" >&2
  exit 1
fi
# The real script, owned by initramfs-tools, and not the build's stub.
chroot "$root" dpkg -S /usr/sbin/update-initramfs
if grep -q 'deferred to the image build' "$root/usr/sbin/update-initramfs"; then
  echo "35-initramfs: /usr/sbin/update-initramfs is still the build's stub" >&2
  exit 1
fi
# MODULES=most (initramfs-tools' default) stays: MODULES=dep would look at the
# build machine's modules, not the Pi's (mmc, usb) or qemu's (virtio).
grep -q '^MODULES=most' "$root/etc/initramfs-tools/initramfs.conf"

kernels=("$root"/lib/modules/*)
if ((${#kernels[@]} != 1)) || [ ! -d "${kernels[0]}" ]; then
  echo "35-initramfs: expected one kernel in /lib/modules, found: ${kernels[*]}" >&2
  exit 1
fi
version=$(basename "${kernels[0]}")
initrd=$root/boot/initrd.img-$version
# Kept when nothing it is made of changed since it was built (a RESUME_FROM=30 rerun for
# the app's venv): initramfs-tools' settings and hooks, modprobe settings, the kernel and its
# modules. By change time (ctime), which copying a file with its old mtime still moves.
# mkinitramfs under qemu-user costs 10-25 minutes; delete the initrd to force it.
if [ -f "$initrd" ] && [ -z "$(find "$root/etc/initramfs-tools" "$root/usr/share/initramfs-tools" \
  "$root/etc/modprobe.d" "$root/lib/modules/$version" "$root/boot/vmlinuz-$version" \
  -cnewer "$initrd" -print -quit)" ]; then
  echo "35-initramfs: nothing it is made of changed since $(date -r "$initrd" -u +%FT%TZ): kept"
else
  rm -f "$initrd"
  chroot "$root" update-initramfs -c -k "$version"
fi
if ! cmp -s "$root/boot/initrd.img-$version" "$root/boot/firmware/initrd.img-$version"; then
  chroot "$root" env DEB_MAINT_PARAMS=configure /etc/kernel/postinst.d/z50-raspi-firmware "$version"
fi
cmp "$root/boot/initrd.img-$version" "$root/boot/firmware/initrd.img-$version"
cmp "$root/boot/vmlinuz-$version" "$root/boot/firmware/vmlinuz-$version"
grep -q "^initramfs initrd.img-$version" "$root/boot/firmware/config.txt"
ls -l "$root/boot/initrd.img-$version" "$root/boot/firmware/initrd.img-$version"
echo "35-initramfs: built in $(($(date +%s) - started)) s"
