"""The committed core eval set loads, resolves from the installed packages, and splits deterministically."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from sensegraph.errors import ValidationError
from sensegraph.evaluation.dataset import EvalDataMissing, cold_partition, load_evalset, resolve_media

CORE = Path(__file__).resolve().parents[3] / "evalsets" / "core"
WORDNET = Path("/usr/share/wordnet/data.noun")


@pytest.fixture(scope="module")
def core():
    return load_evalset(CORE)


def test_core_sizes_and_kinds(core):
    assert 150 <= len(core.media) <= 300
    assert len(core.queries) >= 150
    kinds = Counter(q.kind for q in core.queries)
    assert set(kinds) == {"plain", "ambiguous", "ambiguous_context"}
    assert {q.split for q in core.queries} == {"dev", "test"}


def test_every_medium_resolves_to_a_readable_small_image(core):
    if not Path("/usr/share/openclipart/png").is_dir():
        pytest.skip("openclipart-png not installed")
    for m in core.media:
        path = resolve_media(m.media, core.root)
        with Image.open(path) as im:
            assert max(im.size) <= 4000, (m.id, im.size)


@pytest.mark.skipif(not WORDNET.is_file(), reason="wordnet-base not installed")
def test_senses_are_wordnet_noun_synsets(core):
    with WORDNET.open("rb") as fh:
        for sid in {s for m in core.media for s in m.senses} | {s for q in core.queries for s in q.target_senses}:
            fh.seek(int(sid[1:]))
            assert fh.readline().startswith(sid[1:].encode()), sid


def test_both_senses_of_each_ambiguous_word_have_media(core):
    for q in core.select(kinds=["ambiguous"]):
        assert len(q.target_senses) >= 2, q.id
        for s in q.target_senses:
            assert any(s in core.by_id[g].senses for g in q.gold), (q.id, s)


def test_cold_partition_is_deterministic_and_half_per_sense(core):
    cap, gal = cold_partition(core.media)
    assert (cap, gal) == cold_partition(list(reversed(core.media)))
    assert not set(cap) & set(gal) and len(cap) + len(gal) == len(core.media)
    by_sense = Counter(core.by_id[i].senses[0] for i in cap)
    for sense, n in Counter(m.senses[0] for m in core.media).items():
        assert by_sense[sense] == (n + 1) // 2


def test_resolver_names_the_package_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("SENSEGRAPH_OPENCLIPART_DIR", str(tmp_path / "nowhere"))
    monkeypatch.setattr("sensegraph.evaluation.dataset.DEB_ROOTS",
                        {"openclipart-png": (str(tmp_path / "nowhere"), "SENSEGRAPH_OPENCLIPART_DIR")})
    with pytest.raises(EvalDataMissing, match="apt-get install openclipart-png"):
        resolve_media("deb:openclipart-png:animals/seal.png")
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    with pytest.raises(EvalDataMissing, match="pip install scikit-image"):
        resolve_media("pkg:skimage:astronaut.png")
    with pytest.raises(ValidationError, match="unknown package scheme"):
        resolve_media("pkg:nope:x.png")


def test_bad_lines_are_named(tmp_path):
    (tmp_path / "media.jsonl").write_text(json.dumps({"id": "a", "media": "x.png", "caption": "c", "senses": ["n1"]}) + "\n")
    (tmp_path / "queries.jsonl").write_text("")
    with pytest.raises(ValidationError, match=r"media.jsonl:1: sense 'n1'"):
        load_evalset(tmp_path)
    (tmp_path / "media.jsonl").write_text(json.dumps({"id": "a", "media": "x.png", "caption": "c", "senses": ["n00000001"]}) + "\n")
    (tmp_path / "queries.jsonl").write_text(json.dumps({"id": "q", "text": "t", "kind": "plain", "gold": ["b"], "split": "dev"}) + "\n")
    with pytest.raises(ValidationError, match=r"queries.jsonl:1: gold ids \['b'\]"):
        load_evalset(tmp_path)
