#!/usr/bin/env bash
# Sets up sensegraph on a fresh Debian machine and runs the main job on the embedded store (no server):
# WordNet 3.0 and the Open Clip Art drawings from Debian, the package with only its base dependencies
# into the project virtual environment (.venv, or $SENSEGRAPH_VENV), then `sensegraph demo` from it.
# Extra arguments go to `sensegraph demo` (e.g. --store DIR). Afterwards: . .venv/bin/activate
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_setup.sh

apt_install wordnet-base openclipart-png
make_venv "$VENV"
"$VENV/bin/python" -m pip install -q -e .
"$VENV/bin/sensegraph" demo "$@"
