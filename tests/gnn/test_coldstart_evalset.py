"""evalsets/coldstart: the committed manifest is what its builder makes, with the checked drops and fixes applied."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parents[2] / "evalsets" / "coldstart"


@pytest.fixture(scope="module")
def builder():
    spec = importlib.util.spec_from_file_location("coldstart_build", HERE / "build_manifest.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    if not mod.ROOT.is_dir():
        pytest.skip(f"openclipart-png is not installed ({mod.ROOT}); apt-get install openclipart-png")
    return mod


def _read(name: str) -> list[dict]:
    return [json.loads(line) for line in open(HERE / name, encoding="utf-8")]


def test_builder_reproduces_the_committed_files(builder):
    media, queries = builder.build()
    assert media == _read("media.jsonl")
    assert queries == _read("queries.jsonl")


def test_checked_drops_and_fixes_hold(builder):
    media = {m["media"][len(builder.OC):]: m for m in _read("media.jsonl")}
    assert not set(builder.WRONG) & set(media)
    for path, sense in builder.FIX.items():
        assert media[path]["senses"] == [sense], path
    _index, _parents, info = builder.read_wordnet()
    assert all(s in info for m in media.values() for s in m["senses"])  # WordNet 3.0 noun synsets
    assert all((builder.ROOT / p).is_file() for p in media)


def test_every_medium_is_gold_for_exactly_its_sense():
    media = {m["id"]: m["senses"][0] for m in _read("media.jsonl")}
    queries = _read("queries.jsonl")
    gold = [g for q in queries for g in q["gold"]]
    assert sorted(gold) == sorted(media)
    assert all(media[g] == q["target_senses"][0] for q in queries for g in q["gold"])
    assert len(queries) == len(set(media.values()))
