"""What ``SearchEngine._rank`` asks of the matcher: the head (when on), the threshold, the metadata.

One ``Plan`` per search: the head re-ranks the formula's top K′ when ``search.rerank`` is on and the
store has one; ``threshold="auto"`` becomes the calibrated no-match threshold on the score the
search ranks by; the metadata says which score ranked and, when nothing clears the threshold, why.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sensegraph.errors import ValidationError

from .features import FormulaParts
from .head import MatchHead
from .no_match import NoMatchThreshold, auto_threshold
from .rerank import head_scores

def engine_head(engine: Any) -> MatchHead | None:
    """The store's head when ``search.rerank`` is on (loaded once per engine), else None."""
    if not getattr(engine.config.search, "rerank", False):
        return None
    return engine.match_head()


@dataclass(frozen=True)
class Plan:
    """How one search ranks and cuts: by the head or the formula, at which threshold."""

    head: MatchHead | None
    threshold: float | None
    auto: NoMatchThreshold | None

    @property
    def score(self) -> str:
        return "head" if self.head is not None else "formula"

    def scores(self, q: np.ndarray, joint: np.ndarray, sim1: np.ndarray, per_sense: np.ndarray, weights: np.ndarray,
               confidences: Sequence[float], match: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(what to rank by, the head's scores or None) for the candidates."""
        if self.head is None:
            return match, None
        parts = FormulaParts(sim1, per_sense, np.asarray(weights, np.float32),
                             np.asarray(confidences if per_sense.shape[1] else [], np.float32))
        s = head_scores(self.head, q, joint, parts)
        return s, s

    def meta(self, kept: int, order: np.ndarray | None) -> dict[str, Any]:
        """Metadata for the result: the ranking score, and the no-match reason when ``auto`` kept nothing."""
        out: dict[str, Any] = {"ranked_by": self.score}
        if self.head is not None:
            out["head"] = {"trained_at": self.head.info.get("trained_at"), "encoder": self.head.info.get("encoder_id")}
        if self.auto is not None:
            t = self.auto
            out["threshold"] = {"value": t.threshold, "score": t.score, "target_precision": t.target_precision,
                                "dev_precision": t.precision, "dev_recall": t.recall}
            if kept == 0:
                best = float(np.max(order)) if order is not None and len(order) else None
                best_s = "no candidates" if best is None else f"the best candidate's {t.score} score is {best:.3f}"
                out["no_match"] = {
                    "reason": f"no match: {best_s}, below the calibrated threshold {t.threshold:.3f} (precision "
                              f"{t.precision:.2f} at target {t.target_precision:.2f} on {t.answerable + t.nomatch} dev queries)",
                    "threshold": t.threshold, "score": t.score, "best": best,
                }
        return out


def plan_for(engine: Any, threshold: float | str | None, *, text_query: bool, alpha: float, beta: float) -> Plan:
    """The plan for one search; ``text_query`` False (recommend) never uses the head, which scores texts."""
    head = engine_head(engine) if text_query else None
    if isinstance(threshold, str):
        if threshold.strip().lower() != "auto":
            raise ValidationError(f"threshold must be a number or 'auto', got {threshold!r}")
        t = auto_threshold(engine.store, score="head" if head is not None else "formula", alpha=alpha, beta=beta,
                           encoder_id=engine.encoder.encoder_id,
                           head_trained_at=None if head is None else head.info.get("trained_at"))
        return Plan(head, t.threshold, t)
    if threshold is not None:
        try:
            value = float(threshold)
        except (TypeError, ValueError):
            raise ValidationError(f"threshold must be a number or 'auto', got {threshold!r}") from None
        if not np.isfinite(value):
            raise ValidationError(f"threshold must be finite, got {threshold!r}")
        return Plan(head, value, None)
    return Plan(head, None, None)
