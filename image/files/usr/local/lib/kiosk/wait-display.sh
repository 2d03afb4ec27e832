#!/bin/sh
# Wait until a DRM card with a display connector exists (kiosk.service's ExecStartPre).
# The display driver (vc4 on the Pi 4, virtio-gpu under QEMU) is a module that udev
# loads during coldplug, possibly after the app would start. Starting SDL before
# the card is there fails and costs a crash and a restart; waiting costs nothing.
# Gives up after $1 seconds (default 20) and lets the app try anyway: a terminal
# without a display then shows up as a failing kiosk.service, not as a hang.
set -eu
limit=${1:-20}
waited=0
while :; do
  for connector in /sys/class/drm/card*-*; do
    if [ -e "$connector/status" ]; then
      [ "$waited" -gt 0 ] && echo "wait-display: $(basename "$connector") after ${waited} s"
      exit 0
    fi
  done
  if [ "$waited" -ge "$limit" ]; then
    echo "wait-display: no DRM connector after ${limit} s; starting anyway / 等待显示屏超时" >&2
    exit 0
  fi
  sleep 1
  waited=$((waited + 1))
done
