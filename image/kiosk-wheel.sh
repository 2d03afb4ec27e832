#!/usr/bin/env bash
# The kiosk wheel, built from a clean copy of the source tree, so the tree is left
# as it was (pip's in-tree build leaves member_kiosk.egg-info and build/ behind).
#
#   bash image/kiosk-wheel.sh WHEEL_DIR
#
# Tracked files are taken as they are in the work tree, committed or not (`git stash
# create` makes a commit of them without touching the tree, the index or the stash
# list), so a "-dirty" image carries the changes its name admits; untracked files
# stay out, as they would in a clone.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
wheel_dir=$1
python=${PYTHON:-$repo/.venv/bin/python}
snapshot=$(git -C "$repo" stash create)
copy=$(mktemp -d)
trap 'rm -rf "$copy"' EXIT
git -C "$repo" archive "${snapshot:-HEAD}" | tar -x -C "$copy"
# The .mo catalogs are built files (not in git); the wheel carries them.
(cd "$copy" && PYTHONPATH=$copy "$python" -m kiosk.devtools.catalogs compile >/dev/null)
mkdir -p "$wheel_dir"
"$python" -m pip wheel -q --no-deps --wheel-dir "$wheel_dir" "$copy"
