"""The match formula and the weights that feed it, as pure functions.

    match(q, m) = α · cos(joint(q), joint(m)) + β · Σ_k w_k · cos(proto_k, native(m))

First similarity in the joint text–media space, second in the media's native space (README.md,
Architecture: why two spaces, and the measurement that chose the native one).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def normalise_weights(confidences: Sequence[float], unrepresented: float = 0.0) -> np.ndarray:
    """Mention weights (linking confidence × salience) → w_k summing to 1, or to less when senses the
    query linked have no prototype: their ``unrepresented`` weight stays out of Σ w_k, so a minor
    word never takes all of β when the head noun has no media (all-zero stays zero)."""
    c = np.clip(np.asarray(confidences, dtype=np.float64), 0.0, None)
    total = c.sum() + max(float(unrepresented), 0.0)
    return c / total if total > 0 else c


def unrepresented_weight(missing: Sequence[float], represented: Sequence[float]) -> float:
    """The weight that stays out of Σ w_k: how far the heaviest linked sense without a prototype
    outweighs the heaviest one with a prototype (0 when a represented sense is at least as heavy).
    A missing modifier ("night" in "a bat flying at night") costs the head noun nothing; a missing
    head noun keeps a modifier from taking all of β."""
    top_missing = max((float(w) for w in missing), default=0.0)
    top_represented = max((float(w) for w in represented), default=0.0)
    return max(top_missing - top_represented, 0.0)


def cosine_rows(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """cos(row_i, vector) for each row; zero rows score 0."""
    m = np.asarray(matrix, dtype=np.float32)
    v = np.asarray(vector, dtype=np.float32)
    norms = np.linalg.norm(m, axis=1) * max(float(np.linalg.norm(v)), 1e-12)
    return (m @ v) / np.maximum(norms, 1e-12)


def formula_query(
    text: np.ndarray, prototypes: Sequence[np.ndarray], weights: np.ndarray, alpha: float, beta: float
) -> tuple[np.ndarray, np.ndarray | None]:
    """The (joint, native) parts of a store query whose score is the match formula:
    α·q̂ and β·Σ w_k·p̂_k (None without senses or β). With both parts zero (α = 0 and nothing linked)
    the text alone ranks the candidates: every match is 0 then, and text similarity is the tie-break."""
    q = np.asarray(text, dtype=np.float32)
    joint = alpha * q / max(float(np.linalg.norm(q)), 1e-12)
    native = None
    if beta != 0 and len(prototypes) and np.any(weights):
        p = np.stack([np.asarray(v, dtype=np.float32) for v in prototypes])
        p /= np.maximum(np.linalg.norm(p, axis=1, keepdims=True), 1e-12)
        native = (beta * np.asarray(weights, dtype=np.float32)) @ p
    if not np.any(joint) and (native is None or not np.any(native)):
        joint = q / max(float(np.linalg.norm(q)), 1e-12)
    return joint.astype(np.float32), None if native is None else native.astype(np.float32)


def match_scores(
    sim1: np.ndarray, sim2_per_sense: np.ndarray, weights: np.ndarray, alpha: float, beta: float
) -> tuple[np.ndarray, np.ndarray]:
    """(match, sim2) for n media: sim1 (n,), sim2_per_sense (n, K), weights (K,)."""
    sim2 = sim2_per_sense @ weights if sim2_per_sense.size else np.zeros_like(sim1)
    return alpha * sim1 + beta * sim2, sim2


def rank(match: np.ndarray, k: int | None, threshold: float | None) -> np.ndarray:
    """Indices by descending match: the top k (rank mode) or all ≥ threshold, capped at k (threshold mode)."""
    order = np.argsort(-match, kind="stable")
    if threshold is not None:
        order = order[match[order] >= threshold]
    return order if k is None else order[:k]
