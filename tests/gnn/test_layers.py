"""The two message-passing layers on hand-checkable graphs."""
from __future__ import annotations

import torch

from sensegraph.gnn.rel_sage_conv import RelSAGEConv
from sensegraph.gnn.visible_mean_conv import VisibleMeanConv


def test_visible_mean_averages_only_visible_neighbours():
    # 0 <- 1, 0 <- 2, 0 <- 3 ; 3 <- 2 ; node 1 and 2 visible, 3 not
    x = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [9.0, 9.0]])
    w = torch.tensor([0.0, 1.0, 1.0, 0.0])
    ei = torch.tensor([[1, 2, 3, 2], [0, 0, 0, 3]])
    out, mass = VisibleMeanConv()(x, w, ei)
    assert torch.allclose(out[0], torch.tensor([0.5, 0.5]))  # node 3's (invisible) vector does not count
    assert torch.allclose(out[3], torch.tensor([0.0, 1.0]))
    assert torch.equal(out[1], torch.zeros(2)) and torch.equal(out[2], torch.zeros(2))  # no in-edges
    assert torch.allclose(mass, torch.tensor([2 / 3, 0.0, 0.0, 1.0]))


def test_rel_sage_uses_one_weight_per_relation_group():
    torch.manual_seed(0)
    conv = RelSAGEConv(3, 4, num_relations=2)
    x = torch.randn(3, 3)
    ei = torch.tensor([[1, 2], [0, 0]])
    out = conv(x, ei, torch.tensor([0, 1]))
    expected = conv.lin_root(x[0]) + conv.lin_rel[0](x[1]) + conv.lin_rel[1](x[2])
    assert torch.allclose(out[0], expected, atol=1e-6)
    same = conv(x, ei, torch.tensor([0, 0]))  # one group: the mean of both neighbours through lin_rel[0]
    assert torch.allclose(same[0], conv.lin_root(x[0]) + conv.lin_rel[0]((x[1] + x[2]) / 2), atol=1e-6)
    assert torch.allclose(out[1], conv.lin_root(x[1]), atol=1e-6)  # no neighbours: the root term only
    assert "RelSAGEConv(3, 4, num_relations=2)" == repr(conv)
