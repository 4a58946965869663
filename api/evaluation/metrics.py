"""Ranking metrics over a ranked list of ids and a set of relevant (gold) ids; binary relevance.

Pure functions, no numpy: each takes ``ranked`` (best first, duplicates ignored after the first) and
``gold`` and returns a float in [0, 1]. ``summarize`` averages them over queries (macro average).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

from sensegraph.errors import ValidationError


def _dedup(ranked: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(ranked))


def _gold(gold: Iterable[str]) -> frozenset[str]:
    g = frozenset(gold)
    if not g:
        raise ValidationError("gold set is empty: a query needs at least one relevant id")
    return g


def _k(k: int) -> int:
    if not isinstance(k, int) or k < 1:
        raise ValidationError(f"k must be a positive integer, got {k!r}")
    return k


def hit_at_1(ranked: Sequence[str], gold: Iterable[str]) -> float:
    """1 if the first result is relevant, else 0."""
    g = _gold(gold)
    return 1.0 if ranked and ranked[0] in g else 0.0


def reciprocal_rank(ranked: Sequence[str], gold: Iterable[str]) -> float:
    """1 / rank of the first relevant result (0 when none is retrieved); its mean is MRR."""
    g = _gold(gold)
    for i, rid in enumerate(_dedup(ranked), start=1):
        if rid in g:
            return 1.0 / i
    return 0.0


def recall_at_k(ranked: Sequence[str], gold: Iterable[str], k: int) -> float:
    """Share of the relevant ids found in the top k."""
    g = _gold(gold)
    top = set(_dedup(ranked)[: _k(k)])
    return len(top & g) / len(g)


def ndcg_at_k(ranked: Sequence[str], gold: Iterable[str], k: int) -> float:
    """DCG of the top k (gain 1 per relevant id, discount log2(rank+1)) over the ideal DCG."""
    g = _gold(gold)
    k = _k(k)
    dcg = sum(1.0 / math.log2(i + 1) for i, rid in enumerate(_dedup(ranked)[:k], start=1) if rid in g)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(g), k) + 1))
    return dcg / ideal


def average_precision(ranked: Sequence[str], gold: Iterable[str]) -> float:
    """Mean of precision@i over the ranks i of relevant ids, divided by |gold| (missed ones count 0)."""
    g = _gold(gold)
    found, total = 0, 0.0
    for i, rid in enumerate(_dedup(ranked), start=1):
        if rid in g:
            found += 1
            total += found / i
    return total / len(g)


Metric = Callable[[Sequence[str], Iterable[str]], float]

#: the reported metrics, in table order
METRICS: dict[str, Metric] = {
    "hit@1": hit_at_1,
    "MRR": reciprocal_rank,
    "R@5": lambda r, g: recall_at_k(r, g, 5),
    "R@10": lambda r, g: recall_at_k(r, g, 10),
    "NDCG@10": lambda r, g: ndcg_at_k(r, g, 10),
    "MAP": average_precision,
}


def score_query(ranked: Sequence[str], gold: Iterable[str]) -> dict[str, float]:
    """Every metric in ``METRICS`` for one query."""
    g = _gold(gold)
    return {name: fn(ranked, g) for name, fn in METRICS.items()}


def summarize(runs: Iterable[tuple[Sequence[str], Iterable[str]]]) -> dict[str, float]:
    """Macro averages of every metric over ``(ranked, gold)`` pairs, plus ``n`` (the query count)."""
    rows = [score_query(r, g) for r, g in runs]
    out: dict[str, float] = {name: (sum(row[name] for row in rows) / len(rows) if rows else 0.0) for name in METRICS}
    out["n"] = float(len(rows))
    return out
