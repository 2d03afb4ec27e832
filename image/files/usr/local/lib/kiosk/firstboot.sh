#!/bin/sh
# Install kiosk.toml from the boot partition (see kiosk/firstboot.py).
# Called by kiosk-firstboot.service with the root file system opened for writing.
set -eu
exec /opt/kiosk/bin/python -m kiosk.firstboot --root / "$@"
