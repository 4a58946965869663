"""Sense prototypes from their evidence media (seed patent claims 5–12), as pure functions.

Strategies, chosen in configuration and recorded on each prototype:

* ``mean``    — fusion: the evidence-weighted mean of the media's native features, L2-normalised.
                Updated incrementally as an exact running mean (``update_mean``).
* ``cluster`` — agglomerative clustering (average linkage, cosine) of the sense's media; the weighted
                centre of the heaviest cluster, so off-sense media do not drag the prototype.
* ``medoid``  — the evidence medium with the largest weighted similarity to the others.

Weights come from ``evidence_weight``: linker confidence, classifier probability times a configured
factor, a gated link's confidence times its factor (weak evidence, 0 = kept for review only), 1.0 for
an editor-pinned edge, and 0 (never counts) for an editor-detached one.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .model import Evidence, Prototype

STRATEGIES = ("mean", "cluster", "medoid")


@dataclass(frozen=True)
class WeightPolicy:
    """How evidence edges turn into weights."""

    classifier_weight: float = 0.3
    min_confidence: float = 0.0
    gated_weight: float = 0.25  # a link the ingest gate judged unsure (low confidence or salience)


def evidence_weight(ev: Evidence, policy: WeightPolicy = WeightPolicy()) -> float:
    """The weight an evidence edge carries in its sense's prototype (0 = does not count)."""
    if ev.detached:
        return 0.0
    if ev.source == "editor":
        return 1.0
    conf = float(ev.confidence)
    if conf < policy.min_confidence or conf <= 0.0:
        return 0.0
    if ev.source == "classifier":
        return conf * policy.classifier_weight
    if ev.source == "gated":
        return conf * policy.gated_weight
    return conf


def counting_weights(evidence: Iterable[Evidence], policy: WeightPolicy = WeightPolicy()) -> dict[str, float]:
    """Media id → weight of the edges that count in a sense's prototype.

    Gated links only refine a prototype that other evidence makes: a sense whose counting evidence is
    all gated gets none, so one unsure caption cannot hand a wrong sense a full-strength prototype.
    """
    edges = [(e, evidence_weight(e, policy)) for e in evidence]
    counting = [(e, w) for e, w in edges if w > 0]
    if not any(e.source != "gated" for e, _ in counting):
        return {}
    return {e.media_id: w for e, w in counting}


def _normalise(v: np.ndarray) -> tuple[np.ndarray, float]:
    n = float(np.linalg.norm(v))
    return (v / n if n > 0 else v).astype(np.float32), n


def mean_prototype(sense_id: str, features: np.ndarray, weights: np.ndarray) -> Prototype:
    """Weighted mean, normalised; keeps (weight, norm) so later updates can run incrementally."""
    w = np.asarray(weights, dtype=np.float64)
    total = float(w.sum())
    mean = (w[:, None] * features.astype(np.float64)).sum(axis=0) / total
    vec, norm = _normalise(mean)
    return Prototype(sense_id, vec, "media", int(len(w)), "mean", 1.0, None, total, norm)


def update_mean(old: Prototype, features: np.ndarray, weights: np.ndarray) -> Prototype:
    """Exact running mean: fold new (features, weights) into an existing ``mean`` prototype."""
    w = np.asarray(weights, dtype=np.float64)
    old_sum = old.vector.astype(np.float64) * old.norm * old.weight
    total = old.weight + float(w.sum())
    mean = (old_sum + (w[:, None] * features.astype(np.float64)).sum(axis=0)) / total
    vec, norm = _normalise(mean)
    return Prototype(old.sense_id, vec, "media", old.media_count + int(len(w)), "mean", 1.0, None, total, norm)


def cluster_labels(features: np.ndarray, distance_threshold: float) -> np.ndarray:
    """Agglomerative (average linkage, cosine distance) cluster labels; one cluster below 3 media."""
    n = len(features)
    if n < 3:
        return np.zeros(n, dtype=int)
    from sklearn.cluster import AgglomerativeClustering

    model = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=distance_threshold
    )
    return model.fit_predict(features)


MAX_CLUSTER_SAMPLE = 1000


def cluster_labels_scalable(features: np.ndarray, distance_threshold: float, sample: int = MAX_CLUSTER_SAMPLE) -> np.ndarray:
    """``cluster_labels`` on at most ``sample`` evenly spaced media; the rest join the nearest centre.

    Agglomerative clustering is quadratic, so beyond a thousand media a deterministic sample is
    clustered and every medium is assigned to the closest (cosine) cluster centre.
    """
    n = len(features)
    if n <= sample:
        return cluster_labels(features, distance_threshold)
    idx = np.linspace(0, n - 1, sample).astype(int)
    sub = cluster_labels(features[idx], distance_threshold)
    f = features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)
    ids = np.unique(sub)
    centres = np.stack([f[idx][sub == c].mean(axis=0) for c in ids])
    centres /= np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12)
    return ids[np.argmax(f @ centres.T, axis=1)]


def cluster_prototype(
    sense_id: str, features: np.ndarray, weights: np.ndarray, distance_threshold: float = 0.85
) -> Prototype:
    """Centre of the heaviest cluster (ties: the larger, then the first)."""
    labels = cluster_labels_scalable(features, distance_threshold)
    w = np.asarray(weights, dtype=np.float64)
    best = max(set(labels.tolist()), key=lambda c: (w[labels == c].sum(), (labels == c).sum(), -c))
    keep = labels == best
    proto = mean_prototype(sense_id, features[keep], w[keep])
    return Prototype(sense_id, proto.vector, "media", int(len(w)), "cluster", 1.0, None, float(w.sum()), proto.norm)


def medoid_prototype(sense_id: str, features: np.ndarray, weights: np.ndarray) -> Prototype:
    """The medium whose weighted cosine to all others is largest."""
    f = features.astype(np.float64)
    f = f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-12)
    w = np.asarray(weights, dtype=np.float64)
    score = (f @ f.T) @ w
    vec, _ = _normalise(f[int(np.argmax(score))])
    return Prototype(sense_id, vec, "media", int(len(w)), "medoid", 1.0, None, float(w.sum()), 1.0)


def build_prototype(
    sense_id: str,
    features: np.ndarray,
    weights: Sequence[float] | np.ndarray,
    strategy: str = "mean",
    *,
    distance_threshold: float = 0.85,
) -> Prototype | None:
    """A prototype from a sense's evidence; ``None`` when nothing counts (no media or zero weight)."""
    w = np.asarray(weights, dtype=np.float64)
    keep = w > 0
    if not keep.any():
        return None
    features, w = np.asarray(features)[keep], w[keep]
    if strategy == "mean":
        return mean_prototype(sense_id, features, w)
    if strategy == "cluster":
        return cluster_prototype(sense_id, features, w, distance_threshold)
    if strategy == "medoid":
        return medoid_prototype(sense_id, features, w)
    raise ValueError(f"unknown prototype strategy {strategy!r}; known: {', '.join(STRATEGIES)}")
