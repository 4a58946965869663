"""The README's two set-up commands install into a project venv and run from it, never the system Python.

A fresh Debian machine cannot be had inside a test, so the programs the scripts call on one (dpkg,
apt-get, python3) are stand-ins on PATH that behave like Debian's: ``python3 -m venv`` fails until
``python3-venv`` is installed, and the system ``python3`` refuses ``pip install`` (PEP 668). The
scripts themselves run unchanged; CI (``.ci/run``) runs them for real on a fresh venv.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

STUBS = {
    "sudo": """#!/bin/sh
"$@"
""",
    "dpkg": """#!/bin/sh
echo "dpkg $*" >> "$CALLS"
grep -qx "$2" "$INSTALLED"
""",
    "apt-get": """#!/bin/sh
echo "apt-get $*" >> "$CALLS"
[ "$1" = install ] || exit 0
for p in "$@"; do case "$p" in -*|install) ;; *) echo "$p" >> "$INSTALLED" ;; esac; done
""",
    "python3": """#!/bin/sh
echo "python3 $*" >> "$CALLS"
if [ "$1 $2" = "-m venv" ]; then
  mkdir -p "$3/bin"
  if ! grep -qx python3-venv "$INSTALLED"; then
    printf '#!/bin/sh\\nexit 1\\n' > "$3/bin/python"; chmod +x "$3/bin/python"
    echo "The virtual environment was not created successfully because ensurepip is not available." >&2
    exit 1
  fi
  for tool in python sensegraph; do
    printf '#!/bin/sh\\necho "venv-%s $*" >> "$CALLS"\\n' "$tool" > "$3/bin/$tool"; chmod +x "$3/bin/$tool"
  done
  exit 0
fi
echo "error: externally-managed-environment" >&2
exit 1
""",
}


def run_script(tmp_path: Path, script: str, *args: str, installed: tuple[str, ...] = ()) -> tuple[subprocess.CompletedProcess, list[str]]:
    stubs = tmp_path / "stubs"
    stubs.mkdir(exist_ok=True)
    for name, body in STUBS.items():
        (stubs / name).write_text(body)
        (stubs / name).chmod(0o755)
    calls, inst = tmp_path / "calls.log", tmp_path / "installed"
    inst.write_text("".join(p + "\n" for p in installed))
    env = {**os.environ, "PATH": f"{stubs}:/usr/bin:/bin", "CALLS": str(calls), "INSTALLED": str(inst),
           "SENSEGRAPH_VENV": str(tmp_path / "venv"), "SENSEGRAPH_TEST_NEO4J_DATA": str(tmp_path / "neo4j")}
    proc = subprocess.run(["bash", str(ROOT / "scripts" / script), *args], env=env, capture_output=True, text=True, timeout=60)
    return proc, calls.read_text().splitlines() if calls.exists() else []


def test_demo_installs_the_base_package_into_a_venv_and_runs_from_it(tmp_path):
    proc, calls = run_script(tmp_path, "demo.sh", "--store", "S", installed=("wordnet-base", "openclipart-png"))
    assert proc.returncode == 0, proc.stderr
    venv = tmp_path / "venv"
    # python3 -m venv failed (no ensurepip), python3-venv came from apt, the venv was made again
    assert calls.count(f"python3 -m venv {venv}") == 2
    assert "apt-get install -y -qq python3-venv" in calls
    assert "venv-python -m pip install -q -e ." in calls  # the base install: no extras
    assert calls[-1] == "venv-sensegraph demo --store S"
    assert not [c for c in calls if c.startswith("python3 -m pip")], "pip ran in the system Python"
    assert f". {venv}/bin/activate" in proc.stderr


def test_test_script_installs_the_extras_into_the_venv_and_runs_pytest_from_it(tmp_path):
    have = ("wordnet-base", "openclipart-png", "chromium", "chromium-driver", "python3-venv")
    proc, calls = run_script(tmp_path, "test.sh", "tests/api", installed=have)
    assert proc.returncode == 0, proc.stderr
    assert not [c for c in calls if c.startswith("apt-get")], "nothing was missing, nothing to install"
    assert 'venv-python -m pip install -q -e .[test,video,audio]' in calls
    assert "venv-python -m pytest -q tests/api" in calls
    started = [c for c in calls if c.startswith("venv-sensegraph neo4j start")]
    assert started and calls[-1].startswith("venv-sensegraph neo4j stop")


def test_only_missing_debian_packages_are_installed(tmp_path):
    proc, calls = run_script(tmp_path, "demo.sh", installed=("wordnet-base", "python3-venv"))
    assert proc.returncode == 0, proc.stderr
    assert "apt-get install -y -qq openclipart-png" in calls


@pytest.mark.parametrize("script", ["demo.sh", "test.sh"])
def test_a_broken_existing_venv_is_reported_not_replaced(tmp_path, script):
    venv = tmp_path / "venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "python").write_text("#!/bin/sh\nexit 1\n")
    (venv / "python").chmod(0o755)
    proc, _ = run_script(tmp_path, script, installed=("wordnet-base", "openclipart-png", "chromium", "chromium-driver"))
    assert proc.returncode != 0 and "without a working pip; remove it" in proc.stderr
    assert (venv / "python").exists()
