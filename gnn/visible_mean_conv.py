"""A parameter-free layer: the mean of the neighbours' vectors that are visible (label-propagation step)."""
from __future__ import annotations

import torch
from torch import Tensor
from . import _pyg  # noqa: F401  first: PyG without its import-time jit.script warning
from torch_geometric.nn import MessagePassing


class VisibleMeanConv(MessagePassing):
    r"""Mean over visible neighbours, with the visible weight carried along:

    .. math::
        \mathbf{h}_i = \frac{\sum_{j \in \mathcal{N}(i)} m_j \mathbf{x}_j}{\sum_{j \in \mathcal{N}(i)} m_j},
        \qquad m^{\prime}_i = \frac{1}{|\mathcal{N}(i)|}\sum_{j \in \mathcal{N}(i)} m_j

    where :math:`m_j \in [0, 1]` says how much of :math:`\mathbf{x}_j` is known (1 for a sense with its own
    prototype, 0 for one without). Rows with no visible neighbour come out as zeros with :math:`m' = 0`.
    Iterating it is label propagation (`Zhou et al. <https://papers.nips.cc/paper/2506>`_) without
    parameters; the GNN uses it as a skip path and the ``neighbour-mean`` baseline uses it alone.

    Shapes:
        - **input:** vectors :math:`(|\mathcal{V}|, F)`, weights :math:`(|\mathcal{V}|)`, edge indices :math:`(2, |\mathcal{E}|)`
        - **output:** vectors :math:`(|\mathcal{V}|, F)`, weights :math:`(|\mathcal{V}|)`
    """

    def __init__(self) -> None:
        super().__init__(aggr="add")

    def forward(self, x: Tensor, weight: Tensor, edge_index: Tensor) -> tuple[Tensor, Tensor]:
        n = x.size(0)
        deg = torch.bincount(edge_index[1], minlength=n).clamp(min=1).to(x.dtype)
        keep = weight[edge_index[0]] > 0  # only edges from (partly) visible nodes carry anything
        w = weight.to(x.dtype).view(-1, 1)
        total = self.propagate(edge_index[:, keep], x=torch.cat([x * w, w], dim=1), size=(n, n))
        vec, mass = total[:, :-1], total[:, -1]
        out = vec / mass.clamp(min=1e-12).view(-1, 1)
        return out * (mass > 0).view(-1, 1).to(x.dtype), mass / deg

    def message(self, x_j: Tensor) -> Tensor:
        return x_j

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}()"
