"""neighbour_mean iterated on one column per visible sense gives the same prototypes as on the vectors."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from torch_geometric.utils import scatter

from sensegraph.gnn.baselines import neighbour_mean


def reference(graph, visible, alpha=0.8, iterations=10):
    """Zhou et al.'s iteration written directly on the prototype vectors."""
    d = graph.data
    y = d.proto * visible.to(torch.float32).view(-1, 1)
    src, dst = d.edge_index
    f = y.clone()
    for _ in range(iterations):
        f = alpha * scatter(f[src], dst, dim=0, dim_size=graph.num_nodes, reduce="mean") + (1 - alpha) * y
    return F.normalize(f, dim=1)


@pytest.mark.parametrize("n_visible", [0, 1, 7, 40])  # 40 > the 16 dimensions: the vector branch
def test_same_numbers_as_the_direct_iteration(n_visible):
    g = torch.Generator().manual_seed(n_visible)
    n, e, dim = 300, 500, 16
    src, dst = torch.randint(0, n, (e,), generator=g), torch.randint(0, n, (e,), generator=g)
    edges = torch.cat([torch.stack([src, dst]), torch.stack([dst, src]), torch.tensor([[0, 0], [1, 1]])], dim=1)  # a duplicate
    proto = F.normalize(torch.randn(n, dim, generator=g), dim=1)
    visible = torch.zeros(n, dtype=torch.bool)
    visible[torch.randperm(n, generator=g)[:n_visible]] = True
    graph = SimpleNamespace(data=SimpleNamespace(proto=proto, edge_index=edges), num_nodes=n)
    got, want = neighbour_mean(graph, visible), reference(graph, visible)
    assert torch.allclose(got, want, atol=1e-5)
    assert (got.norm(dim=1) > 0).sum() == (want.norm(dim=1) > 0).sum()
    if n_visible:
        assert (want.norm(dim=1) > 0).any()


@pytest.mark.parametrize("n_visible", [1, 2, 7, 12])
def test_held_out_folds_from_one_propagation_match_one_propagation_per_fold(n_visible):
    """``neighbour_mean_holdout`` drops a fold's columns instead of re-propagating: the same cosines."""
    from sensegraph.gnn.baselines import neighbour_mean_holdout
    from sensegraph.propagation import HOLDOUT_FOLDS, holdout_cosine

    g = torch.Generator().manual_seed(10 + n_visible)
    n, e, dim = 200, 400, 16
    src, dst = torch.randint(0, n, (e,), generator=g), torch.randint(0, n, (e,), generator=g)
    edges = torch.cat([torch.stack([src, dst]), torch.stack([dst, src])], dim=1)
    proto = F.normalize(torch.randn(n, dim, generator=g), dim=1)
    visible = torch.zeros(n, dtype=torch.bool)
    visible[torch.randperm(n, generator=g)[:n_visible]] = True
    graph = SimpleNamespace(data=SimpleNamespace(proto=proto, edge_index=edges), num_nodes=n)
    pred, sims = neighbour_mean_holdout(graph, visible, HOLDOUT_FOLDS)
    assert torch.allclose(pred, neighbour_mean(graph, visible), atol=1e-5)
    found = torch.cat(sims)
    fast = max(0.0, float(found.mean())) if found.numel() else None
    slow = holdout_cosine(neighbour_mean, graph, visible)
    assert fast is None or abs(fast - slow) < 1e-5
    assert len(sims) == min(HOLDOUT_FOLDS, n_visible)


def test_predicting_only_some_rows_gives_those_rows_of_the_whole_prediction():
    """``at``: the update writes a few thousand senses of a large neighbourhood and mixes prototypes for
    those alone; their rows, in the order asked, equal the whole prediction's, with the same cosines."""
    from sensegraph.gnn.baselines import neighbour_mean_holdout
    from sensegraph.propagation import HOLDOUT_FOLDS, predict_with_holdout

    g = torch.Generator().manual_seed(3)
    n, e, dim = 200, 400, 16
    src, dst = torch.randint(0, n, (e,), generator=g), torch.randint(0, n, (e,), generator=g)
    edges = torch.cat([torch.stack([src, dst]), torch.stack([dst, src])], dim=1)
    proto = F.normalize(torch.randn(n, dim, generator=g), dim=1)
    visible = torch.zeros(n, dtype=torch.bool)
    visible[torch.randperm(n, generator=g)[:9]] = True
    graph = SimpleNamespace(data=SimpleNamespace(proto=proto, edge_index=edges), num_nodes=n)
    at = torch.tensor([150, 3, 77, 0, 199])
    whole, sims = neighbour_mean_holdout(graph, visible, HOLDOUT_FOLDS)
    part, part_sims = neighbour_mean_holdout(graph, visible, HOLDOUT_FOLDS, at=at)
    assert part.shape == (len(at), dim)
    assert torch.allclose(part, whole[at], atol=1e-6)
    assert all(torch.equal(a, b) for a, b in zip(sims, part_sims))
    for name in ("neighbour-mean", "hypernym-backoff"):  # every method answers ``at`` the same way
        graph.relation_types = ["hypernym"]
        graph.data.edge_type = torch.zeros(edges.size(1), dtype=torch.long)
        full, base = predict_with_holdout(name, graph, visible)
        rows, base_at = predict_with_holdout(name, graph, visible, at=at)
        assert rows.shape == (len(at), dim) and torch.allclose(rows, full[at], atol=1e-6) and base == base_at


@pytest.mark.parametrize("density", [0.02, 1.0])  # dense after 3 of the 10 steps, or never
def test_sparse_first_steps_give_the_same_float32_numbers_as_dense_ones(monkeypatch, density):
    """``label_responses`` runs its first steps sparse while F is sparse: bitwise the dense iteration's F,
    on a sparse graph (a chain with shortcuts, a self-loop and a duplicate edge) where the balls grow slowly."""
    from sensegraph.gnn import baselines

    g = torch.Generator().manual_seed(5)
    n, dim = 400, 64
    chain = torch.arange(n - 1)
    extra = torch.randint(0, n, (2, 40), generator=g)
    src = torch.cat([chain, extra[0], torch.tensor([7, 3, 3])])
    dst = torch.cat([chain + 1, extra[1], torch.tensor([7, 4, 4])])
    edges = torch.cat([torch.stack([src, dst]), torch.stack([dst, src])], dim=1)
    visible = torch.zeros(n, dtype=torch.bool)
    visible[torch.randperm(n, generator=g)[:30]] = True
    graph = SimpleNamespace(data=SimpleNamespace(proto=torch.zeros(n, dim), edge_index=edges), num_nodes=n)
    monkeypatch.setattr(baselines, "SPARSE_DENSITY", 0.0)  # every step dense: the reference
    dense = baselines.label_responses(graph, visible)
    monkeypatch.setattr(baselines, "SPARSE_DENSITY", density)
    mixed = baselines.label_responses(graph, visible)
    assert dense.dtype == mixed.dtype == torch.float32
    assert torch.equal(mixed, dense)
    assert 0 < int((dense != 0).sum()) < dense.numel()  # neither empty nor full: the sparse steps had work
