"""An honest "no match": a threshold on the top hit's score, calibrated on dev queries for a precision.

The decision is made per query: "nothing here" when the best candidate's score (the head's when a head
re-ranks, else the formula's match) is below τ. ``choose_threshold`` picks, on dev queries with
answers and dev queries without, the τ with the highest no-match recall whose precision reaches the
target; ``search(..., threshold="auto")`` then returns nothing below it and says why in the metadata.
"""
from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from sensegraph.errors import ValidationError

NO_MATCH_META_KEY = "matcher.no_match"
DEFAULT_TARGET_PRECISION = 0.9


@dataclass(frozen=True)
class NoMatchThreshold:
    """A calibrated threshold and what it was calibrated on."""

    score: str  # "head" or "formula"
    threshold: float
    target_precision: float
    precision: float
    recall: float
    answerable: int
    nomatch: int
    alpha: float
    beta: float
    encoder_id: str
    head_trained_at: str | None = None
    calibrated_at: str = ""
    reached_target: bool = True


def decision_counts(answerable: Sequence[float], nomatch: Sequence[float], tau: float) -> tuple[int, int, int]:
    """(true no-match, false no-match, missed no-match) when "no match" means top score < ``tau``."""
    a, n = np.asarray(answerable, float), np.asarray(nomatch, float)
    return int((n < tau).sum()), int((a < tau).sum()), int((n >= tau).sum())


def precision_recall(answerable: Sequence[float], nomatch: Sequence[float], tau: float) -> tuple[float, float]:
    """Precision and recall of the no-match decision at ``tau`` (precision 1 when nothing is flagged)."""
    tp, fp, fn = decision_counts(answerable, nomatch, tau)
    return (tp / (tp + fp) if tp + fp else 1.0), (tp / (tp + fn) if tp + fn else 0.0)


def choose_threshold(answerable: Sequence[float], nomatch: Sequence[float], target: float) -> tuple[float, float, float, bool]:
    """(τ, precision, recall, reached): the τ with the best recall at precision ≥ ``target``.

    Candidate τ are midpoints between sorted top scores; ties keep the lower τ (fewer answers withheld).
    When no τ that flags anything reaches the target, τ sits below every score (never "no match").
    """
    if not 0.0 < target <= 1.0:
        raise ValidationError(f"target precision must be in (0, 1], got {target}")
    if not len(answerable) or not len(nomatch):
        raise ValidationError("calibrating 'no match' needs dev queries with answers and dev queries without")
    values = np.unique(np.concatenate([np.asarray(answerable, float), np.asarray(nomatch, float)]))
    cuts = (values[:-1] + values[1:]) / 2 if len(values) > 1 else values
    best: tuple[float, float, float] | None = None
    for tau in [*cuts, values[-1] + 1e-6]:
        p, r = precision_recall(answerable, nomatch, float(tau))
        tp = decision_counts(answerable, nomatch, float(tau))[0]
        if tp and p >= target - 1e-12 and (best is None or r > best[2] + 1e-12):
            best = (float(tau), p, r)
    if best is None:
        tau = float(values[0]) - 1e-6
        p, r = precision_recall(answerable, nomatch, tau)
        return tau, p, r, False
    return best[0], best[1], best[2], True


def top_score(result: Any, score: str) -> float:
    """The best hit's score of a ``SearchResult`` (head or formula); -inf when it has no hits."""
    if not result.hits:
        return float("-inf")
    h = result.hits[0]
    return float(h.head if score == "head" and h.head is not None else h.match)


def calibrate_no_match(sg: Any, answerable: Sequence[str], nomatch: Sequence[str], *,
                       target: float = DEFAULT_TARGET_PRECISION, save: bool = True) -> NoMatchThreshold:
    """Search each dev query once, choose τ on the top scores, and (``save``) keep it in the store."""
    from .saved import head_summary

    engine = sg.engine
    from .hook import engine_head

    kind = "head" if engine_head(engine) is not None else "formula"
    scores_a = [top_score(sg.search_result(t, k=1), kind) for t in answerable]
    scores_n = [top_score(sg.search_result(t, k=1), kind) for t in nomatch]
    tau, p, r, reached = choose_threshold(scores_a, scores_n, target)
    head = head_summary(sg.store) if kind == "head" else None
    out = NoMatchThreshold(kind, round(tau, 6), target, round(p, 6), round(r, 6), len(scores_a), len(scores_n),
                           float(sg.config.search.alpha), float(sg.config.search.beta), sg.encoder.encoder_id,
                           (head or {}).get("trained_at"), time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), reached)
    if save:
        sg.store.set_meta(NO_MATCH_META_KEY, json.dumps(asdict(out)))
    return out


def load_threshold(store: Any) -> NoMatchThreshold | None:
    raw = store.get_meta(NO_MATCH_META_KEY)
    if not raw:
        return None
    try:
        return NoMatchThreshold(**json.loads(raw))
    except (json.JSONDecodeError, TypeError):
        raise ValidationError("the saved no-match threshold is not readable; recalibrate with sensegraph calibrate-no-match") from None


def auto_threshold(store: Any, *, score: str, alpha: float, beta: float, encoder_id: str,
                   head_trained_at: str | None) -> NoMatchThreshold:
    """The saved threshold if it fits how this search scores; a ValidationError naming what changed if not."""
    t = load_threshold(store)
    fix = "run sensegraph calibrate-no-match DEVSET"
    if t is None:
        raise ValidationError(f"threshold='auto' needs a calibrated no-match threshold and this store has none; {fix}")
    if t.score != score:
        raise ValidationError(f"the no-match threshold was calibrated on the {t.score} score but this search ranks by the "
                              f"{score} score; {fix}")
    if t.encoder_id != encoder_id:
        raise ValidationError(f"the no-match threshold was calibrated for encoder {t.encoder_id!r}, not {encoder_id!r}; {fix}")
    if score == "formula" and (abs(t.alpha - alpha) > 1e-9 or abs(t.beta - beta) > 1e-9):
        raise ValidationError(f"the no-match threshold was calibrated at alpha={t.alpha:g}, beta={t.beta:g}, "
                              f"not alpha={alpha:g}, beta={beta:g}; {fix}")
    if score == "head" and t.head_trained_at != head_trained_at:
        raise ValidationError(f"the match head was retrained after the no-match threshold was calibrated; {fix}")
    return t
