#!/usr/bin/env bash
# Sets up everything the test suite needs on a fresh Debian machine and runs it:
# Debian packages (WordNet, clip art, Chromium), the package with its test extras in the project
# virtual environment (.venv, or $SENSEGRAPH_VENV), a real Neo4j 2026.08 from Maven Central (started
# by `sensegraph neo4j start`), then pytest from that venv. Exits with pytest's status.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_setup.sh

apt_install wordnet-base openclipart-png chromium chromium-driver
make_venv "$VENV"
"$VENV/bin/python" -m pip install -q -e ".[test,video,audio]"

NEO4J_DATA="${SENSEGRAPH_TEST_NEO4J_DATA:-$(mktemp -d /tmp/sensegraph-neo4j.XXXXXX)}"
NEO4J_PORT="${SENSEGRAPH_TEST_NEO4J_PORT:-7687}"
"$VENV/bin/sensegraph" neo4j start --port "$NEO4J_PORT" --data "$NEO4J_DATA"
trap '"$VENV/bin/sensegraph" neo4j stop --data "$NEO4J_DATA" || true' EXIT
export SENSEGRAPH_TEST_NEO4J="bolt://127.0.0.1:${NEO4J_PORT}"

"$VENV/bin/python" -m pytest -q "$@"
