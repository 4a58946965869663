"""The match head: s = σ(W₂ · ReLU(W₁ · x̃ + b₁) + b₂ + v · x̃_parts) over standardised features.

Seed 003's two-layer MLP (eq. 4) plus a linear path over the formula-part columns: the MLP starts at
zero (W₂ = 0), so an untrained head ranks by a linear mix of sim1, sim2 and the linking weights and
training adds what the joint-space blocks [t; i; |t − i|; t ⊙ i] explain beyond it (L2 keeps the
MLP small where the store's evidence is thin).

Pure numpy: training is mini-batch Adam on weighted binary cross-entropy with L2,
from a fixed seed, so the same pairs give the same head bit for bit; ``train_head(..., init=head)``
continues from a saved head (incremental retraining keeps its standardisation and weights).
"""
from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sensegraph.errors import ValidationError

from .features import PART_NAMES


@dataclass(frozen=True)
class HeadConfig:
    """Hyper-parameters of the head and its training (defaults chosen on evalsets/core dev, cold)."""

    hidden: int = 32
    epochs: int = 20
    batch: int = 256
    lr: float = 1e-3
    l2: float = 1.0  # on W₁, W₂ only: at 1e-3 the MLP memorised the captions (dev hit@1 0.344 vs the formula's 0.438)
    seed: int = 0


@dataclass
class MatchHead:
    """Weights of the two-layer head plus the feature standardisation it was trained with."""

    mean: np.ndarray
    scale: np.ndarray
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: float
    lin: np.ndarray  # weights of the linear path over the last ``len(lin)`` (formula-part) columns
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def dim(self) -> int:
        return int(self.w1.shape[0])

    def logits(self, x: np.ndarray) -> np.ndarray:
        xs = self._std(x)
        h = np.maximum(xs @ self.w1 + self.b1, 0.0)
        return h @ self.w2 + self.b2 + xs[:, xs.shape[1] - len(self.lin):] @ self.lin

    def score(self, x: np.ndarray) -> np.ndarray:
        """Match probability in [0, 1] for each feature row."""
        return _sigmoid(self.logits(x)).astype(np.float64)

    def _std(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValidationError(f"match head expects rows of {self.dim} features, got shape {x.shape}")
        return (x - self.mean) / self.scale

    # -- persistence ---------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        arrays = {k: _b64(getattr(self, k)) for k in ("mean", "scale", "w1", "b1", "w2", "lin")}
        return {"format": 1, "dim": self.dim, "hidden": int(self.w1.shape[1]), "parts": len(self.lin),
                "b2": float(self.b2), "arrays": arrays, "info": self.info}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MatchHead:
        try:
            dim, hidden, arrays = int(data["dim"]), int(data["hidden"]), data["arrays"]
            shapes = {"mean": (dim,), "scale": (dim,), "w1": (dim, hidden), "b1": (hidden,), "w2": (hidden,),
                      "lin": (int(data["parts"]),)}
            parts = {k: _unb64(arrays[k], shape) for k, shape in shapes.items()}
            return cls(**parts, b2=float(data["b2"]), info=dict(data.get("info", {})))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(f"saved match head is malformed ({exc}); retrain it with sensegraph train-matcher") from None


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30.0, 30.0)))


def _b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode("ascii")


def _unb64(s: str, shape: tuple[int, ...]) -> np.ndarray:
    a = np.frombuffer(base64.b64decode(s), dtype="<f4").astype(np.float32)
    if a.size != int(np.prod(shape)):
        raise ValueError(f"array of {a.size} values where {shape} was expected")
    return a.reshape(shape)


