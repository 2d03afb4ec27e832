#!/usr/bin/env bash
# Copy the image/files tree and the systemd units into the root file system.
set -euo pipefail
root=$1
cp -a "$REPO/image/files/." "$root/"
install -m 0644 "$REPO"/systemd/kiosk.service "$REPO"/systemd/kiosk-sync.service \
  "$REPO"/systemd/kiosk-firstboot.service "$REPO"/systemd/kiosk-growdata.service \
  "$REPO"/systemd/kiosk-update.service "$REPO"/systemd/kiosk-update.path \
  "$REPO"/systemd/kiosk-update.timer "$root/etc/systemd/system/"
chmod 0755 "$root"/usr/local/lib/kiosk/*
