"""Modality-weighted fusion (seed 002) as pure functions: a confidence gate per modality, block vectors.

A medium with several modalities (a video's frames and its sound track) gets, per modality m, a
weight from that modality's own features — the parameter-free confidence gate

    c_m = 1 − H(p_m) / log |C_m|        (p_m: the modality's class distribution, |C_m| its classes)
    g_m = c_m / Σ_m' c_m'               (all gates zero: equal weights)

and its native vector is the concatenation of one block per modality, ``[ĝ_1·f_1 | ĝ_2·f_2 | …]``
with f_m unit and ĝ = g / ‖g‖₂, so the vector stays unit-norm (as stores keep it) and its dot
product with a per-modality prototype ``[p_1 | 0 | …]`` is ĝ_m·cos(p_m, f_m). A sense's prototype is
split into one unit block per modality (``modality_prototypes``): the second similarity of a medium
is Σ_k w_k Σ_m ĝ_m cos(p_km, f_m) — each modality's evidence scored in its own space, weighed by
how sure that modality is. A medium of one modality has ĝ = 1 on its block and 0 elsewhere.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Blocks = Sequence[tuple[str, int]]  # (modality name, width) of each block of the native vector, in order


def normalised_entropy(dist: np.ndarray) -> float:
    """H(p) / log(n) of a distribution over n classes, in [0, 1] (0: one class, 1: uniform)."""
    p = np.clip(np.asarray(dist, dtype=np.float64).reshape(-1), 0.0, None)
    n = p.size
    total = p.sum()
    if n < 2 or total <= 0:
        return 1.0
    p = p / total
    nz = p[p > 0]
    return float(-(nz * np.log(nz)).sum() / np.log(n))


def confidence(dist: np.ndarray) -> float:
    """The gate's confidence of one modality: 1 − normalised entropy of its class distribution."""
    return 1.0 - normalised_entropy(dist)


def gates(confidences: Sequence[float | None]) -> np.ndarray:
    """g_m ∝ each present modality's confidence (None: absent, weight 0), summing to 1; every present
    one at zero: equal weights."""
    c = np.array([0.0 if x is None else max(float(x), 0.0) for x in confidences], dtype=np.float64)
    present = np.array([x is not None for x in confidences])
    if not present.any():
        return c
    if c.sum() <= 0:
        c = present.astype(np.float64)
    return c / c.sum()


def gate_weights(dists: Sequence[np.ndarray | None]) -> np.ndarray:
    """``gates`` of each modality's class distribution (None: absent)."""
    return gates([None if d is None else confidence(d) for d in dists])


def block_slices(blocks: Blocks) -> list[slice]:
    """The slice of the native vector each block occupies."""
    out, start = [], 0
    for _, width in blocks:
        out.append(slice(start, start + int(width)))
        start += int(width)
    return out


def fuse_native(parts: Sequence[np.ndarray | None], weights: np.ndarray, blocks: Blocks) -> np.ndarray:
    """``[ĝ_1·f̂_1 | ĝ_2·f̂_2 | …]`` (ĝ = g/‖g‖₂, f̂ unit; an absent part is a zero block)."""
    g = np.asarray(weights, dtype=np.float64)
    norm = float(np.linalg.norm(g))
    g = g / norm if norm > 0 else g
    out = np.zeros(sum(int(w) for _, w in blocks), dtype=np.float32)
    for part, gm, sl in zip(parts, g, block_slices(blocks)):
        if part is None or gm == 0:
            continue
        v = np.asarray(part, dtype=np.float32)
        n = float(np.linalg.norm(v))
        if n > 0:
            out[sl] = gm * v / n
    return out


def fuse_joint(parts: Sequence[np.ndarray | None], weights: np.ndarray) -> np.ndarray:
    """The gate-weighted mean of the modalities' joint vectors, unit norm (one shared text space)."""
    acc = None
    for part, gm in zip(parts, weights):
        if part is None or gm == 0:
            continue
        v = np.asarray(part, dtype=np.float64)
        acc = gm * v / max(float(np.linalg.norm(v)), 1e-12) + (0 if acc is None else acc)
    if acc is None:
        raise ValueError("fuse_joint needs at least one present modality with a weight")
    return (acc / max(float(np.linalg.norm(acc)), 1e-12)).astype(np.float32)


def block_weights(native: np.ndarray, blocks: Blocks) -> np.ndarray:
    """ĝ_m of a stored native vector: each block's length (the vector is unit, so Σ ĝ_m² = 1)."""
    v = np.asarray(native, dtype=np.float32)
    n = max(float(np.linalg.norm(v)), 1e-12)
    return np.array([float(np.linalg.norm(v[sl])) / n for sl in block_slices(blocks)])


def modality_prototypes(prototype: np.ndarray, blocks: Blocks) -> list[tuple[str, np.ndarray]]:
    """A sense's prototype split into its modalities: ``(name, [0 | p̂_m | 0])`` for each non-empty block.

    A prototype is the mean of its evidence's native vectors, so its image block comes from images and
    frames and its audio block from sounds; each is scored on its own, at unit length.
    """
    v = np.asarray(prototype, dtype=np.float32)
    out = []
    for (name, _), sl in zip(blocks, block_slices(blocks)):
        n = float(np.linalg.norm(v[sl]))
        if n > 1e-6:
            part = np.zeros_like(v)
            part[sl] = v[sl] / n
            out.append((name, part))
    return out


