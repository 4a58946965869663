"""What the CLI puts on the terminal and what it loads: no torch for model-free commands, no third-party
progress bars or warnings, and phase lines of our own from ``eval`` and ``propagate`` when piped.

Every command runs as a real process (``python -m sensegraph``), with stdout and stderr piped.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "evalsets" / "core"
HAVE_OPENCLIPART = Path("/usr/share/openclipart/png").is_dir()
MOUSE_SENSES = ["n02330245", "n03793489", "n02342885"]  # mouse (animal), computer mouse, hamster
THIRD_PARTY_NOISE = ("Loading weights", "%|", "jit.script", "is deprecated", "FutureWarning", "UserWarning")

# Runs one CLI command in-process and reports on stderr whether torch got imported.
CHECK_TORCH = """
import json, sys
from sensegraph.cli import app
try:
    app(args=sys.argv[1:], prog_name="sensegraph")
except SystemExit as exc:
    code = exc.code or 0
else:
    code = 0
print("TORCH-IMPORTED" if "torch" in sys.modules else "NO-TORCH", file=sys.stderr)
heavy = ("transformers", "timm", "efficientnet_lite_pytorch", "torch_geometric", "open_clip")
print("HEAVY " + json.dumps(sorted(m for m in heavy if m in sys.modules)), file=sys.stderr)
sys.exit(code)
"""


def _run(args: list[str], *, cache: Path | None = None, script: str | None = None, timeout: int = 600):
    env = dict(os.environ)
    if cache is not None:
        env["SENSEGRAPH_CACHE_DIR"] = str(cache)  # an empty embedding cache: the models must load
    cmd = [sys.executable, "-c", script, *args] if script else [sys.executable, "-m", "sensegraph", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


def _kg_store(path: Path) -> Path:
    from sensegraph.graph.embedded import EmbeddedStore
    from sensegraph.graph.importers import import_wordnet

    store = EmbeddedStore(path)
    try:
        import_wordnet(store, synsets=MOUSE_SENSES)
    finally:
        store.close()
    return path


@pytest.fixture(scope="module")
def kg_store(tmp_path_factory) -> Path:
    """An embedded store holding a WordNet subgraph and nothing else (no model needed to build it)."""
    return _kg_store(tmp_path_factory.mktemp("kg") / "store")


@pytest.mark.parametrize("args", [
    ["--help"], ["version"], ["stats"], ["stats", "--json"], ["sense", "n02330245"], ["config"],
    ["search", "--help"], ["eval", "--help"], ["propagate", "--help"],
])
def test_model_free_commands_do_not_import_torch(kg_store, args):
    needs_store = args[0] in ("stats", "sense", "config") and "--help" not in args
    out = _run([*args, *(["--store", str(kg_store)] if needs_store else [])], script=CHECK_TORCH, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stderr.strip().splitlines()[-2] == "NO-TORCH", f"{args} imported torch"


def test_the_torch_check_sees_a_command_that_loads_torch(kg_store, tmp_path):
    """The check above can fail: ``link`` needs the text model (and torch) for an ambiguous word."""
    out = _run(["link", "a mouse next to the keyboard of a computer", "--store", str(kg_store)],
               cache=tmp_path / "cache", script=CHECK_TORCH, timeout=600)
    assert out.returncode == 0, out.stderr
    assert out.stderr.strip().splitlines()[-2] == "TORCH-IMPORTED"


@pytest.fixture(scope="module")
def media_store(tmp_path_factory) -> Path:
    """The subgraph plus four real packaged drawings ingested with captions (media prototypes built)."""
    from sensegraph import SenseGraph
    from sensegraph.evaluation.dataset import load_evalset, resolve_media

    path = _kg_store(tmp_path_factory.mktemp("media") / "store")
    evalset = load_evalset(CORE)
    rows = [m for m in evalset.media if m.id in ("mouse-animal-1", "hamster-1", "mouse-device-1", "mouse-device-2")]
    with SenseGraph(str(path), config={"propagation": {"method": "gnn"}}) as sg:  # `propagate` trains (phases below)
        sg.save_config()
        sg.ingest([{"id": m.id, "media": str(resolve_media(m.media)), "text": m.caption} for m in rows])
    return path


def _assert_quiet(stderr: str) -> None:
    noisy = [line for line in stderr.splitlines() if any(n in line for n in THIRD_PARTY_NOISE)]
    assert not noisy, "third-party progress or warnings on stderr:\n" + "\n".join(noisy)
    assert "\r" not in stderr, "a progress bar redrew itself on a pipe"


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_OPENCLIPART, reason="openclipart-png not installed")
def test_search_loads_only_the_text_model_and_prints_no_loader_bar(media_store, tmp_path):
    out = _run(["search", "a grey mouse with a long tail", "--store", str(media_store), "--json"],
               cache=tmp_path / "empty-cache", script=CHECK_TORCH)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.splitlines()[-1])["results"], out.stdout
    lines = out.stderr.strip().splitlines()
    assert lines[-2] == "TORCH-IMPORTED"  # MiniLM embedded the query (the cache was empty)
    assert json.loads(lines[-1].removeprefix("HEAVY ")) == [], "search loaded an image model or transformers"
    _assert_quiet("\n".join(lines[:-2]))


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_OPENCLIPART, reason="openclipart-png not installed")
def test_propagate_prints_its_phases_as_lines_when_piped_and_nothing_from_pyg_or_transformers(media_store, tmp_path):
    out = _run(["propagate", "--store", str(media_store)], cache=tmp_path / "empty-cache")
    assert out.returncode == 0, out.stderr
    lines = out.stderr.splitlines()
    for phase in ("gloss embedding", "training", "inference", "writing prototypes"):
        assert f"{phase}: started" in "\n".join(lines), out.stderr
        assert any(line.startswith(f"{phase}: done") for line in lines), out.stderr
    assert "propagated prototypes" in out.stdout
    _assert_quiet(out.stderr)


@pytest.fixture
def tiny_evalset(tmp_path) -> Path:
    """Six mouse / hamster drawings of the core set, one dev and two test queries."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    keep = {"mouse-animal-1", "hamster-1", "mouse-device-1", "mouse-device-2", "mouse-device-3", "mouse-device-4"}
    media = [line for line in (CORE / "media.jsonl").read_text().splitlines() if json.loads(line)["id"] in keep]
    (folder / "media.jsonl").write_text("\n".join(media) + "\n")
    queries = [
        {"id": "d1", "text": "computer mouse", "kind": "plain", "gold": ["mouse-device-1", "mouse-device-2"],
         "split": "dev", "target_senses": ["n03793489"]},
        {"id": "t1", "text": "a hamster", "kind": "plain", "gold": ["hamster-1"], "split": "test",
         "target_senses": ["n02342885"]},
        {"id": "t2", "text": "a mouse with a long tail", "kind": "ambiguous", "gold": ["mouse-animal-1"],
         "split": "test", "target_senses": ["n02330245"]},
    ]
    (folder / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries))
    return folder


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_OPENCLIPART, reason="openclipart-png not installed")
def test_eval_prints_a_line_for_every_long_phase_when_piped(tiny_evalset, tmp_path):
    out = _run(["eval", str(tiny_evalset), "--store", str(tmp_path / "eval"), "--protocol", "captioned",
                "--mode", "text-only", "--mode", "sense-aware"], cache=tmp_path / "empty-cache")
    assert out.returncode == 0, out.stderr
    text = out.stderr
    for phase in ("WordNet import", "captioned: ingest", "linking queries",
                  "captioned/sense-aware: calibrating α, β", "captioned/text-only: test queries",
                  "captioned/sense-aware: test queries"):
        assert f"{phase}: started" in text and f"{phase}: done" in text, text
    assert "captioned: ingest: done, 6/6 media" in text
    assert "hit@1" in out.stdout
    _assert_quiet(text)
