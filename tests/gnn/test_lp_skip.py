"""The GNN as a learned correction of label propagation (``ModelConfig.lp_skip``, an option; off by default)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from sensegraph.gnn.baselines import neighbour_mean
from sensegraph.gnn.evaluate import with_prototypes
from sensegraph.gnn.model import ModelConfig
from sensegraph.gnn.train import TrainConfig, _validator, full_forward, train

from test_coldstart_protocol import _chain_graph  # tests/gnn is on sys.path (no package)


LP = ModelConfig(text_dim=4, native_dim=8, lp_skip=True)


def _graph():
    graph, evidence = _chain_graph()
    return with_prototypes(graph, evidence.prototypes(sorted(evidence.features)), {s: 2 for s in graph.sense_ids})


def test_before_any_epoch_the_model_is_neighbour_mean():
    g = _graph()
    result = train(g, LP, TrainConfig(epochs=0))
    assert result.model.config.lp_skip and result.best_epoch == -1
    visible = g.data.has_proto.clone()
    visible[torch.tensor(result.val_rows)] = False
    got = full_forward(result.model, g, visible)
    want = F.normalize(neighbour_mean(g, visible), dim=1)
    torch.testing.assert_close(got, want)


def test_training_keeps_neighbour_mean_unless_the_held_out_evidence_scores_better():
    g = _graph()
    result = train(g, LP, TrainConfig(epochs=6, patience=6))
    val = torch.tensor(result.val_rows)
    visible = g.data.has_proto.clone()
    visible[val] = False
    lp = F.normalize(neighbour_mean(g, visible)[val], dim=1)
    candidates = g.data.proto[g.data.has_proto]
    own = (lp * g.data.proto[val]).sum(dim=1)
    start = float((1.0 / (1 + (lp @ candidates.T > own.view(-1, 1) + 1e-7).sum(dim=1))).mean())
    assert result.val_score >= start - 1e-6  # early stopping starts from the untrained (neighbour-mean) model
    assert result.val_score == _validator(g, val, visible, 2, "mrr", candidates)(result.model)


def test_the_default_model_needs_no_label_propagation_input():
    g = _graph()
    result = train(g, config=TrainConfig(epochs=2, patience=2))
    assert not result.model.config.lp_skip and result.best_epoch >= 0
    assert full_forward(result.model, g, g.data.has_proto).shape == g.data.proto.shape
