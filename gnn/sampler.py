"""A pure-torch neighbour sampler for PyG's ``NeighborLoader`` (no ``pyg-lib`` / ``torch-sparse`` needed).

PyG's own ``NeighborSampler`` needs one of those compiled extensions, which have no wheels for every
torch release; this sampler implements the same ``BaseSampler.sample_from_nodes`` contract in plain
torch: for each hop, up to ``num_neighbors[h]`` incoming edges per frontier node, drawn without
replacement by a seeded generator. The loader (data + sampler) turns its output into sub-``Data``.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from . import _pyg  # noqa: F401  first: PyG without its import-time jit.script warning
from torch_geometric.data import Data
from torch_geometric.sampler import BaseSampler, NodeSamplerInput, SamplerOutput


class TorchNeighborSampler(BaseSampler):
    """Uniform k-hop neighbour sampling over incoming edges (CSC), seeded for reproducibility.

    Args:
        data (Data): the graph; only ``edge_index`` and ``num_nodes`` are read.
        num_neighbors (Sequence[int]): fan-out per hop; ``-1`` keeps every neighbour.
        seed (int, optional): generator seed. (default: ``0``)
    """

    def __init__(self, data: Data, num_neighbors: Sequence[int], seed: int = 0) -> None:
        self.num_neighbors = [int(n) for n in num_neighbors]
        self.num_nodes = int(data.num_nodes)
        dst = data.edge_index[1]
        order = torch.argsort(dst, stable=True)
        self.eid = order  # edge ids sorted by target
        self.src = data.edge_index[0][order]
        deg = torch.bincount(dst, minlength=self.num_nodes)
        self.ptr = torch.zeros(self.num_nodes + 1, dtype=torch.long)
        self.ptr[1:] = torch.cumsum(deg, 0)
        self.generator = torch.Generator().manual_seed(seed)

    def _pick(self, frontier: torch.Tensor, fanout: int) -> torch.Tensor:
        """Positions (into ``src``/``eid``) of the sampled incoming edges of ``frontier``."""
        start = self.ptr[frontier]
        deg = self.ptr[frontier + 1] - start
        take = deg if fanout < 0 else torch.clamp(deg, max=fanout)
        if int(take.sum()) == 0:
            return torch.zeros(0, dtype=torch.long)
        owner = torch.repeat_interleave(torch.arange(frontier.numel()), take)
        slot = torch.arange(owner.numel()) - torch.repeat_interleave(torch.cumsum(take, 0) - take, take)
        offset = slot.clone()
        sub = (take < deg)[owner]
        if bool(sub.any()):
            # without replacement: rank random keys inside each over-full node's neighbour list
            over = (take < deg).nonzero().view(-1)
            keys = torch.rand(int(deg[over].sum()), generator=self.generator)
            grp = torch.repeat_interleave(torch.arange(over.numel()), deg[over])
            order = torch.argsort(grp.double() * 2 + keys.double())  # keys in [0,1): groups stay apart
            first = torch.cumsum(deg[over], 0) - deg[over]
            within = order - torch.repeat_interleave(first, deg[over])
            row_of = torch.full((frontier.numel(),), -1, dtype=torch.long)
            row_of[over] = torch.arange(over.numel())
            r = row_of[owner[sub]]
            offset[sub] = within[first[r] + slot[sub]]
        return start[owner] + offset

    def sample_from_nodes(self, index: NodeSamplerInput, **kwargs) -> SamplerOutput:
        seeds = index.node.view(-1).to(torch.long)
        local = torch.full((self.num_nodes,), -1, dtype=torch.long)
        nodes = [seeds]  # the loader hands over unique seeds
        local[nodes[0]] = torch.arange(nodes[0].numel())
        count = nodes[0].numel()
        rows, cols, edges = [], [], []
        sampled_nodes, sampled_edges = [count], []
        frontier = nodes[0]
        for fanout in self.num_neighbors:
            pos = self._pick(frontier, fanout)
            src, eid = self.src[pos], self.eid[pos]
            new = src[local[src] < 0].unique()
            local[new] = torch.arange(count, count + new.numel())
            count += new.numel()
            dst_global = self._targets(pos)
            rows.append(local[src])
            cols.append(local[dst_global])
            edges.append(eid)
            nodes.append(new)
            sampled_nodes.append(new.numel())
            sampled_edges.append(pos.numel())
            frontier = new
        node = torch.cat(nodes)
        cat = lambda xs: torch.cat(xs) if xs else torch.zeros(0, dtype=torch.long)  # noqa: E731
        return SamplerOutput(
            node=node, row=cat(rows), col=cat(cols), edge=cat(edges),
            num_sampled_nodes=sampled_nodes, num_sampled_edges=sampled_edges,
            metadata=(index.input_id, None),
        )

    def sample_from_edges(self, index, neg_sampling=None):  # noqa: ANN001 - link prediction is not used here
        raise NotImplementedError("TorchNeighborSampler samples from nodes only")

    def _targets(self, pos: torch.Tensor) -> torch.Tensor:
        """The target node of each CSC position."""
        return torch.searchsorted(self.ptr, pos, right=True) - 1

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(num_neighbors={self.num_neighbors})"
