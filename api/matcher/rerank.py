"""Scoring the formula's top K′ by the head at search time (pure: vectors in, scores out)."""
from __future__ import annotations

import numpy as np

from .features import FormulaParts, pair_features
from .head import MatchHead


def head_scores(head: MatchHead, text: np.ndarray, joint: np.ndarray, parts: FormulaParts) -> np.ndarray:
    """The head's match probability for each candidate row (the candidates are the formula's top K′)."""
    if not len(joint):
        return np.zeros(0)
    return head.score(pair_features(text, joint, parts))
