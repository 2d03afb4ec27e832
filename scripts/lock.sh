#!/usr/bin/env bash
# `make lock`: refresh the pinned, hashed dependency locks from pyproject.toml.
#   requirements/x86_64.txt   development and CI: kiosk, hub and dev extras (scripts/bootstrap.sh)
#   requirements/aarch64.txt  the SD-card image: the kiosk alone (image/steps/30-venv.sh)
# Pins that still satisfy pyproject.toml are kept, so adding a package moves nothing else;
# `make lock UPGRADE=1` moves every pin to the newest release.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
if ! .venv/bin/python -m uv --version >/dev/null 2>&1; then
  .venv/bin/pip install -q uv
fi
upgrade=()
if [ "${UPGRADE:-0}" = 1 ]; then
  upgrade=(--upgrade)
fi

# $1: the machine kind (the extras of its lock: scripts/lock_check.py); Debian bookworm on both
# (glibc 2.36, Python 3.11)
compile() {
  local kind=$1 out=requirements/$1.txt
  local extras
  read -r -a extras <<<"$(python3 scripts/lock_check.py --extras "$kind")"
  .venv/bin/python -m uv pip compile pyproject.toml "${extras[@]}" --generate-hashes --quiet \
    --python-version 3.11 --python-platform "$kind-manylinux_2_36" \
    --custom-compile-command "make lock" "${upgrade[@]}" -o "$out"
  echo "lock: $out ($(grep -c '^[A-Za-z0-9]' "$out") packages)"
}

mkdir -p requirements
compile x86_64
compile aarch64
