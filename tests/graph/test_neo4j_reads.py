"""Neo4j's search reads: what a search asks about its senses, and its hits, travel in one round trip
each, and what is kept between reads never outlives a write or ``READ_AHEAD_S``."""
from __future__ import annotations

import threading
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from sensegraph.config import SenseGraphConfig
from sensegraph.graph import neo4j_store as neo
from sensegraph.graph.embedded import EmbeddedStore
from sensegraph.graph.model import Prototype
from sensegraph.linking.base import Candidate, LinkedMention
from sensegraph.search import SearchEngine

from .conftest import ENCODER_ID, JOINT_DIM, NATIVE_DIM
from .test_store_contract import crane_graph, media, unit


def _counted(store) -> list[str]:
    """Record every query the store sends (one Bolt round trip each)."""
    sent: list[str] = []
    run = store._run

    def counting(query, params=None, **kw):
        sent.append(query)
        return run(query, params, **kw)

    store._run = counting
    return sent


@pytest.fixture
def world(neo4j_store, rng):
    neo4j_store.bind_encoder(ENCODER_ID, JOINT_DIM, NATIVE_DIM)
    crane_graph(neo4j_store)
    neo4j_store.upsert_media([media(rng, f"m{i}") for i in range(12)] + [media(rng, "j0", native=False)])
    return neo4j_store


def test_sense_prototypes_is_one_query_for_many_senses_and_one_more_per_redirect_hop(world, rng):
    world.set_prototypes([Prototype("n_bird", unit(rng, NATIVE_DIM)), Prototype("n_crane_machine", unit(rng, NATIVE_DIM), "propagated")])
    sent = _counted(world)
    got = world.sense_prototypes(["n_bird", "n_crane_bird", "n_crane_machine"])
    assert len(sent) == 1 and got["n_bird"].own is not None and got["n_crane_machine"].propagated is not None
    world.set_redirect("n_crane_bird", "n_bird")
    sent.clear()
    assert world.sense_prototypes(["n_crane_bird", "n_crane_machine"])["n_crane_bird"].sense_id == "n_bird"
    assert len(sent) == 2  # the redirect target is read in a second query


def test_a_search_reads_its_hits_vectors_and_records_in_one_query(world):
    fresh = neo.Neo4jStore(world.uri)
    try:
        ids = ["m3", "j0", "m7", "nope", "m1"]
        sent = _counted(world)
        joint_ids, joint = world.media_vectors(ids, "joint")
        native_ids, native = world.media_vectors(ids, "native")
        records = world.get_media(["m7", "j0"], vectors=False)
        assert len(sent) == 1
        for space, got_ids, got in (("joint", joint_ids, joint), ("native", native_ids, native)):
            want_ids, want = fresh.media_vectors(ids, space)  # another store: nothing kept there
            assert got_ids == want_ids and np.array_equal(got, want)
        assert native_ids == ["m3", "m7", "m1"]  # j0 has no native vector
        want = fresh.get_media(["m7", "j0"], vectors=False)
        assert {m: (r.uri, r.caption, r.embedding, r.features) for m, r in records.items()} == {
            m: (r.uri, r.caption, None, None) for m, r in want.items()}
        world.get_media(["m7"])  # with vectors, or ids not read ahead: a query of their own
        world.get_media(["m2"], vectors=False)
        assert len(sent) == 3
    finally:
        fresh.close()


def test_a_write_drops_what_was_read_ahead(world, rng):
    world.media_vectors(["m0", "m1"], "joint")
    changed = media(rng, "m1")
    world.upsert_media([changed])
    ids, native = world.media_vectors(["m0", "m1"], "native")
    np.testing.assert_allclose(native[ids.index("m1")], changed.features, atol=1e-6)


def test_read_ahead_expires_and_is_per_thread(world, monkeypatch):
    sent = _counted(world)
    world.media_vectors(["m0"], "joint")
    other: list[int] = []
    thread = threading.Thread(target=lambda: (world.media_vectors(["m0"], "native"), other.append(len(sent))))
    thread.start()
    thread.join()
    assert other == [2]  # another thread (another request of a server) reads for itself
    monkeypatch.setattr(neo, "READ_AHEAD_S", 0.0)
    world.media_vectors(["m0"], "native")
    assert len(sent) == 3


# -- a whole search: two round trips (the senses and their neighbourhood; the index with the hits) --------
QUERIES = {  # what the linker gave: "crane" the machine (a prototype), "crane" the bird (none: hands on)
    "a crane lifting": [LinkedMention(2, 7, "crane", "n_crane_machine", 0.8,
                                      [Candidate("n_crane_machine", 0.8), Candidate("n_crane_bird", 0.3)])],
    "a crane wading": [LinkedMention(2, 7, "crane", "n_crane_bird", 0.9,
                                     [Candidate("n_crane_bird", 0.9), Candidate("n_crane_machine", 0.1)])],
}


def _engine(store) -> SearchEngine:
    """The real engine over ``store``; the linker's answers (QUERIES) and the query vector are inputs."""
    q = unit(np.random.default_rng(5), JOINT_DIM)
    linker = SimpleNamespace(link=lambda text: [replace(m) for m in QUERIES[text]])
    encoder = SimpleNamespace(encoder_id=ENCODER_ID, native_blocks=None)
    return SearchEngine(store, encoder, linker, SenseGraphConfig(), embed_texts=lambda texts: np.stack([q] * len(texts)))


def test_a_search_makes_two_round_trips_and_answers_as_the_embedded_store(world, rng, tmp_path):
    """A search used to send about seven queries (each linked sense's prototypes, again for those without
    one, the candidates', each hop of a hand-on walk and its relatives', the index, the hits): now one
    ``search_context`` and one index query that brings the hits' records."""
    world.set_prototypes([Prototype("n_bird", unit(rng, NATIVE_DIM), media_count=3),
                          Prototype("n_crane_machine", unit(rng, NATIVE_DIM), media_count=5)])
    embedded = EmbeddedStore(tmp_path / "twin")
    try:
        embedded.bind_encoder(ENCODER_ID, JOINT_DIM, NATIVE_DIM)
        crane_graph(embedded)
        embedded.upsert_media(list(world.get_media([f"m{i}" for i in range(12)] + ["j0"]).values()))
        embedded.set_prototypes(list(world.get_prototypes(["n_bird", "n_crane_machine"]).values()))
        neo_engine, twin = _engine(world), _engine(embedded)
        neo_engine.search("a crane lifting")  # once: the engine reads the store's match head and media mean
        sent = _counted(world)
        for text in QUERIES:
            sent.clear()
            got, want = neo_engine.search(text, k=5), twin.search(text, k=5)
            assert len(sent) == 2, sent
            assert [(h.media_id, h.uri) for h in got.hits] == [(h.media_id, h.uri) for h in want.hits]
            np.testing.assert_allclose([h.match for h in got.hits], [h.match for h in want.hits], atol=1e-5)
            assert got.metadata["weight_handed_on"] == want.metadata["weight_handed_on"]
        assert got.metadata["weight_handed_on"] == {"n_crane_bird": ["n_bird", "n_crane_machine"]}  # to its relatives with one
    finally:
        embedded.close()
