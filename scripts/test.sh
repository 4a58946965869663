#!/usr/bin/env bash
# Sets up everything the test suite needs on a fresh Debian machine and runs it:
# Debian packages (WordNet, clip art, Chromium), the Python package with test extras,
# a real Neo4j 5.26 from Maven Central (started by `sensegraph neo4j start`), then pytest.
# Exits with pytest's status. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(wordnet-base openclipart-png chromium chromium-driver)
missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

python3 -m pip install -q -e ".[test,video]"

NEO4J_DATA="${SENSEGRAPH_TEST_NEO4J_DATA:-$(mktemp -d /tmp/sensegraph-neo4j.XXXXXX)}"
NEO4J_PORT="${SENSEGRAPH_TEST_NEO4J_PORT:-7687}"
sensegraph neo4j start --port "$NEO4J_PORT" --data "$NEO4J_DATA"
trap 'sensegraph neo4j stop --data "$NEO4J_DATA" || true' EXIT
export SENSEGRAPH_TEST_NEO4J="bolt://127.0.0.1:${NEO4J_PORT}"

python3 -m pytest -q "$@"
