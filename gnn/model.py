"""``PropagationNet``: predicts a sense's native-space prototype from its text and its neighbours.

    h0   = ReLU(W_t x + W_p (m ⊙ p) + W_m [m, m · log1p(count)])          input (m = visible mask)
    h_l  = h_{l-1} + Dropout(ReLU(RelSAGEConv_l(h_{l-1})))                 L message-passing layers
    n_k  = normalise(k-hop visible mean of p)                               label-propagation skip path
    ŷ    = normalise(W_o [h_L, h0] + Σ_k softplus(g_k) · n_k)                 (the default)
    ŷ    = normalise(lp + γ · (W_o [h_L, h0] + Σ_k softplus(g_k) · n_k))       with ``lp_skip``, γ₀ = 0

The skip path lets the network start from the non-learned neighbour mean and learn, from text and
structure, how to correct it. With ``lp_skip`` the start is exactly ``neighbour-mean``'s prediction
(``lp``, label propagation over the whole graph from the visible prototypes, computed by the caller)
and γ, a learned scalar initialised at 0, lets in only as much correction as training earns: the
"correct and smooth" idea (Huang et al. 2021) turned around. On evalsets/coldstart it ranked worse
than the plain model (docs/gnn.md), so it is off by default. A sense whose own prototype is hidden
(masked) sees only its text.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sensegraph.errors import ConfigError
from sensegraph.registry import get, register

from .rel_sage_conv import RelSAGEConv
from .visible_mean_conv import VisibleMeanConv

RELATION_MODES = ("none", "direction", "type")


@dataclass(frozen=True)
class ModelConfig:
    """Hyper-parameters of ``PropagationNet`` (saved in the checkpoint)."""

    text_dim: int = 384
    native_dim: int = 1280
    hidden: int = 256
    layers: int = 2
    dropout: float = 0.2
    relations: str = "direction"  # "none" | "direction" (up/down) | "type" (relation type × direction)
    num_relation_types: int = 1  # relation types in the graph (used when relations == "type")
    skip_hops: int = 2  # hops of the label-propagation skip path (0 = off)
    lp_skip: bool = False  # predict neighbour-mean's label propagation plus a learned, gated correction
    name: str = "propagation_net"  # the model's registry name (sensegraph.registry kind "gnn.model"; build_model)

    def __post_init__(self) -> None:
        if self.relations not in RELATION_MODES:
            raise ConfigError(f"relations must be one of {RELATION_MODES}, got {self.relations!r}")
        if self.layers < 1 or self.hidden < 1 or not 0.0 <= self.dropout < 1.0 or self.skip_hops < 0:
            raise ConfigError(f"invalid model configuration {self}")

    @property
    def num_groups(self) -> int:
        return {"none": 1, "direction": 2, "type": 2 * max(1, self.num_relation_types)}[self.relations]

    def to_dict(self) -> dict:
        return asdict(self)


def relation_groups(edge_type: Tensor, relations: str) -> Tensor:
    """Map ``edge_type`` (2·relation + direction) to the model's relation groups."""
    if relations == "none":
        return torch.zeros_like(edge_type)
    if relations == "direction":
        return edge_type % 2
    return edge_type


MODEL_KIND = "gnn.model"


def build_model(config: ModelConfig) -> nn.Module:
    """The GNN registered as ``config.name`` (kind ``gnn.model``), built from ``config``; an unknown name lists the known ones."""
    return get(MODEL_KIND, config.name)(config)


@register(MODEL_KIND, "propagation_net")
class PropagationNet(nn.Module):
    """Text + visible neighbour prototypes → a unit-norm prototype per node."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = c = config
        self.lin_text = nn.Linear(c.text_dim, c.hidden)
        self.lin_proto = nn.Linear(c.native_dim, c.hidden, bias=False)
        self.lin_meta = nn.Linear(2, c.hidden, bias=False)
        self.convs = nn.ModuleList(RelSAGEConv(c.hidden, c.hidden, c.num_groups) for _ in range(c.layers))
        self.lin_out = nn.Linear(2 * c.hidden, c.native_dim)
        self.skip = VisibleMeanConv()
        self.skip_gate = nn.Parameter(torch.zeros(c.skip_hops))
        self.dropout = nn.Dropout(c.dropout)
        if c.lp_skip:
            self.lp_gate = nn.Parameter(torch.zeros(1))  # γ: the correction starts switched off

    def forward(self, x: Tensor, proto: Tensor, visible: Tensor, log_count: Tensor,
                edge_index: Tensor, edge_type: Tensor, rows: Tensor | None = None, lp: Tensor | None = None) -> Tensor:
        """Unit-norm predictions for every node, or only for ``rows`` (cheaper when training); ``lp``: the
        label-propagation prediction per node (``gnn.baselines.neighbour_mean``), needed with ``lp_skip``."""
        if self.config.lp_skip and lp is None:
            raise ValueError("this model adds a correction to label propagation: pass lp (gnn.baselines.neighbour_mean)")
        m = visible.to(x.dtype)
        p = proto * m.view(-1, 1)
        meta = torch.stack([m, m * log_count], dim=1)
        h0 = self.lin_text(x) + self.lin_meta(meta)
        seen = visible.nonzero().view(-1)
        if seen.numel():  # most senses have no prototype: project only the visible ones
            h0 = h0.index_add(0, seen, self.lin_proto(p[seen]))
        h0 = F.relu(h0)
        h = h0
        groups = relation_groups(edge_type, self.config.relations)
        for conv in self.convs:
            h = h + self.dropout(F.relu(conv(h, edge_index, groups)))
        pick = (lambda t: t) if rows is None else (lambda t: t[rows])
        out = self.lin_out(torch.cat([pick(h), pick(h0)], dim=1))
        vec, w = p, m
        for k in range(self.config.skip_hops):
            vec, w = self.skip(vec, w, edge_index)
            out = out + F.softplus(self.skip_gate[k]) * F.normalize(pick(vec), dim=1)
        if self.config.lp_skip:
            out = pick(lp) + self.lp_gate * out
        return F.normalize(out, dim=1)

    def __repr__(self) -> str:
        c = self.config
        return (f"{self.__class__.__name__}(text={c.text_dim}, native={c.native_dim}, hidden={c.hidden}, "
                f"layers={c.layers}, relations={c.relations}, skip_hops={c.skip_hops}, lp_skip={c.lp_skip})")


def cosine_loss(pred: Tensor, target: Tensor) -> Tensor:
    """Mean of 1 − cos(pred, target)."""
    return (1.0 - F.cosine_similarity(pred, target, dim=1)).mean()
