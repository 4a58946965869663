"""A learned match head over the formula (seed 003's CLIP + MLP), and an honest "no match".

``features`` builds [t; i; |t − i|; t ⊙ i] plus the formula's own parts, ``head`` is the small MLP
(pure numpy, fixed seeds), ``pairs`` draws training pairs from the store's evidence, ``saved`` keeps
the head in the store with its encoder id, and ``no_match`` calibrates the threshold behind
``search(..., threshold="auto")``. ``train_matcher`` ties them together (docs/matcher.md).
"""
from __future__ import annotations

from .features import FormulaParts, pair_features
from .head import HeadConfig, MatchHead, train_head
from .saved import HEAD_META_KEY, load_head, save_head
from .training import TrainReport, train_matcher

__all__ = [
    "HEAD_META_KEY",
    "FormulaParts",
    "HeadConfig",
    "MatchHead",
    "TrainReport",
    "load_head",
    "pair_features",
    "save_head",
    "train_head",
    "train_matcher",
]
