"""The sense graph as PyG data: paged reads, text cache, k-hop restriction, and the neighbour sampler."""
from __future__ import annotations

import math

import torch
from torch_geometric.loader import NeighborLoader

from sensegraph.gnn.data import TextFeatureCache, build_sense_graph, k_hop_nodes
from sensegraph.gnn.sampler import TorchNeighborSampler


class CountingStore:
    """Forwards to a store and counts the calls per method (to check reads are paged)."""

    def __init__(self, store) -> None:
        self._store, self.calls = store, {}

    def __getattr__(self, name):
        attr = getattr(self._store, name)
        if not callable(attr):
            return attr

        def wrapped(*a, **k):
            self.calls[name] = self.calls.get(name, 0) + 1
            return attr(*a, **k)

        return wrapped


def test_graph_reads_in_pages_and_validates(store, text_encoder, tmp_path):
    counting = CountingStore(store)
    cache = TextFeatureCache(tmp_path / "cache", text_encoder.encoder_id)
    g = build_sense_graph(counting, cache, text_encoder.embed_texts, hops=None)
    g.data.validate(raise_on_error=True)
    counts = store.counts()
    assert g.num_nodes == counts["senses"]
    assert g.data.edge_index.size(1) == 2 * counts["relations"]
    assert int(g.data.has_proto.sum()) == counts["prototypes_media"]
    assert g.data.x.shape == (g.num_nodes, 384) and g.data.proto.shape == (g.num_nodes, g.native_dim)
    # every sense with a prototype carries its real media count; the others are zero
    assert bool((g.data.log_count[g.data.has_proto] > 0).all()) and float(g.data.log_count[~g.data.has_proto].sum()) == 0.0
    # forward and reverse copies of each relation: same endpoints swapped, direction bit set
    e = counts["relations"]
    assert torch.equal(g.data.edge_index[:, :e].flip(0), g.data.edge_index[:, e:])
    assert torch.equal(g.data.edge_type[:e] + 1, g.data.edge_type[e:])
    assert "hypernym" in g.relation_types
    # paged: a handful of calls, never one per node
    assert counting.calls.get("get_prototypes", 0) <= math.ceil(counts["prototypes_media"] / 500)
    assert counting.calls.get("get_senses", 0) == 0 and counting.calls.get("neighbours", 0) == 0


def test_text_cache_embeds_each_gloss_once(store, text_encoder, tmp_path):
    calls = []

    def embed(texts):
        calls.append(len(texts))
        return text_encoder.embed_texts(texts)

    first = build_sense_graph(store, TextFeatureCache(tmp_path / "c", text_encoder.encoder_id), embed, hops=None)
    assert sum(calls) == first.num_nodes
    again = build_sense_graph(store, TextFeatureCache(tmp_path / "c", text_encoder.encoder_id), embed, hops=None)
    assert sum(calls) == first.num_nodes  # nothing re-embedded: read from disk
    assert torch.allclose(first.data.x, again.data.x)
    # the cached vector is MiniLM's own embedding of "label: gloss"
    i = first.index["n04033425"]
    sense = store.get_senses(["n04033425"])["n04033425"]
    direct = text_encoder.embed_texts([f"{sense.label}: {sense.gloss}"])[0]
    assert float(first.data.x[i] @ torch.from_numpy(direct)) > 0.9999


def test_k_hop_restriction_keeps_exactly_the_neighbourhood(store, text_encoder, tmp_path):
    cache = TextFeatureCache(tmp_path / "c", text_encoder.encoder_id)
    g = build_sense_graph(store, cache, text_encoder.embed_texts, hops=1, seeds=["n04033425"])
    expected = {"n04033425"} | {x for r in store.neighbours(["n04033425"]) for x in (r.source, r.target)}
    assert set(g.sense_ids) == expected
    g.data.validate(raise_on_error=True)
    full = build_sense_graph(store, cache, text_encoder.embed_texts, hops=None)
    two = k_hop_nodes(full.num_nodes, full.data.edge_index.numpy(), torch.tensor([full.index["n04033425"]]).numpy(), 2)
    assert len(two) > len(expected)


def test_sampler_draws_real_edges_within_fanout(store, text_encoder, tmp_path):
    g = build_sense_graph(store, TextFeatureCache(tmp_path / "c", text_encoder.encoder_id), text_encoder.embed_texts, hops=None)
    d = g.data
    d.eid = torch.arange(d.edge_index.size(1))
    sampler = TorchNeighborSampler(d, [3, 2], seed=7)
    seeds = g.evidenced()
    indeg = torch.bincount(d.edge_index[1], minlength=g.num_nodes)
    for batch in NeighborLoader(d, num_neighbors=[3, 2], input_nodes=seeds, batch_size=8, neighbor_sampler=sampler):
        gid = batch.n_id
        assert torch.equal(d.edge_index[0][batch.eid], gid[batch.edge_index[0]])
        assert torch.equal(d.edge_index[1][batch.eid], gid[batch.edge_index[1]])
        first_hop = batch.edge_index[1][: batch.num_sampled_edges[0]]
        got = torch.bincount(first_hop, minlength=batch.batch_size)[: batch.batch_size]
        assert torch.equal(got, torch.clamp(indeg[gid[: batch.batch_size]], max=3))
        assert batch.eid.unique().numel() == batch.eid.numel()  # without replacement
        assert torch.equal(batch.proto, d.proto[gid])
