"""Provenance of propagated prototypes survives a round trip through both stores; own slots are untouched.

The Neo4j case needs ``SENSEGRAPH_TEST_NEO4J`` (a bolt URI of Neo4j 5.26 or later, auth disabled); unset, it is skipped.
"""
from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from torch_geometric.data import Data

from sensegraph.gnn.data import SenseGraphData
from sensegraph.gnn.infer import confidences, propagated_prototypes
from sensegraph.graph.embedded import EmbeddedStore
from sensegraph.graph.model import Prototype, Relation, Sense

DIM = 6


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store(request, tmp_path):
    if request.param == "embedded":
        s = EmbeddedStore(tmp_path / "store")
    else:
        uri = os.environ.get("SENSEGRAPH_TEST_NEO4J")
        if not uri:
            pytest.skip("SENSEGRAPH_TEST_NEO4J is not set (a bolt:// URI of Neo4j 5.26 or later, auth disabled)")
        from sensegraph.graph.factory import open_store

        s = open_store(uri)
        s.wipe()
    try:
        s.bind_encoder("roundtrip-encoder", 4, DIM)
        yield s
    finally:
        s.close()


def test_propagated_flags_round_trip_and_own_slots_stay(store, rng):
    ids = ["s_media", "s_curated", "s_bare", "s_far"]
    store.upsert_senses(Sense(s, s.replace("_", " "), "gloss of " + s) for s in ids)
    store.upsert_relations([Relation("s_bare", "s_media", "hypernym"), Relation("s_curated", "s_media", "hypernym"),
                            Relation("s_far", "s_bare", "hypernym")])
    media_vec, curated_vec = (v / np.linalg.norm(v) for v in rng.normal(size=(2, DIM)).astype(np.float32))
    store.set_prototypes([Prototype("s_media", media_vec, source="media", media_count=3, weight=3.0, norm=0.9),
                          Prototype("s_curated", curated_vec, source="curated")])
    # a tiny graph as gnn/data.py would build it, with a made-up prediction for every node
    proto = torch.zeros(4, DIM)
    proto[0], proto[1] = torch.from_numpy(media_vec), torch.from_numpy(curated_vec)
    data = Data(x=torch.zeros(4, 3), proto=proto, has_proto=torch.tensor([True, True, False, False]),
                log_count=torch.log1p(torch.tensor([3.0, 0.0, 0.0, 0.0])),
                edge_index=torch.tensor([[2, 1, 3, 0, 0, 2], [0, 0, 2, 2, 1, 3]]),
                edge_type=torch.tensor([0, 0, 0, 1, 1, 1]), num_nodes=4)
    graph = SenseGraphData(data, ids, ["hypernym"], "roundtrip-encoder", DIM)
    pred = torch.nn.functional.normalize(torch.from_numpy(rng.normal(size=(4, DIM)).astype(np.float32)), dim=1)
    conf = confidences(graph, data.has_proto, val_cosine=0.8)
    protos = propagated_prototypes(graph, pred, conf, range(4))
    assert {p.sense_id for p in protos} == {"s_curated", "s_bare", "s_far"}  # s_media has enough media
    assert conf[2] > conf[3]  # next to evidence beats two hops away
    store.set_prototypes(protos)

    back = store.get_prototypes(ids, propagated=True)
    assert set(back) == {"s_curated", "s_bare", "s_far"}
    for p in protos:
        got = back[p.sense_id]
        assert got.source == "propagated" and got.strategy == "gnn"
        assert got.confidence == pytest.approx(p.confidence, abs=1e-6)
        np.testing.assert_allclose(got.vector, p.vector, atol=1e-6)
    own = store.get_prototypes(ids)
    assert set(own) == {"s_media", "s_curated"}
    assert own["s_media"].source == "media" and own["s_media"].media_count == 3
    assert own["s_media"].weight == pytest.approx(3.0) and own["s_media"].norm == pytest.approx(0.9)
    np.testing.assert_allclose(own["s_media"].vector, media_vec, atol=1e-6)
    assert own["s_curated"].source == "curated"
    np.testing.assert_allclose(own["s_curated"].vector, curated_vec, atol=1e-6)
    senses = store.get_senses(ids)
    assert senses["s_curated"].prototype_source == "curated" and senses["s_bare"].prototype_source is None
    counts = store.counts()
    assert (counts["prototypes_media"], counts["prototypes_curated"], counts["prototypes_propagated"]) == (1, 1, 3)
    # the nearest propagated prototype to s_bare's vector is s_bare's own propagated slot
    hits = store.search_prototypes(protos[1].vector, 1, propagated=True)
    assert hits[0][0] == protos[1].sense_id
