"""Cold-start evaluation: hide all media of some evidenced senses, predict their prototypes, score them.

Protocol (k folds over the evidenced senses, each fold cold once):

1. the fold's senses are *cold*: every medium evidencing one of them is held out, and every sense's
   prototype is rebuilt (mean of unit features) from the media that remain — so no held-out medium
   leaks in through a second sense it also evidences;
2. each method predicts a prototype for each cold sense from what remains visible;
3. scores: cosine to the true prototype (mean of all the sense's media), and retrieval — rank every
   medium of the collection by cosine to the predicted prototype; hit@1 and MRR against the sense's own
   media ("sense"), and against the gold media of each benchmark query that targets the sense ("query").
"""
from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from sensegraph.errors import ValidationError

from .baselines import BASELINES
from .data import SenseGraphData
from .model import ModelConfig
from .train import TrainConfig, full_forward, train

GNN = "gnn"


@dataclass(frozen=True)
class EvalQueryTarget:
    """A benchmark query reduced to what this evaluation needs."""

    query_id: str
    gold: tuple[str, ...]
    target_senses: tuple[str, ...]


@dataclass
class MediaEvidence:
    """Native features of a collection of media and the senses each evidences."""

    features: dict[str, np.ndarray]
    senses: dict[str, tuple[str, ...]]

    def media_of(self, sense_id: str) -> list[str]:
        return [m for m, ss in self.senses.items() if sense_id in ss]

    def prototypes(self, media_ids: Iterable[str]) -> dict[str, np.ndarray]:
        """Mean-of-unit-features prototype per sense, from ``media_ids`` only."""
        acc: dict[str, list[np.ndarray]] = {}
        for m in media_ids:
            for s in self.senses.get(m, ()):
                acc.setdefault(s, []).append(self.features[m])
        out = {}
        for s, vs in acc.items():
            v = np.mean(np.stack(vs), axis=0)
            out[s] = (v / max(float(np.linalg.norm(v)), 1e-12)).astype(np.float32)
        return out


@dataclass
class MethodScores:
    cosine: list[float] = field(default_factory=list)
    covered: list[bool] = field(default_factory=list)
    sense_hit1: list[float] = field(default_factory=list)
    sense_mrr: list[float] = field(default_factory=list)
    query_hit1: list[float] = field(default_factory=list)
    query_mrr: list[float] = field(default_factory=list)
    sense_split: list[str] = field(default_factory=list)  # per sense row: its split ("" when there are none)
    query_split: list[str] = field(default_factory=list)  # per query row
    query_fold: list[int] = field(default_factory=list)  # per query row: the fold it was cold in

    def summary(self, split: str | None = None) -> dict[str, float]:
        """Means over every row, or over the rows of one ``split``."""
        mean = lambda xs: round(float(np.mean(xs)), 4) if xs else float("nan")  # noqa: E731
        s = [split is None or x == split for x in self.sense_split]
        q = [split is None or x == split for x in self.query_split]
        pick = lambda xs, mask: [x for x, m in zip(xs, mask) if m]  # noqa: E731
        return {"cosine": mean(pick(self.cosine, s)), "coverage": mean([float(c) for c in pick(self.covered, s)]),
                "sense_hit@1": mean(pick(self.sense_hit1, s)), "sense_mrr": mean(pick(self.sense_mrr, s)),
                "query_hit@1": mean(pick(self.query_hit1, q)), "query_mrr": mean(pick(self.query_mrr, q)),
                "query_mrr_folds": [mean([x for x, f, m in zip(self.query_mrr, self.query_fold, q) if m and f == k])
                                    for k in sorted(set(self.query_fold))],
                "senses": sum(s), "queries": sum(q)}


@dataclass
class PropagationReport:
    methods: dict[str, dict[str, float]]
    folds: int
    cold_senses: int
    media: int
    seconds: float
    train: list[dict] = field(default_factory=list)
    splits: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)  # split -> method -> summary

    def to_dict(self) -> dict:
        return {"methods": self.methods, "folds": self.folds, "cold_senses": self.cold_senses,
                "media": self.media, "seconds": round(self.seconds, 2), "train": self.train, "splits": self.splits}


def split_senses(sense_ids: Sequence[str], seed: int = 0, dev_fraction: float = 0.5) -> dict[str, str]:
    """A seeded ``dev`` / ``test`` label per sense: tune on the dev senses' scores, report the test senses'."""
    if not 0.0 < dev_fraction < 1.0:
        raise ValidationError(f"dev_fraction must be in (0, 1), got {dev_fraction}")
    ids = sorted(sense_ids)
    order = np.random.default_rng(seed + 7919).permutation(len(ids))
    n_dev = round(dev_fraction * len(ids))
    return {ids[i]: ("dev" if r < n_dev else "test") for r, i in enumerate(order)}


def make_folds(sense_ids: Sequence[str], k: int, seed: int) -> list[list[str]]:
    """``k`` disjoint folds of ``sense_ids`` (a seeded shuffle, dealt round-robin)."""
    if k < 2:
        raise ValidationError(f"folds must be at least 2, got {k}")
    ids = sorted(sense_ids)
    rng = np.random.default_rng(seed)
    rng.shuffle(ids)
    return [sorted(ids[i::k]) for i in range(k) if ids[i::k]]


