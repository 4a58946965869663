"""Media-aware sense weights: a sense the query links to but that has no prototype hands its weight on.

A sense counts in Σ w_k only through a representation (seed 000, claim 4). When the linked sense
has no prototype (own, curated or propagated), its weight goes first to the runner-up candidate of
its mention when the linking margin was small, else to the nearest senses with prototypes within
``HOPS`` relations (hyponyms, parts, siblings …), decayed by ``DECAY`` per hop; what finds no
representation stays out of β (``scoring.normalise_weights``).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from sensegraph.graph.core import relatives_of

HOPS = 2
DECAY = 0.5  # share of the weight that crosses one relation
MAX_RELATIVES = 8  # nearest relatives with prototypes that share a weight
MAX_VISITED = 5000  # a hub sense ("person") stops the walk rather than reading thousands of relatives
CLOSE_MARGIN = 0.5  # runner-up probability at least this fraction of the winner's: a small margin


def spread(weight: float, distances: Mapping[str, int], decay: float = DECAY) -> dict[str, float]:
    """``weight · decay^d_min`` split over the senses in proportion to ``decay^d`` (pure)."""
    if not distances or weight <= 0:
        return {}
    shares = {sid: decay ** d for sid, d in distances.items()}
    handed = weight * max(shares.values())
    total = sum(shares.values())
    return {sid: handed * s / total for sid, s in shares.items()}


def runner_up_share(scores: Sequence[float], temperature: float) -> float:
    """p(runner-up) / p(winner) from two softmax scores; 0 when there is no runner-up (pure)."""
    if len(scores) < 2:
        return 0.0
    import math

    return math.exp((scores[1] - scores[0]) / max(temperature, 1e-9))


def candidate_weights(mentions: Sequence[Any], temperature: float, min_share: float) -> dict[str, float]:
    """Each mention's candidates other than its chosen sense, weighted salience × linking probability,
    where that probability is at least ``min_share`` of the chosen one's (pure; the best weight per sense)."""
    import math

    out: dict[str, float] = {}
    for m in mentions:
        cands = list(getattr(m, "candidates", []) or [])
        if m.sense_id is None or len(cands) < 2:
            continue
        top = max(c.score for c in cands)
        exps = [math.exp((c.score - top) / max(temperature, 1e-9)) for c in cands]
        total = sum(exps)
        best = max(exps)
        for c, e in zip(cands, exps):
            if c.sense_id != m.sense_id and e >= min_share * best:
                w = float(m.salience) * e / total
                out[c.sense_id] = max(out.get(c.sense_id, 0.0), w)
    return out


def relatives(store: Any, sense_id: str, hops: int = HOPS) -> dict[str, int]:
    """Senses within ``hops`` relations of ``sense_id`` in either direction, with their distance (the
    walk ``GraphStore.search_context`` reads in one go, here over ``store.neighbours``)."""
    return relatives_of(store.neighbours, sense_id, hops, MAX_VISITED)


def hand_on(
    store: Any,
    mentions: Sequence[Any],
    missing: Sequence[str],
    chosen: Mapping[str, float],
    represent: Callable[[Sequence[tuple[str, float]]], list[Any]],
    temperature: float,
    near: Mapping[str, Mapping[str, int]] | None = None,
) -> tuple[list[Any], dict[str, list[str]]]:
    """Linked senses (``represent``'s records) that take over the weight of ``missing`` senses, and
    for each missing sense the senses its weight went to; ``near``: relatives already read
    (``search_context``), walked in ``store`` for a sense not in it."""
    out: list[Any] = []
    given: dict[str, list[str]] = {}
    for sid in missing:
        weight = chosen.get(sid, 0.0)
        mention = next((m for m in mentions if m.sense_id == sid), None)
        cands = list(getattr(mention, "candidates", []) or [])
        got: list[Any] = []
        if len(cands) > 1 and cands[0].sense_id == sid:
            share = runner_up_share([cands[0].score, cands[1].score], temperature)
            if share >= CLOSE_MARGIN:
                got = represent([(cands[1].sense_id, weight * share)])
        if not got:
            near_s = dict(near[sid]) if near is not None and sid in near else relatives(store, sid)
            have = {ls.sense_id: ls for ls in represent([(r, 1.0) for r in near_s])}
            nearest = dict(sorted(((r, near_s[r]) for r in have), key=lambda kv: (kv[1], kv[0]))[:MAX_RELATIVES])
            got = [replace(have[r], confidence=have[r].confidence * w) for r, w in spread(weight, nearest).items()]
        if got:
            out.extend(got)
            given[sid] = [ls.sense_id for ls in got]
    return out, given


def merge(linked: Sequence[Any], extra: Sequence[Any]) -> list[Any]:
    """``linked`` with ``extra`` added, one record per sense (weights of the same sense summed)."""
    by_id: dict[str, Any] = {}
    for ls in [*linked, *extra]:
        cur = by_id.get(ls.sense_id)
        by_id[ls.sense_id] = ls if cur is None else replace(cur, confidence=cur.confidence + ls.confidence)
    return list(by_id.values())