def expand_by_modality(
    prototypes: Sequence[np.ndarray], weights: np.ndarray, blocks: Blocks | None
) -> tuple[list[np.ndarray], np.ndarray, list[tuple[int, str]]]:
    """(prototype vectors, weights, (sense index, modality) per vector) with each sense's prototype
    split by ``modality_prototypes`` and its weight w_k on every part; ``blocks`` None: unchanged."""
    if not blocks:
        return list(prototypes), np.asarray(weights), [(k, "") for k in range(len(prototypes))]
    vecs, ws, owner = [], [], []
    for k, (p, w) in enumerate(zip(prototypes, weights)):
        for name, part in modality_prototypes(p, blocks):
            vecs.append(part)
            ws.append(float(w))
            owner.append((k, name))
    return vecs, np.asarray(ws, dtype=np.float64), owner


@dataclass(frozen=True)
class ModalityPart:
    """One modality of a hit: its weight ĝ_m in the medium and its score Σ_k w_k cos(p_km, f_m)."""

    modality: str
    weight: float
    score: float


def explain_modalities(
    native: np.ndarray, per_part: np.ndarray, weights: np.ndarray, owner: Sequence[tuple[int, str]], blocks: Blocks
) -> list[ModalityPart]:
    """A hit's modalities: ĝ_m from its native vector, and the w-weighted cosine of each modality's
    prototypes with the modality's own features (``per_part``: cos of the medium with each part)."""
    g = block_weights(native, blocks)
    out = []
    for (name, _), gm in zip(blocks, g):
        if gm <= 1e-6:
            continue
        score = sum(float(weights[j]) * float(per_part[j]) for j, (_, m) in enumerate(owner) if m == name) / gm
        out.append(ModalityPart(name, float(gm), float(score)))
    return out


def block_means(rows: Sequence[np.ndarray], blocks: Blocks, min_media: int) -> dict[str, np.ndarray]:
    """Per modality, the mean of the unit block vectors of the media that have that block (a modality held
    by fewer than ``min_media`` media has no meaningful mean and is left out)."""
    out: dict[str, np.ndarray] = {}
    for (name, _), sl in zip(blocks, block_slices(blocks)):
        total, n = None, 0
        for row in rows:
            part = np.asarray(row[sl], dtype=np.float64)
            norm = float(np.linalg.norm(part))
            if norm > 1e-6:
                total = part / norm if total is None else total + part / norm
                n += 1
        if total is not None and n >= max(min_media, 1):
            out[name] = (total / n).astype(np.float32)
    return out


def centre_part(part: np.ndarray, name: str, means: dict[str, np.ndarray], strength: float, blocks: Blocks) -> np.ndarray:
    """A modality part ``[0 | p̂_m | 0]`` less ``strength`` × that modality's own mean, inside its block only
    (a mean over the whole native vector would give an image-only sense an audio part, and sounds a score)."""
    mean = means.get(name)
    if mean is None or strength <= 0:
        return part
    sl = dict(zip((n for n, _ in blocks), block_slices(blocks)))[name]
    out = np.array(part, dtype=np.float32)
    out[sl] = out[sl] - np.float32(strength) * mean
    return out


# -- an image with its caption text as a second modality (docs/audio.md, "Captions") -------------------------
CAPTION = "caption"
CAPTION_SOURCES = ("linker", "gated")  # the caption's own links; classifier and editor edges are not the text's


def top_labels_confidence(top: Sequence[tuple[str, float]], n_classes: int) -> float:
    """1 − normalised entropy of a class distribution known by its top labels only, the mass they leave
    spread evenly over the other classes (the most uncertain distribution with that top; no labels: 0)."""
    probs = np.clip(np.array([float(p) for _, p in top], dtype=np.float64), 0.0, None)
    if not probs.size or n_classes < 2:
        return 0.0
    total = float(probs.sum())
    if total > 1.0:
        probs, total = probs / total, 1.0
    rest, others = 1.0 - total, max(n_classes - probs.size, 0)
    nz = probs[probs > 0]
    h = float(-(nz * np.log(nz)).sum())
    if rest > 1e-12 and others:
        h -= rest * np.log(rest / others)
    return float(min(max(1.0 - h / np.log(n_classes), 0.0), 1.0))


def caption_confidence(confidences: Sequence[float]) -> float:
    """The caption modality's confidence: the linker's surest link of the caption (no linked noun: 0)."""
    return float(max((min(max(float(c), 0.0), 1.0) for c in confidences), default=0.0))


def has_block(blocks: Blocks | None, name: str) -> bool:
    """Whether a native space has a block called ``name``."""
    return any(n == name for n, _ in blocks or ())


def fuse_caption(joint: np.ndarray, native: np.ndarray, caption: np.ndarray, image_conf: float, caption_conf: float,
                 blocks: Blocks) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(joint, native, g) of a medium fused with its caption's text vector by the confidence gate.

    ``native`` is the medium's own vector in ``blocks`` (its caption block zero); the result is
    ``[ĝ_own·f_own | ĝ_cap·ê_cap]`` and the joint the g-weighted mean of the medium's and the caption's
    joint vectors, so the caption is scored in the text space both by the query and by the caption
    block of each sense's prototype (``fuse_native`` over the two parts: the medium's own blocks, then the
    caption block, which is last as ``CaptionedEncoder`` lays them out). Gates both zero: equal weights.
    """
    if not blocks or blocks[-1][0] != CAPTION:
        raise ValueError(f"the caption block must be the last native block, got {[n for n, _ in blocks]}")
    own_width = sum(int(w) for _, w in blocks[:-1])
    own = np.asarray(native, dtype=np.float32)[:own_width]
    cap = np.asarray(caption, dtype=np.float32)
    g = gates([image_conf, caption_conf])
    out = fuse_native([own, cap], g, (("own", own_width), blocks[-1]))
    return fuse_joint([joint, cap], g), out, g
