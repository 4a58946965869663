"""``evaluate_matcher`` (``sensegraph eval --matcher``) end to end on a small eval set built from evalsets/core."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from sensegraph.evaluation.dataset import load_evalset
from sensegraph.evaluation.matcher_eval import evaluate_matcher
from sensegraph.evaluation.nomatch import load_nomatch

CORE = Path(__file__).parents[2] / "evalsets" / "core"
WORDS = ("key-lock", "key-lever", "bat-club", "bat-animal", "mouse-device", "mouse-animal", "turkey-meat", "turkey-bird")
QUERIES = [  # (id, text, split, gold prefix)
    ("q1", "a key for the front door lock", "dev", "key-lock"),
    ("q2", "a baseball bat", "dev", "bat-club"),
    ("q3", "a bat flying at night", "test", "bat-animal"),
    ("q4", "a mouse next to the keyboard", "test", "mouse-device"),
    ("q5", "roast turkey for dinner", "test", "turkey-meat"),
]
NOMATCH = [("n1", "a giraffe eating leaves from a tall tree", "dev"), ("n2", "a snowman with a carrot nose", "dev"),
           ("n3", "a sailing boat on a calm sea", "test"), ("n4", "a birthday cake with lit candles", "test")]


@pytest.fixture
def small_evalset(tmp_path):
    media = [json.loads(line) for line in (CORE / "media.jsonl").read_text().splitlines()]
    media = [m for m in media if m["id"].rsplit("-", 1)[0] in WORDS]
    root = tmp_path / "small"
    root.mkdir()
    (root / "media.jsonl").write_text("".join(json.dumps(m) + "\n" for m in media))
    ids = [m["id"] for m in media]
    (root / "queries.jsonl").write_text("".join(
        json.dumps({"id": q, "text": t, "kind": "ambiguous_context", "split": s, "gold": [i for i in ids if i.startswith(g)]}) + "\n"
        for q, t, s, g in QUERIES))
    (root / "queries.nomatch.jsonl").write_text("".join(
        json.dumps({"id": q, "text": t, "kind": "nomatch", "gold": [], "split": s}) + "\n" for q, t, s in NOMATCH))
    return load_evalset(root)


def test_the_nomatch_file_is_read_and_checked(small_evalset, tmp_path):
    assert [(q.id, q.split, q.gold) for q in load_nomatch(small_evalset.root)] == [(q, s, ()) for q, _, s in NOMATCH]
    assert load_nomatch(tmp_path) == []  # an eval set without one has none
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "queries.nomatch.jsonl").write_text(json.dumps({"id": "x", "text": "a cat", "split": "dev", "gold": ["cat-1"]}) + "\n")
    with pytest.raises(Exception, match="no gold media"):
        load_nomatch(bad)
    assert len([json.loads(line) for line in (CORE / "queries.nomatch.jsonl").read_text().splitlines()]) == len(load_nomatch(CORE))


def test_formula_and_head_rows_with_the_no_match_decision(small_evalset, encoder, wordnet_subgraph, tmp_path):
    from sensegraph import SenseGraph
    from sensegraph.graph.embedded import EmbeddedStore
    from sensegraph.graph.importers.report import write_batches

    def factory(where):
        store = EmbeddedStore(where)
        g = wordnet_subgraph
        write_batches(store, entities=g.entities, aliases=g.aliases, senses=g.senses, has_sense=g.has_sense, relations=g.relations)
        return SenseGraph(store, encoder=encoder)

    rep = evaluate_matcher(small_evalset, "cold", sg_factory=factory)
    assert set(rep["rows"]) == {"formula", "formula+head"} and rep["nomatch_queries"] == 2
    for name, row in rep["rows"].items():
        assert row["metrics"]["all"]["n"] == rep["queries"] == 3
        nm = row["no_match"]
        assert nm["score"] == ("head" if name == "formula+head" else "formula")
        assert nm["answerable"] == 3 and nm["nomatch"] == 2
        assert 0 <= nm["precision"] <= 1 and nm["recall"] in (0.0, 0.5, 1.0)
    assert rep["rows"]["formula+head"]["training"]["queries"] > 0
