"""The WordNet 3.0 parser against Debian's real wordnet-base files (no store involved)."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from sensegraph.errors import ConfigError, ValidationError
from sensegraph.graph.importers.wordnet import (
    alias_forms,
    build_graph,
    hypernym_closure,
    parse_noun_index,
    parse_noun_synsets,
    parse_synset_line,
    resolve_wordnet_dir,
    split_gloss,
)

WN = Path("/usr/share/wordnet")
pytestmark = pytest.mark.skipif(not (WN / "data.noun").is_file(), reason="wordnet-base not installed")


@pytest.fixture(scope="module")
def synsets():
    return {s.sense_id: s for s in parse_noun_synsets(WN)}


@pytest.fixture(scope="module")
def graph():
    return build_graph(WN)


def _data_line(offset: str) -> str:
    """The raw data.noun line of ``offset``, read independently of the parser."""
    for line in (WN / "data.noun").read_text(encoding="utf-8").splitlines():
        if line.startswith(offset + " "):
            return line
    raise AssertionError(offset)


def test_all_noun_synsets_parsed(synsets):
    assert len(synsets) == 82115  # WordNet 3.0 noun synsets
    assert all(k.startswith("n") and len(k) == 9 and k[1:].isdigit() for k in synsets)


def test_crane_bird_and_machine(synsets):
    bird_line, machine_line = _data_line("02012849"), _data_line("03126707")
    assert "wading bird" in bird_line and "lifts and moves heavy objects" in machine_line
    bird, machine = synsets["n02012849"], synsets["n03126707"]
    assert bird.label == machine.label == "crane"
    assert bird.definition == "large long-necked wading bird of marshes and plains in many parts of the world"
    wading = synsets["n02000954"]
    assert wading.label == "wading bird" and "wader" in wading.lemmas
    assert [(r.target, r.type) for r in bird.relations() if r.type == "hypernym"] == [("n02000954", "hypernym")]


def test_crane_ranks_follow_index_order(graph):
    index_line = next(l for l in (WN / "index.noun").read_text().splitlines() if l.startswith("crane "))
    offsets = index_line.split()[-5:]
    ranks = {h.sense_id: h.rank for h in graph.has_sense if h.entity_id == "wn:crane"}
    assert ranks == {"n" + o: i for i, o in enumerate(offsets, 1)}
    assert ranks["n03126707"] == 4 and ranks["n02012849"] == 5  # machine before bird in WordNet 3.0


def test_gloss_split_keeps_definition_and_examples(synsets):
    # n00002684 "object": definition, then a quoted example
    obj = synsets["n00002684"]
    assert obj.definition == "a tangible and visible entity; an entity that can cast a shadow"
    assert obj.examples == ("it was full of rackets, balls and other objects",)
    assert split_gloss('a thing; "one"; "two" - Author') == ("a thing", ("one", "two"))
    assert split_gloss("no examples here  ") == ("no examples here", ())
    assert split_gloss('a change: "from F to C"') == ("a change", ("from F to C",))
    assert split_gloss('a demand in the phrase "the call of duty"')[1] == ()
    with_examples = sum(1 for s in synsets.values() if s.examples)
    assert with_examples >= 8727  # glosses with '; "' in data.noun
    assert sum(1 for s in synsets.values() if s.definition.startswith('"')) == 0


def test_relations_once_each_child_to_parent(graph, synsets):
    counts = Counter(r.type for r in graph.relations)
    # pointer counts in data.noun: @ 75850, @i 8577, #m 12293, #p 9097, #s 797
    assert counts == {"hypernym": 75850, "instance_hypernym": 8577, "member_holonym": 12293,
                      "part_holonym": 9097, "substance_holonym": 797}
    assert len(set((r.source, r.target, r.type) for r in graph.relations)) == len(graph.relations)
    # the inverse direction is never stored
    assert not any(r.source == "n02000954" and r.target == "n02012849" for r in graph.relations)
    assert all(r.source in synsets and r.target in synsets for r in graph.relations)


def test_entities_aliases_has_sense(graph):
    assert len(graph.senses) == 82115
    assert len(graph.entities) == 117798  # lemmas in index.noun
    assert len(graph.has_sense) == 146312  # noun word-sense pairs
    ents = {e.id: e for e in graph.entities}
    assert ents["wn:new_york"].name == "New York"
    texts = {(a.text, a.entity_id) for a in graph.aliases}
    assert ("New York", "wn:new_york") in texts
    assert ("T-shirt", "wn:t-shirt") in texts and ("T shirt", "wn:t-shirt") in texts
    assert ("crane", "wn:crane") in texts
    assert all(a.lang == "en" and "_" not in a.text for a in graph.aliases)


def test_alias_forms():
    assert alias_forms("wading_bird") == ["wading bird"]
    assert alias_forms("T-shirt") == ["T-shirt", "T shirt"]


def test_subgraph_is_hypernym_closure():
    g = build_graph(WN, synsets=["n02012849"])
    ids = {s.sense_id for s in g.senses}
    assert {"n02012849", "n02000954", "n00001740"} <= ids  # crane, wading bird, entity
    assert "n03126707" not in ids  # the machine is not an ancestor
    assert all(r.source in ids and r.target in ids for r in g.relations)
    assert {h.sense_id for h in g.has_sense} == ids
    # global ranks are kept: crane (bird) is still rank 5
    assert ("wn:crane", "n02012849", 5) in {(h.entity_id, h.sense_id, h.rank) for h in g.has_sense}


def test_subgraph_unknown_synset(synsets):
    with pytest.raises(ValidationError, match="n99999999"):
        hypernym_closure(synsets, ["n02012849", "n99999999"])
    assert {"n02012849", "n02000954", "n00001740"} <= hypernym_closure(synsets, ["02012849"])


def test_index_parse_counts():
    rows = dict(parse_noun_index(WN))
    assert len(rows) == 117798 and len(rows["crane"]) == 5


def test_bad_line_and_dir(tmp_path):
    with pytest.raises(ValidationError, match="data.noun:7"):
        parse_synset_line("00001740 03 n zz", "data.noun:7")
    with pytest.raises(ConfigError, match="data.noun"):
        resolve_wordnet_dir(tmp_path)


@pytest.mark.parametrize("bad", ["n123", "crane", "n0201284x", ""])
def test_subgraph_rejects_malformed_ids_before_parsing(bad):
    with pytest.raises(ValidationError, match="not a WordNet noun synset id"):
        build_graph(WN, synsets=[bad])
