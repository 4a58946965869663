"""Inference: predictions → ``Prototype(source="propagated", confidence=…)`` rows, and checkpoints.

Confidence of a propagated prototype = the model's validation cosine × (0.5 + 0.5 · support), where
support = 1 − exp(−(n1 + n2 / 2)) grows with the number of senses with an own prototype one (n1) and
two (n2) hops away: a sense predicted from text alone gets half the validation cosine; × ``SIDEWAYS_TRUST``
(0.1) when no evidenced hyponym lies within two steps below the sense (``trusted_from_below``).
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from sensegraph.errors import ConfigError, EncoderMismatch
from sensegraph.graph.model import Prototype

from .data import SenseGraphData

if TYPE_CHECKING:  # the model and training import PyG; confidences and prototypes need only torch
    from .model import PropagationNet
    from .train import TrainConfig, TrainResult

CHECKPOINT_FORMAT = 1
STRATEGY = "gnn"


def support_counts(graph: SenseGraphData, visible: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per node, how many neighbours (n1) and 2-hop walks (n2) end at a visible prototype."""
    src, dst = graph.data.edge_index
    v = visible.to(torch.float32)
    n1 = torch.zeros(graph.num_nodes).index_add_(0, dst, v[src])
    n2 = torch.zeros(graph.num_nodes).index_add_(0, dst, n1[src])
    return n1, n2


UPWARD = ("hypernym", "instance_hypernym")  # relation types whose direction 0 runs child → parent
SIDEWAYS_TRUST = 0.1  # confidence factor of a prediction with no evidenced hyponym within DESCENT_HOPS
DESCENT_HOPS = 2


def from_below(graph: SenseGraphData, visible: torch.Tensor, hops: int = DESCENT_HOPS) -> torch.Tensor:
    """Per node, whether a visible prototype lies below it: a hyponym (or instance) within ``hops`` steps down.

    A parent's media are its children's ("guitar" is answered by "acoustic guitar"), a sibling's are
    not ("lemon" is not answered by "orange"): what propagation predicts from below is a better guess."""
    up = [2 * i for i, t in enumerate(graph.relation_types) if t in UPWARD]
    keep = torch.isin(graph.data.edge_type, torch.tensor(up, dtype=torch.long)) if up else torch.zeros_like(graph.data.edge_type, dtype=torch.bool)
    child, parent = graph.data.edge_index[0, keep], graph.data.edge_index[1, keep]
    reach = visible.to(torch.float32)
    found = torch.zeros(graph.num_nodes)
    for _ in range(hops):
        reach = torch.zeros(graph.num_nodes).index_add_(0, parent, reach[child])
        found += reach
    return found > 0


def trusted_from_below(graph: SenseGraphData, visible: torch.Tensor, conf: torch.Tensor) -> torch.Tensor:
    """``conf`` where the prediction has evidence below it (``from_below``), ``SIDEWAYS_TRUST × conf`` elsewhere.

    Chosen on the dev halves of evalsets/coldstart and evalsets/core (docs/gnn.md): a guess made from
    siblings and parents put their media first for a cold leaf's own query."""
    return torch.where(from_below(graph, visible), conf, conf * SIDEWAYS_TRUST)


def confidences(graph: SenseGraphData, visible: torch.Tensor, val_cosine: float) -> torch.Tensor:
    n1, n2 = support_counts(graph, visible)
    support = 1.0 - torch.exp(-(n1 + 0.5 * n2))
    return (max(0.0, float(val_cosine)) * (0.5 + 0.5 * support)).clamp(0.0, 1.0)


def propagated_prototypes(
    graph: SenseGraphData,
    pred: torch.Tensor,
    conf: torch.Tensor,
    rows: Sequence[int] | torch.Tensor,
    *,
    min_own_media: int = 1,
    strategy: str = STRATEGY,
) -> list[Prototype]:
    """Propagated prototypes for ``rows`` that lack an own prototype backed by ``min_own_media`` media;
    ``pred[i]`` is row ``i``'s prediction (a tensor row, or a float32 array row used as it is)."""
    d = graph.data
    has, counts, confs = d.has_proto.numpy(), torch.expm1(d.log_count).round().numpy(), conf.numpy()
    floor = max(1, min_own_media)
    out: list[Prototype] = []
    for i in (rows.tolist() if isinstance(rows, torch.Tensor) else list(rows)):
        if has[i] and counts[i] >= floor:
            continue
        row = pred[i]
        vec = row.numpy().astype(np.float32) if isinstance(row, torch.Tensor) else np.asarray(row, dtype=np.float32)
        out.append(Prototype(
            sense_id=graph.sense_ids[i], vector=vec, source="propagated",
            media_count=0, strategy=strategy, confidence=round(float(confs[i]), 6),
        ))
    return out


# -- checkpoints ---------------------------------------------------------------------------------------
def save_checkpoint(path: str | os.PathLike[str], result: TrainResult, graph: SenseGraphData,
                    train_config: TrainConfig, text_model_id: str, extra: dict | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save({
        "format": CHECKPOINT_FORMAT,
        "encoder_id": graph.encoder_id,
        "native_dim": graph.native_dim,
        "text_model_id": text_model_id,
        "relation_types": graph.relation_types,
        "model_config": result.model.config.to_dict(),
        "train_config": asdict(train_config),
        "state_dict": result.model.state_dict(),
        "val_cosine": result.val_cosine,
        "summary": result.summary(),
        **(extra or {}),
    }, tmp)
    os.replace(tmp, path)
    return path


def load_checkpoint(path: str | os.PathLike[str], *, encoder_id: str, text_model_id: str) -> tuple[PropagationNet, dict]:
    """The model and its metadata; refused when trained for another encoder or text model."""
    from .model import ModelConfig, build_model

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"no GNN checkpoint at {path}; run a full `sensegraph propagate` first")
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    if ckpt.get("format") != CHECKPOINT_FORMAT:
        raise ConfigError(f"GNN checkpoint {path} has format {ckpt.get('format')!r}, expected {CHECKPOINT_FORMAT}; retrain")
    if ckpt["encoder_id"] != encoder_id:
        raise EncoderMismatch(
            f"GNN checkpoint {path} was trained for encoder {ckpt['encoder_id']!r}, but the store holds "
            f"{encoder_id!r}; run a full `sensegraph propagate` to retrain"
        )
    if ckpt["text_model_id"] != text_model_id:
        raise EncoderMismatch(
            f"GNN checkpoint {path} used text model {ckpt['text_model_id']!r}, not {text_model_id!r}; retrain"
        )
    model = build_model(ModelConfig(**ckpt["model_config"]))  # through the registry, by the saved name
    model.load_state_dict(ckpt["state_dict"])
    model.eval()
    return model, ckpt