def init_head(x: np.ndarray, cfg: HeadConfig, parts: int) -> MatchHead:
    """A fresh head: standardisation from ``x``, He-initialised W₁ from ``cfg.seed``, W₂ and the linear path at 0."""
    rng = np.random.default_rng(cfg.seed)
    mean = x.mean(axis=0).astype(np.float32)
    scale = np.maximum(x.std(axis=0), 1e-4).astype(np.float32)
    d = x.shape[1]
    w1 = (rng.standard_normal((d, cfg.hidden)) * np.sqrt(2.0 / d)).astype(np.float32)
    return MatchHead(mean, scale, w1, np.zeros(cfg.hidden, np.float32), np.zeros(cfg.hidden, np.float32), 0.0,
                     np.zeros(parts, np.float32))


def train_head(x: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None, cfg: HeadConfig = HeadConfig(),
               init: MatchHead | None = None, parts: int = len(PART_NAMES)) -> tuple[MatchHead, list[float]]:
    """Fit the head to labels ``y`` ∈ {0, 1} with per-row ``weight``; returns it and the loss per epoch.

    ``init``: continue from that head (same feature width), keeping its standardisation.
    """
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.float32)
    w = np.ones(len(y), np.float32) if weight is None else np.asarray(weight, dtype=np.float32)
    if x.ndim != 2 or len(x) != len(y) or len(w) != len(y):
        raise ValidationError(f"features {x.shape}, labels {y.shape} and weights {w.shape} do not line up")
    if not len(y) or y.min() == y.max():
        raise ValidationError("training the match head needs both positive and negative pairs")
    if init is not None and init.dim != x.shape[1]:
        raise ValidationError(f"the saved head takes {init.dim} features, these pairs have {x.shape[1]}; retrain from scratch")
    head = init_head(x, cfg, min(parts, x.shape[1])) if init is None else MatchHead(
        init.mean, init.scale, init.w1.copy(), init.b1.copy(), init.w2.copy(), init.b2, init.lin.copy(), dict(init.info))
    p_cols = x.shape[1] - len(head.lin)
    # class balance: positives and negatives carry equal total weight
    pos = y > 0.5
    w = w.copy()
    w[pos] *= w[~pos].sum() / max(w[pos].sum(), 1e-9)
    w /= w.mean()
    params = [head.w1, head.b1, head.w2, np.array([head.b2], np.float32), head.lin]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    rng = np.random.default_rng(cfg.seed + 1)
    xs = head._std(x)
    losses: list[float] = []
    step = 0
    for _ in range(cfg.epochs):
        order = rng.permutation(len(y))
        total = 0.0
        for start in range(0, len(y), cfg.batch):
            idx = order[start : start + cfg.batch]
            xb, yb, wb = xs[idx], y[idx], w[idx]
            w1, b1, w2, b2, lin = params
            pre = xb @ w1 + b1
            h = np.maximum(pre, 0.0)
            p = _sigmoid(h @ w2 + b2[0] + xb[:, p_cols:] @ lin)
            total += float(np.sum(wb * -(yb * np.log(p + 1e-7) + (1 - yb) * np.log(1 - p + 1e-7))))
            g = wb * (p - yb) / len(idx)  # dL/dlogit
            gw2 = h.T @ g + cfg.l2 * w2
            gb2 = np.array([g.sum()], np.float32)
            gh = np.outer(g, w2) * (pre > 0)
            gw1 = xb.T @ gh + cfg.l2 * w1
            gb1 = gh.sum(axis=0)
            glin = xb[:, p_cols:].T @ g
            step += 1
            for j, grad in enumerate((gw1, gb1, gw2, gb2, glin)):
                m[j] = 0.9 * m[j] + 0.1 * grad
                v[j] = 0.999 * v[j] + 0.001 * grad * grad
                mh, vh = m[j] / (1 - 0.9**step), v[j] / (1 - 0.999**step)
                params[j] = (params[j] - cfg.lr * mh / (np.sqrt(vh) + 1e-8)).astype(np.float32)
        losses.append(total / len(y))
    w1, b1, w2, b2, lin = params
    return MatchHead(head.mean, head.scale, w1, b1, w2, float(b2[0]), lin, dict(head.info)), losses
