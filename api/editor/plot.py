"""A sense's media in 2-D: PCA of native features, laid out for an inline SVG (pure, numpy only).

The projection is fitted on the evidence media (plus the prototype and the candidates, so they land
in the same frame); coordinates are scaled into a fixed view box. The template draws the points, so
every id in the SVG is escaped by Jinja like everything else on the page.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

WIDTH, HEIGHT, MARGIN = 420, 300, 24
PALETTE = ("#2b6cb0", "#dd6b20", "#2f855a", "#9b2c2c", "#6b46c1", "#b7791f", "#2c7a7b", "#97266d")


@dataclass(frozen=True)
class PlotPoint:
    """One marker: a medium (``kind`` evidence/candidate) or the prototype, at view-box coordinates."""

    x: float
    y: float
    kind: str
    media_id: str | None = None
    cluster: int | None = None
    colour: str = "#4a5568"


@dataclass
class Plot:
    """Markers plus the share of variance the two axes explain."""

    points: list[PlotPoint] = field(default_factory=list)
    explained: tuple[float, float] = (0.0, 0.0)
    width: int = WIDTH
    height: int = HEIGHT


def pca_2d(x: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
    """Rows projected on the first two principal axes, and each axis' share of the variance."""
    x = np.asarray(x, dtype=np.float64)
    centred = x - x.mean(axis=0, keepdims=True)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    comps = vt[:2]
    if comps.shape[0] < 2:
        comps = np.vstack([comps, np.zeros((2 - comps.shape[0], x.shape[1]))])
    var = s**2
    total = float(var.sum()) or 1.0
    shares = [float(v / total) for v in var[:2]] + [0.0, 0.0]
    return centred @ comps.T, (shares[0], shares[1])


def _scale(xy: np.ndarray) -> np.ndarray:
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    span = np.where(hi - lo > 1e-12, hi - lo, 1.0)
    unit = (xy - lo) / span
    out = np.empty_like(unit)
    out[:, 0] = MARGIN + unit[:, 0] * (WIDTH - 2 * MARGIN)
    out[:, 1] = HEIGHT - MARGIN - unit[:, 1] * (HEIGHT - 2 * MARGIN)  # SVG y grows downwards
    return out


def sense_plot(
    evidence_ids: Sequence[str],
    evidence_features: np.ndarray,
    clusters: Sequence[int],
    prototype: np.ndarray | None = None,
    candidate_ids: Sequence[str] = (),
    candidate_features: np.ndarray | None = None,
) -> Plot | None:
    """The layout of a sense page's plot; ``None`` with fewer than two points to place."""
    rows = [np.asarray(evidence_features, dtype=np.float64).reshape(len(evidence_ids), -1)] if len(evidence_ids) else []
    kinds: list[tuple[str, str | None, int | None]] = [("evidence", m, int(c)) for m, c in zip(evidence_ids, clusters)]
    if candidate_features is not None and len(candidate_ids):
        rows.append(np.asarray(candidate_features, dtype=np.float64).reshape(len(candidate_ids), -1))
        kinds += [("candidate", m, None) for m in candidate_ids]
    if prototype is not None:
        rows.append(np.asarray(prototype, dtype=np.float64).reshape(1, -1))
        kinds.append(("prototype", None, None))
    if sum(len(r) for r in rows) < 2:
        return None
    xy, explained = pca_2d(np.vstack(rows))
    xy = _scale(xy)
    points = [
        PlotPoint(round(float(px), 1), round(float(py), 1), kind, mid, cl,
                  PALETTE[cl % len(PALETTE)] if cl is not None else "#718096")
        for (px, py), (kind, mid, cl) in zip(xy, kinds)
    ]
    points.sort(key=lambda p: {"candidate": 0, "evidence": 1, "prototype": 2}[p.kind])  # prototype drawn on top
    return Plot(points, explained)
