"""Importing into real stores: JSONL round trip, all-or-nothing on a bad line, idempotence, WordNet."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from sensegraph.errors import ValidationError
from sensegraph.graph.importers import import_jsonl, import_wordnet

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "sports.jsonl"
WN = Path("/usr/share/wordnet")
needs_wordnet = pytest.mark.skipif(not (WN / "data.noun").is_file(), reason="wordnet-base not installed")


def snapshot(store):
    """Everything an import writes, in comparable form."""
    senses = sorted((s.sense_id, s.label, s.gloss) for batch in store.iter_senses() for s in batch)
    rels = sorted((r.source, r.target, r.type, r.weight) for batch in store.iter_relations() for r in batch)
    aliases = sorted((a.alias, a.lang, a.entity_id, a.sense_id, a.rank) for a in store.alias_table())
    return store.counts(), senses, rels, aliases


def test_jsonl_round_trip(store):
    report = import_jsonl(store, EXAMPLE)
    assert report.counts == {"entities": 7, "aliases": 19, "senses": 10, "has_sense": 10, "relations": 7}
    c = store.counts()
    assert (c["entities"], c["senses"], c["relations"]) == (7, 10, 7)
    team = store.get_senses(["sg:sharks_team"])["sg:sharks_team"]
    assert team.label == "Sharks (basketball team)" and "大鲨鱼男篮" in team.gloss
    rows = {(a.alias, a.sense_id): a.rank for a in store.alias_table() if a.lang == "zh"}
    assert rows[("大鲨鱼", "sg:shark_fish")] == 1 and rows[("大鲨鱼", "sg:sharks_team")] == 2
    assert rows[("黄金", "sg:gold_metal")] == 1 and rows[("火箭", "sg:rockets_team")] == 2
    rels = {(r.source, r.target, r.type, r.weight) for r in store.neighbours(["sg:gold_team"])}
    assert rels == {("sg:gold_team", "sg:basketball_team", "hypernym", 1.0),
                    ("sg:gold_team", "sg:sharks_team", "plays_against", 0.5)}
    assert "sg:sharks_team" in {s.sense_id for s in store.find_senses("大鲨鱼")}


def test_reimport_changes_nothing(store):
    import_jsonl(store, EXAMPLE)
    before = snapshot(store)
    import_jsonl(store, EXAMPLE)
    assert snapshot(store) == before


def test_bad_line_writes_nothing(store, tmp_path):
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    n = len(lines) - 2  # a late line: everything before it is valid
    lines[n - 1] = json.dumps({"kind": "relation", "source": "sg:fish", "target": "sg:nowhere", "type": "hypernym"})
    bad = tmp_path / "broken.jsonl"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    empty = snapshot(store)
    with pytest.raises(ValidationError, match=rf"broken.jsonl:{n}: field 'target'.*sg:nowhere"):
        import_jsonl(store, bad)
    assert snapshot(store) == empty
    assert all(v == 0 for v in store.counts().values())


def test_references_resolve_against_the_store(store, tmp_path):
    import_jsonl(store, EXAMPLE)
    extra = tmp_path / "extra.jsonl"
    extra.write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in [
            {"kind": "alias", "text": "上海大鲨鱼", "entity": "sharks", "lang": "zh"},
            {"kind": "relation", "source": "sg:rockets_team", "target": "sg:sharks_team", "type": "plays_against"},
        ]) + "\n", encoding="utf-8")
    report = import_jsonl(store, extra)
    assert report.counts["aliases"] == 1 and report.counts["relations"] == 1
    assert ("上海大鲨鱼", "sg:sharks_team") in {(a.alias, a.sense_id) for a in store.alias_table()}
    ghost = tmp_path / "ghost.jsonl"
    ghost.write_text(json.dumps({"kind": "alias", "text": "x", "entity": "ghost"}) + "\n")
    with pytest.raises(ValidationError, match=r"ghost.jsonl:1: field 'entity'.*'ghost'"):
        import_jsonl(store, ghost)


def test_hostile_gloss_stored_verbatim(store, tmp_path):
    import_jsonl(store, EXAMPLE)
    gloss = "'}) DETACH DELETE n //"
    p = tmp_path / "hostile.jsonl"
    p.write_text(json.dumps({"kind": "sense", "id": "sg:x", "label": "x", "gloss": gloss, "entity": "gold"}) + "\n")
    import_jsonl(store, p)
    assert store.get_senses(["sg:x"])["sg:x"].gloss == gloss
    assert store.counts()["senses"] == 11


@pytest.fixture(scope="module")
def crane_graph():
    """Crane (bird) and crane (machine) with their hypernym closures, built once for both stores."""
    from sensegraph.graph.importers.wordnet import build_graph

    return build_graph(WN, synsets=["n02012849", "n03126707"])


@needs_wordnet
def test_wordnet_subgraph_import(store, crane_graph):
    from sensegraph.graph.importers.wordnet import write_graph

    report = write_graph(store, crane_graph, batch_size=7)  # many small batches
    c = store.counts()
    assert c["senses"] == report.counts["senses"] and c["relations"] == report.counts["relations"] > 10
    senses = store.get_senses(["n02012849", "n02000954", "n03126707"])
    assert senses["n02000954"].label == "wading bird"
    assert senses["n03126707"].gloss.startswith("lifts and moves heavy objects")
    crane = {a.sense_id: a.rank for a in store.alias_table() if a.alias == "crane"}
    assert crane == {"n03126707": 4, "n02012849": 5}  # WordNet's global ranks, kept in a subgraph
    up = {(r.target, r.type) for r in store.neighbours(["n02012849"]) if r.source == "n02012849"}
    assert ("n02000954", "hypernym") in up
    before = snapshot(store)
    write_graph(store, crane_graph)
    assert snapshot(store) == before


@needs_wordnet
@pytest.mark.slow
def test_full_wordnet_into_embedded(tmp_path):
    from sensegraph.graph.embedded import EmbeddedStore

    with EmbeddedStore(tmp_path / "wn") as store:
        report = import_wordnet(store, WN)
        c = store.counts()
        assert (c["senses"], c["relations"], c["entities"]) == (82115, 106614, 117798)
        assert report.counts["has_sense"] == 146312
        ranks = {a.sense_id: a.rank for a in store.alias_table() if a.entity_id == "wn:crane"}
        assert len(ranks) == 5 and ranks["n02012849"] == 5


def test_cli_import_kg(tmp_path):
    """The command imports the sample and reports; a missing file is one clear error line, exit 2."""
    from typer.testing import CliRunner

    from sensegraph.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["import-kg", str(EXAMPLE), "--store", str(tmp_path / "s"), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["counts"]["senses"] == 10 and out["store_counts"]["senses"] == 10
    res = runner.invoke(app, ["import-kg", str(tmp_path / "absent.jsonl"), "--store", str(tmp_path / "s")])
    assert res.exit_code == 2 and "cannot read" in res.output
