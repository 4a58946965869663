"""The head's input for one query against its candidates, as a pure function.

    x = [t; i; |t − i|; t ⊙ i; formula parts]

t and i are the query's and the medium's unit vectors in the joint space (seed 003, eq. 3); the
formula parts are what the linear formula already knows: sim1, sim2, the per-sense similarities
(their max and the heaviest sense's), the linking weights behind sim2, and how far each candidate
is from the best candidate on sim1 and sim2.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: names of the formula-part columns appended after the four joint-space blocks
PART_NAMES: tuple[str, ...] = (
    "sim1", "sim2", "sense_max", "sense_top", "weight_sum", "confidence_max", "senses", "text_only",
    "sim1_gap", "sim2_gap",
)


@dataclass(frozen=True)
class FormulaParts:
    """The formula's pieces for n candidates of one query (as ``SearchEngine._rank`` computes them)."""

    sim1: np.ndarray  # (n,) cos(text, medium) in the joint space
    per_sense: np.ndarray  # (n, K) cos(prototype_k, medium) in the native space
    weights: np.ndarray  # (K,) normalised w_k (Σ ≤ 1)
    confidences: np.ndarray  # (K,) the linked senses' weights before normalising

    @property
    def sim2(self) -> np.ndarray:
        return self.per_sense @ self.weights if self.per_sense.size else np.zeros_like(self.sim1)


def _unit_rows(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float32)
    return m / np.maximum(np.linalg.norm(m, axis=-1, keepdims=True), 1e-12)


def feature_dim(joint_dim: int) -> int:
    """Length of one feature row for a joint space of ``joint_dim``."""
    return 4 * joint_dim + len(PART_NAMES)


def pair_features(text: np.ndarray, media: np.ndarray, parts: FormulaParts,
                  best: tuple[float, float] | None = None) -> np.ndarray:
    """(n, 4·D + parts) rows for a query vector ``text`` (D,) and candidates' joint vectors ``media`` (n, D).

    ``best``: the (sim1, sim2) maxima the gaps are measured from (default: over these rows).
    """
    t = _unit_rows(np.asarray(text, dtype=np.float32)[None, :])
    i = _unit_rows(media)
    n = len(i)
    tt = np.repeat(t, n, axis=0)
    sim1 = np.asarray(parts.sim1, dtype=np.float32)
    sim2 = np.asarray(parts.sim2, dtype=np.float32)
    k = parts.per_sense.shape[1] if parts.per_sense.ndim == 2 else 0
    if k:
        sense_max = parts.per_sense.max(axis=1)
        sense_top = parts.per_sense[:, int(np.argmax(parts.weights))]
    else:
        sense_max = sense_top = np.zeros(n, dtype=np.float32)
    conf = np.asarray(parts.confidences, dtype=np.float32)
    per_query = [float(np.sum(parts.weights)) if k else 0.0, float(conf.max()) if conf.size else 0.0,
                 min(k, 4) / 4.0, 0.0 if k else 1.0]
    top1, top2 = best if best is not None else (float(sim1.max()) if n else 0.0, float(sim2.max()) if n else 0.0)
    extra = np.column_stack([
        sim1, sim2, sense_max, sense_top,
        *(np.full(n, v, dtype=np.float32) for v in per_query),
        sim1 - top1, sim2 - top2,
    ]).astype(np.float32)
    return np.concatenate([tt, i, np.abs(tt - i), tt * i, extra], axis=1).astype(np.float32)
