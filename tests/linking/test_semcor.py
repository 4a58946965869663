"""SemCor tag counts from wordnet-base's cntlist.rev: parsed, stored by the WordNet importer in both
stores, and used as the linker's prior — which does not move when evidence is written."""
from __future__ import annotations

from pathlib import Path

import pytest

from sensegraph.graph.importers.wordnet import (
    TAG_COUNTS_META,
    build_graph,
    parse_tag_counts,
    read_tag_counts,
    write_graph,
)
from sensegraph.graph.model import Evidence, Media

WN = Path("/usr/share/wordnet")
pytestmark = pytest.mark.skipif(not (WN / "cntlist.rev").is_file(), reason="wordnet-base not installed")
RIVER_BANK, MONEY_BANK = "n09213565", "n08420278"
BAT_ANIMAL, BAT_TURN, BAT_CLUB = "n02139199", "n00458456", "n04292414"


def test_cntlist_counts_map_sense_numbers_to_synsets():
    counts = parse_tag_counts(WN)
    # cntlist.rev: bank%1:17:01:: 1 25 (sense 1, sloping land), bank%1:14:00:: 2 20 (the institution)
    assert counts["bank"][RIVER_BANK] == 25 and counts["bank"][MONEY_BANK] == 20
    assert counts["bat"] == {BAT_ANIMAL: 5, BAT_TURN: 2, BAT_CLUB: 1}
    assert "crane" not in counts  # no noun sense of crane is tagged in SemCor
    assert all(n > 0 for by_sense in counts.values() for n in by_sense.values())
    assert "baseball bat" not in counts or all(s.startswith("n") for s in counts["baseball bat"])


def test_the_importer_stores_counts_in_the_store(store):
    graph = build_graph(WN, synsets=[BAT_ANIMAL, BAT_CLUB, RIVER_BANK])
    report = write_graph(store, graph)
    table = read_tag_counts(store)
    assert table["bat"] == {BAT_ANIMAL: 5, BAT_CLUB: 1} and table["bank"] == {RIVER_BANK: 25}  # kept synsets only
    assert report.counts["tag_counts"] == sum(len(v) for v in table.values())
    before = store.get_meta(TAG_COUNTS_META)
    write_graph(store, graph)  # idempotent
    assert store.get_meta(TAG_COUNTS_META) == before
    write_graph(store, build_graph(WN, synsets=[MONEY_BANK]))  # a second subgraph adds to the table
    assert read_tag_counts(store)["bank"] == {RIVER_BANK: 25, MONEY_BANK: 20}


def test_prior_uses_counts_and_ignores_evidence(store):
    """The prior is SemCor's, so the link of a caption does not depend on what was ingested before."""
    import numpy as np

    from sensegraph.linking.linker import EntityLinker

    write_graph(store, build_graph(WN, synsets=[RIVER_BANK, MONEY_BANK]))
    linker = EntityLinker(store, None, {"w_coherence": 0.0})
    [m] = linker.link("the bank")
    prior = {c.sense_id: c.parts["prior"] for c in m.candidates}
    assert prior[RIVER_BANK] == pytest.approx(26 / 46.5) and prior[MONEY_BANK] == pytest.approx(20.5 / 46.5)
    store.bind_encoder("test", 4, 4)
    vec = np.ones(4, dtype=np.float32) / 2
    store.upsert_media([Media(f"m{i}", f"file:///m{i}.png", embedding=vec, features=vec) for i in range(30)])
    store.upsert_evidence([Evidence(f"m{i}", MONEY_BANK, 0.9, "linker") for i in range(30)])
    linker.forget_senses()
    [again] = linker.link("the bank")
    assert {c.sense_id: c.parts["prior"] for c in again.candidates} == prior
    assert again.sense_id == m.sense_id == RIVER_BANK


@pytest.mark.parametrize("floor", [0.0, 0.2, 0.5])
def test_the_prior_keeps_at_least_its_floor_in_a_long_context(store, floor):
    """``linker.prior_floor``: four content words would scale the prior to 1/9 of its say; the floor
    keeps it at ``floor`` (the context part is still scaled by 1 − 1/9)."""
    from sensegraph.linking.disambiguate import prior_strength
    from sensegraph.linking.linker import EntityLinker

    write_graph(store, build_graph(WN, synsets=[RIVER_BANK, MONEY_BANK]))
    linker = EntityLinker(store, None, {"w_coherence": 0.0, "prior_floor": floor})
    [m] = linker.link("the old muddy green grassy bank")  # old, muddy, green, grassy
    say = max(prior_strength(4), floor)
    prior = {c.sense_id: c.parts["prior"] for c in m.candidates}
    assert prior[RIVER_BANK] == pytest.approx(26 / 46.5 * say) and prior[MONEY_BANK] == pytest.approx(20.5 / 46.5 * say)