def rank_of_gold(scores: np.ndarray, media_ids: Sequence[str], gold: set[str]) -> tuple[float, float]:
    """(hit@1, reciprocal rank) of the best-scored ``gold`` medium among ``media_ids`` ranked by ``scores``.

    Ties take their mean rank, so a method with nothing to say (all scores equal) scores like a random
    ranking instead of profiting from the order of the ids.
    """
    is_gold = np.fromiter((m in gold for m in media_ids), dtype=bool, count=len(media_ids))
    if not is_gold.any():
        return 0.0, 0.0
    best = float(scores[is_gold].max())
    above = int((scores > best).sum())
    tied = int((scores == best).sum())  # the best gold medium and everything level with it
    rank = above + (tied + 1) / 2.0
    return float(above == 0 and tied == 1), 1.0 / rank


def with_prototypes(graph: SenseGraphData, protos: Mapping[str, np.ndarray], counts: Mapping[str, int]) -> SenseGraphData:
    """A shallow copy of ``graph`` whose prototype inputs come from ``protos``."""
    g = copy.copy(graph)
    g.data = graph.data.clone()
    proto = torch.zeros_like(graph.data.proto)
    has = torch.zeros(graph.num_nodes, dtype=torch.bool)
    cnt = torch.zeros(graph.num_nodes)
    for s, v in protos.items():
        i = graph.index.get(s)
        if i is not None:
            proto[i] = torch.from_numpy(v)
            has[i] = True
            cnt[i] = counts.get(s, 1)
    g.data.proto, g.data.has_proto, g.data.log_count = proto, has, torch.log1p(cnt)
    return g


def evaluate_propagation(
    graph: SenseGraphData,
    evidence: MediaEvidence,
    queries: Sequence[EvalQueryTarget] = (),
    *,
    folds: int = 5,
    seed: int = 0,
    methods: Sequence[str] | None = None,
    model_config: ModelConfig | None = None,
    train_config: TrainConfig | None = None,
    log: Callable[[str], None] | None = None,
    splits: Mapping[str, str] | None = None,
) -> PropagationReport:
    """Cross-validated cold-start comparison of the baselines and the GNN on ``graph``.

    ``splits`` labels each evidenced sense (e.g. ``split_senses``: dev / test); the report then also
    holds every method's scores over each split's cold senses (``PropagationReport.splits``).
    """
    t0 = time.perf_counter()
    methods = list(methods or [*BASELINES, GNN])
    unknown = [m for m in methods if m != GNN and m not in BASELINES]
    if unknown:
        raise ValidationError(f"unknown method(s) {unknown}; known: {[*BASELINES, GNN]}")
    media_ids = sorted(evidence.features)
    feats = torch.from_numpy(np.stack([evidence.features[m] for m in media_ids]))
    evidenced = sorted({s for ss in evidence.senses.values() for s in ss if s in graph.index})
    true_all = evidence.prototypes(media_ids)
    scores = {m: MethodScores() for m in methods}
    train_logs: list[dict] = []
    for f, cold in enumerate(make_folds(evidenced, folds, seed)):
        cold_set = set(cold)
        held = {m for m in media_ids if cold_set & set(evidence.senses[m])}
        kept = [m for m in media_ids if m not in held]
        protos = evidence.prototypes(kept)
        counts = {s: len([m for m in kept if s in evidence.senses[m]]) for s in protos}
        g = with_prototypes(graph, protos, counts)
        visible = g.data.has_proto.clone()
        rows = torch.tensor([graph.index[s] for s in cold])
        preds: dict[str, torch.Tensor] = {}
        for name in methods:
            if name == GNN:
                result = train(g, model_config, train_config, exclude=rows)
                preds[name] = full_forward(result.model, g, visible)
                train_logs.append({"fold": f, **result.summary()})
                if log:
                    log(f"fold {f + 1}: GNN val cosine {result.val_cosine:.4f} after {result.epochs_run} epochs")
            else:
                preds[name] = BASELINES[name](g, visible)
        for name, pred in preds.items():
            sc = scores[name]
            sims = pred[rows] @ feats.T  # (cold, media)
            for j, s in enumerate(cold):
                p = pred[rows[j]]
                covered = bool(p.abs().sum() > 0)
                sc.covered.append(covered)
                sc.sense_split.append((splits or {}).get(s, ""))
                sc.cosine.append(float(F.cosine_similarity(p.view(1, -1), torch.from_numpy(true_all[s]).view(1, -1))) if covered else 0.0)
                row = sims[j].numpy()
                own = set(evidence.media_of(s))
                h, rr = rank_of_gold(row, media_ids, own)
                sc.sense_hit1.append(h)
                sc.sense_mrr.append(rr)
                for q in queries:
                    if s in q.target_senses:
                        gold = set(q.gold) & own
                        if gold:
                            h, rr = rank_of_gold(row, media_ids, gold)
                            sc.query_hit1.append(h)
                            sc.query_mrr.append(rr)
                            sc.query_split.append((splits or {}).get(s, ""))
                            sc.query_fold.append(f)
    by_split = {sp: {m: sc.summary(sp) for m, sc in scores.items()} for sp in sorted(set((splits or {}).values()))}
    return PropagationReport({m: s.summary() for m, s in scores.items()}, folds, len(evidenced), len(media_ids),
                             time.perf_counter() - t0, train_logs, by_split)
