"""In-memory vector tables with exact cosine top-k, and a persisted HNSW index for large ones.

The embedded store keeps one ``VectorTable`` per searchable space (media joint, media native,
prototypes own, prototypes propagated). Rows are unit-normalised float32 so a dot product is the
cosine; ``topk`` takes an optional boolean mask so filters apply *inside* the search. Past a size
threshold the store pairs a table with an ``HnswIndex`` (hnswlib, cosine space) whose labels are
stable integer row keys, updated incrementally and persisted beside the database.
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from sensegraph.errors import StoreError, ValidationError


def as_unit(vector: np.ndarray | Sequence[float], dim: int | None = None, what: str = "vector") -> np.ndarray:
    """A finite, non-zero 1-D float32 vector scaled to unit length (ValidationError otherwise)."""
    v = np.asarray(vector, dtype=np.float32)
    if v.ndim != 1:
        raise ValidationError(f"{what} must be 1-D, got shape {v.shape}")
    if dim is not None and v.shape[0] != dim:
        raise ValidationError(f"{what} has dimension {v.shape[0]}, expected {dim}")
    if not np.all(np.isfinite(v)):
        raise ValidationError(f"{what} contains NaN or infinite values")
    n = float(np.linalg.norm(v))
    if n == 0.0:
        raise ValidationError(f"{what} is all zeros; cosine similarity is undefined")
    return v / n


_BLAS = None


def matvec(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """``matrix @ vector`` on one BLAS thread. A mat-vec is bound by memory bandwidth, and the idle
    BLAS threads of a multi-threaded call spin long enough to halve the speed of the text encoder's
    next forward pass (15k media: linking 7 -> 14 ms); one thread avoids that for the same result."""
    global _BLAS
    if _BLAS is None:
        from threadpoolctl import ThreadpoolController

        _BLAS = ThreadpoolController()
    with _BLAS.limit(limits=1, user_api="blas"):
        return matrix @ vector


def topk_scores(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest finite scores, best first (ties broken by index)."""
    finite = np.flatnonzero(np.isfinite(scores))
    if k <= 0 or finite.size == 0:
        return np.empty(0, dtype=np.int64)
    if finite.size > k:
        part = np.argpartition(-scores[finite], k - 1)[:k]
        finite = finite[part]
    order = np.lexsort((finite, -scores[finite]))
    return finite[order]


