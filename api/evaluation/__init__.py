"""Retrieval-quality evaluation: the eval-set format, pure ranking metrics, the two protocols and the plot.

``metrics`` and ``dataset`` are pure and cheap to import; ``harness`` drives a ``SenseGraph``.
"""
from __future__ import annotations

from .dataset import EvalMedium, EvalQuery, EvalSet, cold_partition, load_evalset, resolve_media
from .metrics import METRICS, average_precision, hit_at_1, ndcg_at_k, recall_at_k, reciprocal_rank, summarize

__all__ = [
    "METRICS", "EvalMedium", "EvalQuery", "EvalSet", "average_precision", "cold_partition", "hit_at_1",
    "load_evalset", "ndcg_at_k", "recall_at_k", "reciprocal_rank", "resolve_media", "summarize",
]
