#!/usr/bin/env bash
# Sets up sensegraph on a fresh Debian machine and runs the main job on the embedded store (no server):
# WordNet 3.0 and the Open Clip Art drawings from Debian, the Python package, then `sensegraph demo`.
# Extra arguments go to `sensegraph demo` (e.g. --store DIR).
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(wordnet-base openclipart-png)
missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

python3 -m pip install -q -e .
sensegraph demo "$@"
