"""A relation-aware GraphSAGE layer (mean aggregation per relation group), written like PyG's ``sage_conv.py``."""
from __future__ import annotations

import torch
from torch import Tensor
from . import _pyg  # noqa: F401  first: PyG without its import-time jit.script warning
from torch_geometric.nn import MessagePassing
from torch_geometric.nn.dense.linear import Linear


class RelSAGEConv(MessagePassing):
    r"""GraphSAGE (`Hamilton et al. <https://arxiv.org/abs/1706.02216>`_) with one neighbour
    weight per relation group, as in R-GCN (`Schlichtkrull et al. <https://arxiv.org/abs/1703.06103>`_):

    .. math::
        \mathbf{x}^{\prime}_i = \mathbf{W}_0 \mathbf{x}_i + \sum_{r \in \mathcal{R}}
        \mathbf{W}_r \cdot \mathrm{mean}_{j \in \mathcal{N}_r(i)} \mathbf{x}_j

    Args:
        in_channels (int): size of each input sample.
        out_channels (int): size of each output sample.
        num_relations (int, optional): number of relation groups; ``edge_type`` values must be
            below it. (default: ``1``)
        bias (bool, optional): learn an additive bias on the root term. (default: ``True``)

    Shapes:
        - **input:** node features :math:`(|\mathcal{V}|, F_{in})`, edge indices :math:`(2, |\mathcal{E}|)`,
          edge types :math:`(|\mathcal{E}|)`
        - **output:** node features :math:`(|\mathcal{V}|, F_{out})`
    """

    def __init__(self, in_channels: int, out_channels: int, num_relations: int = 1, bias: bool = True) -> None:
        super().__init__(aggr="mean")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.num_relations = num_relations
        self.lin_root = Linear(in_channels, out_channels, bias=bias)
        self.lin_rel = torch.nn.ModuleList(Linear(in_channels, out_channels, bias=False) for _ in range(num_relations))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self.lin_root.reset_parameters()
        for lin in self.lin_rel:
            lin.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, edge_type: Tensor | None = None) -> Tensor:
        out = self.lin_root(x)
        if edge_type is None:
            edge_type = edge_index.new_zeros(edge_index.size(1))
        for r, lin in enumerate(self.lin_rel):
            mask = edge_type == r
            if bool(mask.any()):
                out = out + lin(self.propagate(edge_index[:, mask], x=x, size=(x.size(0), x.size(0))))
        return out

    def message(self, x_j: Tensor) -> Tensor:
        return x_j

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, num_relations={self.num_relations})"
