#!/usr/bin/env bash
# The unprivileged kiosk user: display (video, render), input devices, serial
# and USB printers (dialout, lp), sound for voice prompts (audio).
set -euo pipefail
root=$1
chroot "$root" id kiosk >/dev/null 2>&1 || chroot "$root" useradd --system --home-dir /var/lib/kiosk --no-create-home \
  --shell /usr/sbin/nologin --user-group \
  --groups video,render,input,dialout,lp,audio kiosk
chroot "$root" id kiosk
