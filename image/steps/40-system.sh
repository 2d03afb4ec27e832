#!/usr/bin/env bash
# System settings: boot command line, read-only root, networking, units enabled,
# and nothing per-device (no machine-id, no host keys, no kiosk.toml).
set -euo pipefail
root=$1
# raspi-firmware's kernel hook copies kernel, initrd and device trees to /boot/firmware;
# run it again in case it skipped because nothing was mounted there.
if ! ls "$root"/boot/firmware/vmlinuz-* >/dev/null 2>&1; then
  for kernel in "$root"/lib/modules/*; do
    chroot "$root" /etc/kernel/postinst.d/z50-raspi-firmware "$(basename "$kernel")" \
      || echo "40-system: WARNING: raspi-firmware hook failed for $(basename "$kernel")" >&2
  done
fi
# The firmware's kernel command line: root by label, mounted read-only.
grep -q '^ROOTPART=LABEL=kiosk-root' "$root/etc/default/raspi-firmware" \
  || echo 'ROOTPART=LABEL=kiosk-root' >> "$root/etc/default/raspi-firmware"
cat > "$root/boot/firmware/cmdline.txt" <<'CMDLINE'
console=tty3 root=LABEL=kiosk-root ro rootwait fsck.repair=yes net.ifnames=0 quiet loglevel=3 vt.global_cursor_default=0
CMDLINE
ls -l "$root/boot/firmware"
test -s "$root/boot/firmware/config.txt"

echo kiosk > "$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tkiosk\n' > "$root/etc/hosts"
ln -sf /usr/share/zoneinfo/Asia/Shanghai "$root/etc/localtime"
echo Asia/Shanghai > "$root/etc/timezone"
# Empty machine-id: systemd makes a new one on each card's first boot; first boot commits it.
: > "$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"

# Mount points of the data partition and what is bound from it.
mkdir -p "$root/data" "$root/var/lib/kiosk"

chroot "$root" systemctl enable systemd-networkd systemd-resolved systemd-timesyncd \
  kiosk-growdata.service kiosk-firstboot.service kiosk.service kiosk-sync.service \
  kiosk-update.path kiosk-update.timer
# Not wpa_supplicant@wlan0: udev starts it when a wlan0 appears (80-kiosk-wifi.rules).
# The app owns tty1: no login prompt there.
rm -f "$root/etc/systemd/system/getty.target.wants/getty@tty1.service"
chroot "$root" systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer \
  fstrim.timer

# Root has no password and no shell login on the console: service happens through
# the hub and a fresh provisioning file, never by typing on the terminal.
chroot "$root" passwd -l root
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
# /tmp is a tmpfs on the terminal; leave nothing from the build under it.
find "$root/tmp" -mindepth 1 -delete
