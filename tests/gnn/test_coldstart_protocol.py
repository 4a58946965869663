"""The cold-start protocol's pieces: the dev/test split of held-out senses, tie-fair ranks, per-split scores."""
from __future__ import annotations

import numpy as np
import torch
from torch_geometric.data import Data

from sensegraph.gnn.data import SenseGraphData
from sensegraph.gnn.evaluate import EvalQueryTarget, MediaEvidence, evaluate_propagation, rank_of_gold, split_senses


def test_split_is_seeded_disjoint_and_halves_the_senses():
    ids = [f"n{i:08d}" for i in range(101)]
    a, b = split_senses(ids, seed=0), split_senses(list(reversed(ids)), seed=0)
    assert a == b  # the order the ids come in does not matter
    assert set(a) == set(ids) and set(a.values()) == {"dev", "test"}
    assert abs(sum(v == "dev" for v in a.values()) - 50.5) <= 0.5
    assert split_senses(ids, seed=1) != a


def test_tied_scores_rank_in_the_middle_not_by_id_order():
    ids = [f"m{i}" for i in range(9)]
    flat = np.zeros(9)
    hit, rr = rank_of_gold(flat, ids, {"m0"})  # a method with nothing to say gains nothing from m0 being first
    assert hit == 0.0 and rr == 1.0 / 5.0
    scores = np.array([0.1, 0.9, 0.5, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0])
    assert rank_of_gold(scores, ids, {"m1"}) == (1.0, 1.0)
    assert rank_of_gold(scores, ids, {"m2", "m4"}) == (0.0, 1.0 / 2.5)  # level with m3: ranks 2 and 3
    assert rank_of_gold(scores, ids, {"nope"}) == (0.0, 0.0)


def _chain_graph():
    """Four related sense pairs (s0-s1, s2-s3, …); a sense's two media lie near a direction its partner shares."""
    senses = [f"s{i}" for i in range(8)]
    pairs = torch.tensor([[i, i + 1] for i in range(0, 8, 2)]).T
    edge_index = torch.cat([pairs, pairs.flip(0)], dim=1)
    edge_type = torch.cat([torch.zeros(4, dtype=torch.long), torch.ones(4, dtype=torch.long)])
    dim = 8
    data = Data(x=torch.randn(8, 4, generator=torch.Generator().manual_seed(0)), proto=torch.zeros(8, dim),
                has_proto=torch.zeros(8, dtype=torch.bool), log_count=torch.zeros(8), edge_index=edge_index,
                edge_type=edge_type, num_nodes=8)
    graph = SenseGraphData(data, senses, ["hypernym"], "enc", dim)
    rng = np.random.default_rng(0)
    base = {s: rng.normal(size=dim) for s in senses}
    for i in range(0, 8, 2):  # neighbours look alike, so neighbour-mean has something to find
        base[senses[i + 1]] = base[senses[i]] + 0.3 * rng.normal(size=dim)
    feats, owner = {}, {}
    for s in senses:
        for k in range(2):
            v = base[s] + 0.1 * rng.normal(size=dim)
            feats[f"{s}-{k}"] = (v / np.linalg.norm(v)).astype(np.float32)
            owner[f"{s}-{k}"] = (s,)
    return graph, MediaEvidence(feats, owner)


def test_report_holds_each_split_and_the_splits_add_up():
    graph, evidence = _chain_graph()
    queries = [EvalQueryTarget(f"q-{s}", (f"{s}-0", f"{s}-1"), (s,)) for s in graph.sense_ids]
    splits = split_senses(graph.sense_ids, seed=0)
    report = evaluate_propagation(graph, evidence, queries, folds=8, methods=["neighbour-mean", "global-mean", "none"],
                                  splits=splits)
    assert set(report.splits) == {"dev", "test"}
    for method in ("neighbour-mean", "global-mean"):
        whole, dev, test = report.methods[method], report.splits["dev"][method], report.splits["test"][method]
        assert dev["senses"] + test["senses"] == whole["senses"] == 8
        assert dev["queries"] + test["queries"] == whole["queries"]
        weighted = (dev["query_mrr"] * dev["queries"] + test["query_mrr"] * test["queries"]) / whole["queries"]
        assert abs(weighted - whole["query_mrr"]) < 1e-3
    # each sense is cold alone and its partner's media lie nearest: neighbour-mean ranks its own next to them
    assert report.methods["neighbour-mean"]["query_mrr"] > report.methods["global-mean"]["query_mrr"]
    # no prototype at all: every medium level, the sense's best one at the middle rank of 16
    assert report.methods["none"]["query_mrr"] == round(1.0 / 8.5, 4)
    assert report.methods["none"]["coverage"] == 0.0


def test_mrr_stopping_still_reports_a_cosine_as_the_confidence_base():
    from sensegraph.gnn.evaluate import with_prototypes
    from sensegraph.gnn.train import TrainConfig, _validator, train

    graph, evidence = _chain_graph()
    g = with_prototypes(graph, evidence.prototypes(sorted(evidence.features)), {s: 2 for s in graph.sense_ids})
    result = train(g, config=TrainConfig(epochs=4, patience=4, val_metric="mrr", contrastive=1.0))
    val = torch.tensor(result.val_rows)
    visible = g.data.has_proto.clone()
    visible[val] = False
    cosine = _validator(g, val, visible, 2)(result.model)
    assert result.val_cosine == cosine  # what confidences multiply is a cosine, not the MRR it stopped on
    mrr = _validator(g, val, visible, 2, "mrr", g.data.proto[g.data.has_proto])(result.model)
    assert result.val_score == mrr and 0.0 < mrr <= 1.0
    assert result.summary()["val_score"] == round(mrr, 4)
