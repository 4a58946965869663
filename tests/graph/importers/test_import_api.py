"""``SenseGraph.import_kg``: the Python API's step that gives a store its senses (the CLI's import-kg wraps it)."""
from __future__ import annotations

from pathlib import Path

import pytest

from sensegraph import SenseGraph
from sensegraph.errors import ValidationError

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "sports.jsonl"
needs_wordnet = pytest.mark.skipif(not Path("/usr/share/wordnet/data.noun").is_file(), reason="wordnet-base not installed")


def test_import_kg_jsonl_into_each_store_and_again_changes_nothing(store):
    sg = SenseGraph(store)
    report = sg.import_kg(EXAMPLE)
    assert report.counts["senses"] == 10 and report.source == str(EXAMPLE)
    before = store.counts()
    again = sg.import_kg(str(EXAMPLE))
    assert again.counts["senses"] == 10 and store.counts() == before
    assert sg.sense("sg:sharks_team").label == "Sharks (basketball team)"


@needs_wordnet
def test_import_kg_wordnet_subgraph(tmp_path):
    with SenseGraph(tmp_path / "store") as sg:
        report = sg.import_kg("WordNet", synsets=["n03793489"])
        assert report.counts["senses"] >= 2  # the computer mouse and its hypernyms
        assert sg.sense("n03793489").label.startswith("mouse")
        assert "n03793489" in {a.sense_id for a in sg.store.alias_table() if a.alias == "mouse"}


def test_a_linker_built_before_the_import_sees_the_new_senses(tmp_path):
    with SenseGraph(tmp_path / "store") as sg:
        assert sg.link("the Rockets beat the Sharks") == []
        sg.import_kg(EXAMPLE)
        linked = {m.text: m.sense_id for m in sg.link("the Rockets beat the Sharks")}
        assert set(linked) == {"Rockets", "Sharks"} and all(linked.values())


def test_import_kg_refuses_what_it_cannot_import(tmp_path):
    with SenseGraph(tmp_path / "store") as sg:
        with pytest.raises(ValidationError, match=r"cannot read knowledge-graph file '.*wordnte'.*'wordnet'"):
            sg.import_kg("wordnte")
        with pytest.raises(ValidationError, match="apply to source 'wordnet' only"):
            sg.import_kg(EXAMPLE, synsets=["n03793489"])
        assert sg.store.counts().get("senses", 0) == 0
