"""The README's first Python example runs as written, in an empty directory, in a new process."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def first_python_block(text: str) -> str:
    """The body of the first fenced ```python block."""
    found = re.search(r"^```python\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)
    assert found, "README.md has no ```python block"
    return found.group(1)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/usr/share/wordnet/data.noun").is_file() or not Path("/usr/share/openclipart/png").is_dir(),
                    reason="needs Debian's wordnet-base and openclipart-png, as the README says")
def test_the_readme_python_example_runs_in_an_empty_directory(tmp_path):
    code = first_python_block(README.read_text(encoding="utf-8"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENSEGRAPH_") or k == "SENSEGRAPH_CACHE_DIR"}
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    assert len(lines) == 5, proc.stdout  # three hits, the pinned search, the text-only search
    assert lines[0].startswith("1 ") and "n03793489" in lines[0]  # the keyboard's mouse: the device sense
    assert "('mouse', 'n02330245', True)" in lines[3]  # the pin shows in the linked output
    assert (tmp_path / "sensegraph-data").is_dir()
