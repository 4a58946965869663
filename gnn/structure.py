"""A store's sense graph as plain arrays: live sense ids and their relations, read once per structure revision.

``SenseStructure`` holds what never changes with evidence: the live senses (sorted ids, row ``i``) and
each relation between two of them once (no self-loops), ordered by (source, target, type) as strings.
``neighbourhood`` cuts from it the local graph an update propagates over, in exactly the order and
numbering the record-by-record read produced (own prototypes first, relation types numbered as they
first appear), so the results are the same numbers. Pure: the store reads are ``structure_cache``'s.
"""
from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .data import k_hop_nodes


@dataclass(frozen=True)
class SenseStructure:
    """Live senses (``ids``, sorted) and their relations as row arrays, under one structure ``revision``."""

    revision: str
    ids: list[str]
    types: list[str]  # relation type names, sorted
    src: np.ndarray  # (E,) int32 rows, edges sorted by (source, target, type)
    dst: np.ndarray
    typ: np.ndarray  # (E,) int32 index into ``types``

    @property
    def num_nodes(self) -> int:
        return len(self.ids)

    def rows(self, sense_ids: Iterable[str]) -> np.ndarray:
        """Sorted distinct rows of the ids that are live senses here (others are left out)."""
        found = set()
        for sid in sense_ids:
            i = bisect_left(self.ids, sid)
            if i < len(self.ids) and self.ids[i] == sid:
                found.add(i)
        return np.asarray(sorted(found), dtype=np.int64)

    def within(self, seeds: np.ndarray, hops: int) -> np.ndarray:
        """Sorted rows within ``hops`` relations (either direction) of the ``seeds`` rows, seeds included."""
        if seeds.size == 0:
            return np.zeros(0, dtype=np.int64)
        return k_hop_nodes(self.num_nodes, np.stack([self.src, self.dst]), seeds, hops)


@dataclass(frozen=True)
class LocalGraph:
    """The induced graph on some rows: ids (own prototypes first), edges in local rows, type names."""

    ids: list[str]
    own: int  # the first ``own`` ids hold an own prototype
    pairs: np.ndarray  # (2, E) int64 local rows
    rel: np.ndarray  # (E,) int64 index into ``types``
    types: list[str]


def from_columns(revision: str, live: Sequence[str], relations: Iterable[tuple[str, str, str]]) -> SenseStructure:
    """The structure of these live sense ids and (source, target, type) relations; relations touching a
    sense not in ``live`` (redirected or unknown) and self-loops are left out, duplicates kept once."""
    ids = sorted(set(live))
    index = {sid: i for i, sid in enumerate(ids)}
    src: list[int] = []
    dst: list[int] = []
    names: list[str] = []
    for a, b, t in relations:
        i, j = index.get(a), index.get(b)
        if i is None or j is None or i == j:
            continue
        src.append(i)
        dst.append(j)
        names.append(t)
    types = sorted(set(names))
    code = {t: k for k, t in enumerate(types)}
    s = np.asarray(src, dtype=np.int32)
    d = np.asarray(dst, dtype=np.int32)
    k = np.fromiter((code[t] for t in names), dtype=np.int32, count=len(names))
    order = np.lexsort((k, d, s))  # ids and types are sorted, so row order is string order
    s, d, k = s[order], d[order], k[order]
    if s.size:
        new = np.ones(s.size, dtype=bool)
        new[1:] = (s[1:] != s[:-1]) | (d[1:] != d[:-1]) | (k[1:] != k[:-1])
        s, d, k = s[new], d[new], k[new]
    return SenseStructure(revision, ids, types, s, d, k)


def neighbourhood(structure: SenseStructure, rows: np.ndarray, own_rows: np.ndarray) -> LocalGraph:
    """The graph induced on ``rows``: those of ``own_rows`` first, then the rest, each in id order;
    edges in (source, target, type) order; relation types numbered in the order they first appear."""
    n = structure.num_nodes
    inside = np.zeros(n, dtype=bool)
    inside[rows] = True
    own = np.zeros(n, dtype=bool)
    own[own_rows] = True
    own &= inside
    order = np.concatenate([np.nonzero(own)[0], np.nonzero(inside & ~own)[0]])
    local = np.full(n, -1, dtype=np.int64)
    local[order] = np.arange(order.size)
    keep = inside[structure.src] & inside[structure.dst]
    s, d, k = structure.src[keep], structure.dst[keep], structure.typ[keep]
    seen, first = np.unique(k, return_index=True)
    appear = seen[np.argsort(first, kind="stable")]
    code = np.zeros(len(structure.types), dtype=np.int64)
    code[appear] = np.arange(appear.size)
    pairs = np.stack([local[s], local[d]]).astype(np.int64).reshape(2, -1)
    return LocalGraph([structure.ids[i] for i in order], int(own.sum()), pairs, code[k],
                      [structure.types[i] for i in appear])
