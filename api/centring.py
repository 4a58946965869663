"""Centred prototypes: the second similarity compares what is distinctive of a sense, not what every medium shares.

Native features of one encoder share a large common direction (every clip-art drawing looks alike to
an ImageNet CNN: |mean feature| ≈ 0.38 on evalsets/core), so cos(p, f) ranks typical media high
for every sense. Scoring against ``p̂ − λ·μ`` (μ: the mean native feature of the collection) removes
that direction while keeping the formula linear in the medium's unit vector, so stores still rank by
it in one query. μ is estimated from at most ``SAMPLE`` media and refreshed every ``REFRESH_S``
seconds; a collection of fewer than ``min_media`` media has no meaningful mean and is not centred.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

SAMPLE = 5000  # media read to estimate the mean (its error shrinks as 1/sqrt(n); 5000 is plenty)
REFRESH_S = 60.0  # re-estimate at most this often, so media ingested later are reflected


def centred(vector: np.ndarray, mean: np.ndarray, strength: float) -> np.ndarray:
    """``v̂ − strength·mean`` (pure): the prototype's direction less the collection's common part."""
    v = np.asarray(vector, dtype=np.float32)
    return (v / max(float(np.linalg.norm(v)), 1e-12) - np.float32(strength) * np.asarray(mean, dtype=np.float32)).astype(np.float32)


def mean_feature(store: Any, limit: int = SAMPLE) -> tuple[np.ndarray | None, int]:
    """The mean unit native feature of up to ``limit`` stored media, and how many it was taken over."""
    total: np.ndarray | None = None
    n = 0
    for batch in store.iter_media(batch_size=min(limit, 1000), vectors=True):
        for m in batch:
            f = getattr(m, "features", None)
            if f is None:
                continue
            f = np.asarray(f, dtype=np.float64)
            total = f / max(float(np.linalg.norm(f)), 1e-12) if total is None else total + f / max(float(np.linalg.norm(f)), 1e-12)
            n += 1
            if n >= limit:
                return (total / n).astype(np.float32), n
    return (None, 0) if total is None else ((total / n).astype(np.float32), n)


class CollectionMean:
    """The store's mean native feature, cached and refreshed now and then; None below ``min_media``."""

    def __init__(self, store: Any, min_media: int, refresh_s: float = REFRESH_S) -> None:
        self.store, self.min_media, self.refresh_s = store, min_media, refresh_s
        self._at = -float("inf")
        self._mean: np.ndarray | None = None

    def get(self) -> np.ndarray | None:
        now = time.monotonic()
        if now - self._at >= self.refresh_s:
            mean, n = mean_feature(self.store)
            self._mean = mean if n >= max(self.min_media, 1) else None
            self._at = now
        return self._mean


def centre_senses(linked: Sequence[Any], mean: np.ndarray | None, strength: float) -> list[Any]:
    """``linked`` (records with a ``prototype``) with each prototype vector centred; unchanged without a mean."""
    if mean is None or strength <= 0:
        return list(linked)
    out = []
    for ls in linked:
        v = ls.prototype.vector
        if v is None or len(v) != len(mean):
            out.append(ls)
            continue
        out.append(replace(ls, prototype=replace(ls.prototype, vector=centred(v, mean, strength))))
    return out
