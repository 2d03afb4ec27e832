#!/usr/bin/env bash
# Install what `make demo` and `make test` need on a fresh Debian machine.
# Safe to repeat: every step checks before it acts.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(mosquitto xvfb xauth libgl1-mesa-dri libegl1 libgles2 fonts-noto-cjk chromium espeak-ng mtools dosfstools fdisk systemd shellcheck)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ]; then
    echo "bootstrap: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "bootstrap: missing Debian packages: ${missing[*]}" >&2
    echo "bootstrap: run as root once, or: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
# The pinned, hashed lock of this machine's kind (`make lock` writes it from pyproject.toml);
# the package itself goes in editable on top, without touching the pins.
lock=requirements/$(uname -m).txt
if [ "$(uname -m)" != x86_64 ]; then
  lock=none  # aarch64.txt is the image's kiosk alone; a development machine needs the hub and dev too
fi
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ "$lock" -nt "$stamp" ]; then
  if [ "$lock" != none ]; then
    if ! lacking=$(python3 scripts/lock_check.py "$lock"); then
      echo "bootstrap: $lock lacks $lacking from pyproject.toml: run \`make lock\` and commit it" >&2
      exit 1
    fi
    echo "bootstrap: installing the pinned Python packages of $lock into .venv (log: .venv/pip.log)"
    install=(.venv/bin/pip install --require-hashes -r "$lock")
  else
    echo "bootstrap: no lock for $(uname -m): installing the newest releases (log: .venv/pip.log)"
    install=(.venv/bin/pip install ".[kiosk,hub,dev]")
  fi
  if ! { "${install[@]}" && .venv/bin/pip install --no-deps -e .; } >.venv/pip.log 2>&1; then
    tail -n 30 .venv/pip.log >&2
    echo "bootstrap: pip install failed; see .venv/pip.log" >&2
    exit 1
  fi
  touch "$stamp"
fi

# The apps read compiled gettext catalogs (.mo), which are not in git: compile those whose .po
# changed. The image build runs this too (make image -> setup), so its wheel carries them.
.venv/bin/python -m kiosk.devtools.catalogs compile

# Kivy opens the CJK face once per font size; the flattened copy costs 0.7 MB a size instead of
# 2.4 MB (kiosk/fonts.py). Made once per machine into ~/.cache/member-kiosk (or $KIOSK_CACHE).
if ! .venv/bin/python -c 'from kiosk import fonts; import sys; sys.exit(not all(fonts.flat_face_path(w).exists() for w in ("Regular", "Bold")))'; then
  echo "bootstrap: flattening the CJK fonts for the kiosk (once per machine, a minute or two)"
  .venv/bin/python -m kiosk.fonts >/dev/null
fi