class VectorTable:
    """Rows of (id, key, vector, tag) with in-place replacement and amortised appends."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.ids: list[str] = []
        self.index: dict[str, int] = {}
        self.row_of_key: dict[int, int] = {}
        self._keys = np.empty(0, dtype=np.int64)
        self._mat = np.empty((0, dim), dtype=np.float32)
        self._tags = np.empty(0, dtype=object)
        self.n = 0

    def __len__(self) -> int:
        return self.n

    @property
    def matrix(self) -> np.ndarray:
        return self._mat[: self.n]

    @property
    def keys(self) -> np.ndarray:
        return self._keys[: self.n]

    @property
    def tags(self) -> np.ndarray:
        return self._tags[: self.n]

    def upsert(self, ids: Sequence[str], keys: Sequence[int], vectors: np.ndarray, tags: Sequence[object]) -> None:
        """Replace rows whose id exists, append the rest (vectors are normalised here)."""
        if len(ids) == 0:
            return
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(ids), -1)
        if vectors.shape[1] != self.dim:
            raise StoreError(f"stored vectors have dimension {vectors.shape[1]}, index expects {self.dim}")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors = vectors / np.where(norms == 0, 1.0, norms)
        new_rows = [i for i, x in enumerate(ids) if x not in self.index]
        self._reserve(self.n + len(new_rows))
        for i, x in enumerate(ids):
            row = self.index.get(x)
            if row is None:
                row = self.n
                self.index[x] = row
                self.ids.append(x)
                self.n += 1
            else:  # a replaced row gives up its old key; a new row's key slot is uninitialised memory
                self.row_of_key.pop(int(self._keys[row]), None)
            self._mat[row] = vectors[i]
            self._keys[row] = keys[i]
            self.row_of_key[int(keys[i])] = row
            self._tags[row] = tags[i]

    def _reserve(self, size: int) -> None:
        cap = self._mat.shape[0]
        if size <= cap:
            return
        cap = max(size, 2 * cap, 64)
        mat = np.empty((cap, self.dim), dtype=np.float32)
        mat[: self.n] = self._mat[: self.n]
        keys = np.empty(cap, dtype=np.int64)
        keys[: self.n] = self._keys[: self.n]
        tags = np.empty(cap, dtype=object)
        tags[: self.n] = self._tags[: self.n]
        self._mat, self._keys, self._tags = mat, keys, tags

    def rows_of(self, ids: Sequence[str]) -> np.ndarray:
        """Row numbers of the ids present in the table."""
        return np.fromiter((self.index[x] for x in ids if x in self.index), dtype=np.int64)

    def search(self, query: np.ndarray, k: int, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        """Exact cosine top-k among rows where ``mask`` is true (all rows when None)."""
        if self.n == 0:
            return []
        if mask is not None:
            rows = np.flatnonzero(mask)
            if len(rows) < self.n // 4:  # a narrow filter: score only the rows it lets through
                sub = matvec(self.matrix[rows], query)
                return [(self.ids[rows[i]], float(sub[i])) for i in topk_scores(sub, k)]
        scores = matvec(self.matrix, query)
        if mask is not None:
            scores = np.where(mask, scores, -np.inf)
        return [(self.ids[i], float(scores[i])) for i in topk_scores(scores, k)]


EF_PER_RESULT = 12  # beam width per result wanted: K'=100 candidates search with ef 1200


def _headroom(n: int) -> int:
    """Capacity for ``n`` rows plus a quarter more: hnswlib allocates every slot up front (about
    1.7 kB each for 384-d vectors), so doubling would waste gigabytes at a million media."""
    return n + n // 4 + 1024


class HnswIndex:
    """An hnswlib cosine index over a ``VectorTable``'s rows, labelled by row key, saved to disk.

    ``sync`` brings it up to date with the table (incremental adds/replacements of rows written
    after ``rev``; a full rebuild when the file is missing, unreadable, of another dimension, or
    holds labels the table no longer has). ``save`` writes the index then its sidecar atomically.
    """

    # M=32 rather than hnswlib's usual 16: text queries sit far from the media they match (all
    # candidates nearly equidistant), where a sparser graph loses them. On 1M clustered 384-d media
    # with MiniLM queries, recall@100 at ef 800 is 0.970 with M=32 vs 0.853 with M=16, for 8% more
    # memory and a faster build (bench/bench_search.py, docs/benchmarks.md).
    def __init__(self, path: Path, dim: int, *, m: int = 32, ef_construction: int = 200, ef_search: int = 200) -> None:
        self.path = path
        self.meta_path = path.with_suffix(".json")
        self.dim = dim
        self.m = m
        self.ef_construction = ef_construction
        self.ef_search = ef_search  # ef used for a query is max(EF_PER_RESULT * k, ef_search)
        self.rev = -1  # the table revision the index reflects
        self.epoch = -1
        self.unsaved = 0
        self._index = None

    def _new(self, capacity: int):
        import hnswlib

        index = hnswlib.Index(space="cosine", dim=self.dim)
        index.init_index(max_elements=max(capacity, 1024), ef_construction=self.ef_construction, M=self.m)
        return index

    def load(self, epoch: int) -> bool:
        """Read the saved index if it matches ``epoch``, the dimension and the graph parameters; True when loaded."""
        import hnswlib

        try:
            meta = json.loads(self.meta_path.read_text())
            want = {"dim": self.dim, "epoch": epoch, "m": self.m, "ef_construction": self.ef_construction}
            if any(meta.get(key) != value for key, value in want.items()):
                return False
            index = hnswlib.Index(space="cosine", dim=self.dim)
            index.load_index(str(self.path), max_elements=int(meta["capacity"]))
        except (OSError, ValueError, KeyError, RuntimeError):
            return False
        self._index, self.rev, self.epoch, self.unsaved = index, int(meta["rev"]), epoch, 0
        return True

    def rebuild(self, table: VectorTable, rev: int, epoch: int) -> None:
        """Index every row of ``table`` from scratch."""
        index = self._new(_headroom(len(table)))
        if len(table):
            index.add_items(table.matrix, table.keys, num_threads=-1)
        self._index, self.rev, self.epoch, self.unsaved = index, rev, epoch, len(table)

    def add(self, vectors: np.ndarray, keys: np.ndarray, rev: int) -> None:
        """Add or replace rows (hnswlib updates a label that exists)."""
        assert self._index is not None
        need = self._index.get_current_count() + len(keys)
        if need > self._index.get_max_elements():
            self._index.resize_index(_headroom(need))
        if len(keys):
            self._index.add_items(vectors, keys, num_threads=-1)
        self.rev = rev
        self.unsaved += len(keys)

    @property
    def count(self) -> int:
        return 0 if self._index is None else self._index.get_current_count()

    @property
    def loaded(self) -> bool:
        return self._index is not None

    def labels(self) -> set[int]:
        assert self._index is not None
        return set(int(x) for x in self._index.get_ids_list())

    def query(
        self, query: np.ndarray, k: int, allow: Callable[[int], bool] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(labels, cosine scores) of up to ``k`` nearest rows that ``allow`` accepts."""
        assert self._index is not None
        k = min(k, self.count)
        if k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        self._index.set_ef(max(EF_PER_RESULT * k, self.ef_search))
        try:
            labels, dist = self._index.knn_query(query[None, :], k=k, num_threads=1, filter=allow)
        except RuntimeError:  # hnswlib raises when fewer than k rows pass the filter
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        return labels[0].astype(np.int64), 1.0 - dist[0]

    def save(self) -> None:
        """Write the index and its sidecar (temp file + rename, so readers never see half a file)."""
        if self._index is None:
            return
        tmp = self.path.with_name(self.path.name + f".tmp{os.getpid()}")
        self._index.save_index(str(tmp))
        os.replace(tmp, self.path)
        meta = {"dim": self.dim, "rev": self.rev, "epoch": self.epoch, "capacity": self._index.get_max_elements(),
                "m": self.m, "ef_construction": self.ef_construction}
        tmp_meta = self.meta_path.with_name(self.meta_path.name + f".tmp{os.getpid()}")
        tmp_meta.write_text(json.dumps(meta))
        os.replace(tmp_meta, self.meta_path)
        self.unsaved = 0

    def drop(self) -> None:
        """Forget the index in memory and on disk."""
        self._index, self.rev, self.epoch, self.unsaved = None, -1, -1, 0
        for p in (self.path, self.meta_path):
            p.unlink(missing_ok=True)
