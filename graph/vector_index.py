"""Vector tables with exact cosine top-k, and a persisted IVF index for large ones.

The embedded store keeps one ``VectorTable`` per searchable space (media joint, media native,
prototypes own, prototypes propagated). Rows are unit-normalised float32 so a dot product is the
cosine; ``topk`` takes an optional boolean mask so filters apply *inside* the search. Past a size
threshold the store searches one ``IvfIndex`` (faiss IVF, inner product) over ``PairedRows``,
each medium's joint and native unit vectors side by side, labelled by stable integer row keys,
updated incrementally and persisted beside the database. The index holds the rows as float32
(IVF-Flat, exact scores) or, for stores past RAM, as product-quantised codes (IVF-PQ) whose top
``rescore·k`` are re-scored exactly from tables kept in a file-backed ``np.memmap`` on disk.
"""
from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
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


def match_query(vector: np.ndarray | Sequence[float] | None, dim: int, what: str) -> np.ndarray:
    """One part of a formula query: a finite vector of ``dim`` (None: zeros), *not* normalised, since
    it carries its weight (alpha for the joint part, beta·w_k for the native one)."""
    if vector is None:
        return np.zeros(dim, dtype=np.float32)
    v = np.asarray(vector, dtype=np.float32)
    if v.ndim != 1 or v.shape[0] != dim:
        raise ValidationError(f"{what} part of the match query has shape {v.shape}, expected ({dim},)")
    if not np.all(np.isfinite(v)):
        raise ValidationError(f"{what} part of the match query contains NaN or infinite values")
    return v


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
    """Rows of (id, key, vector, tag) with in-place replacement and amortised appends.

    With ``spill`` (a directory) the matrix lives in an unlinked file there, mapped with np.memmap:
    the OS pages rows in when a search touches them, so RAM need not hold the float32 vectors.
    """

    def __init__(self, dim: int, spill: Path | None = None) -> None:
        self.dim = dim
        self.spill = spill
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

    def reserve(self, size: int) -> None:
        """Room for ``size`` rows (an exact size up front saves the doubling copies of a bulk load)."""
        self._reserve(size, exact=True)

    def _reserve(self, size: int, exact: bool = False) -> None:
        cap = self._mat.shape[0]
        if size <= cap:
            return
        cap = size if exact else max(size, 2 * cap, 64)
        mat = self._alloc(cap)
        for lo in range(0, self.n, 100_000):  # in slices: a memmap copy never pulls everything in
            mat[lo: min(self.n, lo + 100_000)] = self._mat[lo: min(self.n, lo + 100_000)]
        keys = np.empty(cap, dtype=np.int64)
        keys[: self.n] = self._keys[: self.n]
        tags = np.empty(cap, dtype=object)
        tags[: self.n] = self._tags[: self.n]
        self._mat, self._keys, self._tags = mat, keys, tags

    def _alloc(self, cap: int) -> np.ndarray:
        """A (cap, dim) float32 matrix: in RAM, or mapped from a file that is deleted at once (the
        mapping keeps it until the table is dropped, and nothing is left behind after a crash)."""
        if self.spill is None:
            return np.empty((cap, self.dim), dtype=np.float32)
        self.spill.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=self.spill, prefix="vectors-") as f:
            f.truncate(max(cap, 1) * self.dim * 4)
            return np.memmap(f, dtype=np.float32, mode="r+", shape=(max(cap, 1), self.dim))

    @property
    def spilled(self) -> bool:
        """Whether the matrix is file-backed (np.memmap) rather than held in RAM."""
        return isinstance(self._mat, np.memmap)

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


class PairedRows:
    """Media rows of the joint and the native table aligned by key: the union of their keys, each row
    the concatenation [joint | native] (zeros where a medium lacks one). The match formula is linear
    in these rows (alpha·q·joint + beta·(sum of w_k·p_k)·native), so one query over them ranks media
    by the formula itself, not by either similarity alone."""

    def __init__(self, joint: VectorTable | None, native: VectorTable | None, joint_dim: int, native_dim: int) -> None:
        self.joint, self.native = joint, native
        self.joint_dim, self.native_dim, self.dim = joint_dim, native_dim, joint_dim + native_dim
        parts = [t.keys for t in (joint, native) if t is not None]
        self.keys = np.unique(np.concatenate(parts)) if parts else np.empty(0, dtype=np.int64)
        self.jrow = self._align(joint)
        self.nrow = self._align(native)

    def _align(self, table: VectorTable | None) -> np.ndarray:
        """For each union key, its row in ``table`` (-1 where absent)."""
        out = np.full(len(self.keys), -1, dtype=np.int64)
        if table is not None and len(table):
            out[np.searchsorted(self.keys, table.keys)] = np.arange(len(table))
        return out

    def __len__(self) -> int:
        return len(self.keys)

    def part(self, space: str) -> slice:
        """The columns of ``space`` ("joint" or "native") in a paired row."""
        return slice(0, self.joint_dim) if space == "joint" else slice(self.joint_dim, self.dim)

    def positions(self, keys: np.ndarray) -> np.ndarray:
        """Position of each key in the union (-1 where absent)."""
        keys = np.asarray(keys, dtype=np.int64)
        if not len(self.keys):
            return np.full(len(keys), -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        return np.where(self.keys[pos] == keys, pos, -1)

    def rows(self, positions: np.ndarray) -> np.ndarray:
        """The concatenated rows at ``positions``."""
        out = np.zeros((len(positions), self.dim), dtype=np.float32)
        for table, rows, cols in ((self.joint, self.jrow, self.part("joint")), (self.native, self.nrow, self.part("native"))):
            if table is None:
                continue
            r = rows[positions]
            has = r >= 0
            out[has, cols] = table.matrix[r[has]]
        return out

    def scores(self, joint_query: np.ndarray, native_query: np.ndarray) -> np.ndarray:
        """joint_query·joint + native_query·native for every row (exact, one BLAS thread)."""
        out = np.zeros(len(self.keys), dtype=np.float32)
        for table, rows, query in ((self.joint, self.jrow, joint_query), (self.native, self.nrow, native_query)):
            if table is not None and len(table) and np.any(query):
                has = rows >= 0
                out[has] += matvec(table.matrix, query)[rows[has]]
        return out

    def ids(self, positions: np.ndarray) -> list[str]:
        """Media ids at ``positions`` (from whichever table holds each)."""
        out = []
        for p in positions.tolist():
            j = self.jrow[p]
            out.append(self.joint.ids[j] if j >= 0 else self.native.ids[self.nrow[p]])  # type: ignore[union-attr]
        return out

    def bitmap(self, keys: np.ndarray) -> np.ndarray:
        """A bool per key value up to the largest key, true for ``keys``: an index scan's filter."""
        out = np.zeros(int(self.keys.max()) + 1, dtype=bool)
        out[keys] = True
        return out

    def mask(self, joint_mask: np.ndarray | None, native_mask: np.ndarray | None) -> np.ndarray | None:
        """A filter's row masks of the two tables as one over the union (None when nothing is filtered)."""
        if joint_mask is None and native_mask is None:
            return None
        out = np.zeros(len(self.keys), dtype=bool)
        for rows, m in ((self.nrow, native_mask), (self.jrow, joint_mask)):
            if m is not None:
                has = rows >= 0
                out[has] = m[rows[has]]
        return out


# IVF parameters. Lists: about 4·sqrt(n) (k-means on a seeded sample of at most 40 rows per list),
# never fewer than 39 training rows per list (faiss's floor). Probes: 32 lists, more when k asks for
# more rows than 32 lists hold on average (x4). An index trained on n rows serves until the table
# holds GROWTH·n, then it is retrained: the lists stay near sqrt-sized and the centroids near the data.
PROBES = 32
GROWTH = 4
TRAIN_PER_LIST = 40
# IVF-PQ: one byte per sub-vector of PQ_DIMS dimensions (1664-d paired rows: 208 bytes a medium, 1/32
# of float32), 256 centroids per sub-space when the sample allows faiss's 39 rows a centroid
PQ_DIMS = 8
PQ_TRAIN = 256 * 39
KINDS = {"flat": "ivf-flat", "pq": "ivf-pq"}
# a compressed query re-scores max(rescore·k, RESCORE_MIN) candidates: a small k costs little to
# over-fetch; at 100k media k = 10 needed 250 candidates for rec* 1.000, at 1M more (docs/scaling.md)
RESCORE_MIN = 1000
BUILD_THREADS = os.cpu_count() or 1  # faiss threads for training and adding (a query runs on one)


def n_lists(n: int) -> int:
    """How many inverted lists an index over ``n`` rows gets."""
    return max(1, min(int(4 * np.sqrt(n)), n // 39))


def pq_shape(dim: int, train_rows: int) -> tuple[int, int]:
    """(sub-quantisers, bits per code) for IVF-PQ over ``dim``-d rows trained on ``train_rows``: the
    most sub-vectors of at least ``PQ_DIMS`` dimensions that divide ``dim``; 8 bits (256 centroids)
    unless the sample is too small for them (39 rows a centroid), then fewer."""
    m = max([d for d in range(1, dim // PQ_DIMS + 1) if dim % d == 0] or [1])
    bits = int(max(1, min(8, np.floor(np.log2(max(train_rows, 2) / 39)))))
    return m, bits


def n_probes(k: int, nlist: int, n: int, allowed: int | None = None) -> int:
    """Lists to scan for a top-``k`` query: ``PROBES``, or enough to meet 4k rows that pass the filter
    (``allowed`` of ``n`` do) when k is large or the filter narrow."""
    per_list = max(1.0, n / max(nlist, 1)) * (1.0 if allowed is None else max(allowed, 1) / max(n, 1))
    return int(min(nlist, max(PROBES, np.ceil(4 * k / per_list))))


class IvfIndex:
    """A faiss IVF index (inner product) over the store's rows, labelled by row key, saved to disk.
    ``kind`` "flat" (IVF-Flat) scans the lists exactly, so a score is the exact inner product of
    query and row; "pq" (IVF-PQ, ``pq_shape`` bytes a row) ranks the lists' codes approximately and
    re-scores its top max(``rescore·k``, ``RESCORE_MIN``) exactly from the full rows, so scores are
    exact there too.

    Why IVF and not a graph index: text queries sit far from the media they match, and on clustered
    media a graph search can settle in the wrong cluster. On 1M clustered media with MiniLM queries an
    hnswlib graph (M 32, ef 1200) lost *all* of the top-100 for 3 of 40 queries (recall@100 0.925);
    IVF scans the lists whose centroids are nearest the query, and found all of it (docs/benchmarks.md).
    ``load``/``rebuild``/``add`` keep it in
    step with the table (the store decides when); ``save`` writes the index then its sidecar atomically.
    """

    def __init__(self, path: Path, dim: int, kind: str = "flat", rescore: int = 25) -> None:
        if kind not in KINDS:
            raise ValidationError(f"vector index kind must be one of {sorted(KINDS)}, got {kind!r}")
        if int(rescore) < 1:
            raise ValidationError(f"rescore must be >= 1, got {rescore!r}")
        self.path = path
        self.meta_path = path.with_suffix(".json")
        self.dim = dim
        self.kind = kind
        self.rescore = int(rescore)
        self.min_candidates = RESCORE_MIN
        self.rev = -1  # the table revision the index reflects
        self.epoch = -1
        self.trained_on = 0  # rows in the table when the centroids were trained
        self.unsaved = 0
        self._index = None

    def load(self, epoch: int) -> bool:
        """Read the saved index if it matches ``epoch`` and the dimension; True when loaded."""
        import faiss

        try:
            meta = json.loads(self.meta_path.read_text())
            if meta.get("kind") != KINDS[self.kind] or meta.get("dim") != self.dim or meta.get("epoch") != epoch:
                return False
            index = faiss.read_index(str(self.path))
            want = faiss.IndexIVFFlat if self.kind == "flat" else faiss.IndexIVFPQ
            if index.d != self.dim or not isinstance(index, want):
                return False
        except (OSError, ValueError, KeyError, RuntimeError):
            return False
        self._index, self.rev, self.epoch, self.trained_on, self.unsaved = index, int(meta["rev"]), epoch, int(meta["trained_on"]), 0
        return True

    def outgrown(self, n: int) -> bool:
        """Whether an index trained on ``trained_on`` rows should be retrained for ``n``."""
        return n > GROWTH * max(self.trained_on, 1)

    def rebuild(self, rows: Callable[[np.ndarray], np.ndarray], keys: np.ndarray, rev: int, epoch: int,
                nlist: int | None = None) -> None:
        """Train centroids on a seeded sample and index every row (deterministic). ``rows(positions)``
        gives the vectors of ``keys[positions]``: a table's matrix, or vectors assembled on the fly.
        ``nlist``: the number of lists (default ``n_lists(n)``; benchmarks vary it)."""
        import faiss

        n = len(keys)
        nlist = n_lists(n) if nlist is None else nlist
        train = min(n, TRAIN_PER_LIST * nlist if self.kind == "flat" else max(TRAIN_PER_LIST * nlist, PQ_TRAIN))
        if self.kind == "flat":
            index = faiss.IndexIVFFlat(faiss.IndexFlatIP(self.dim), self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
        else:
            m, bits = pq_shape(self.dim, train)
            index = faiss.IndexIVFPQ(faiss.IndexFlatIP(self.dim), self.dim, nlist, m, bits, faiss.METRIC_INNER_PRODUCT)
            # codebooks from 39 rows a centroid, 10 rounds: 208 small k-means are most of a build, and
            # the top rescore·k are re-scored exactly anyway
            index.pq.cp.seed, index.pq.cp.niter, index.pq.cp.max_points_per_centroid = 1234, 10, 39
        index.cp.seed = 1234
        sample = np.sort(np.random.default_rng(0).choice(n, size=train, replace=False))
        with _threads(BUILD_THREADS):
            index.train(np.ascontiguousarray(rows(sample), dtype=np.float32) if n else np.zeros((nlist, self.dim), np.float32))
            for lo in range(0, n, 100_000):  # in slices: faiss copies what it adds, never everything at once
                part = np.arange(lo, min(n, lo + 100_000))
                index.add_with_ids(np.ascontiguousarray(rows(part), dtype=np.float32), np.ascontiguousarray(keys[part], dtype=np.int64))
        self._index, self.rev, self.epoch, self.trained_on, self.unsaved = index, rev, epoch, n, max(n, 1)

    def add(self, vectors: np.ndarray, keys: np.ndarray, rev: int) -> None:
        """Add rows, replacing any already indexed under the same keys."""
        import faiss

        assert self._index is not None
        if len(keys):
            keys = np.ascontiguousarray(keys, dtype=np.int64)
            with _threads(BUILD_THREADS):
                if self._index.ntotal:
                    self._index.remove_ids(faiss.IDSelectorBatch(keys))
                self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), keys)
        self.rev = rev
        self.unsaved += len(keys)

    @property
    def count(self) -> int:
        return 0 if self._index is None else int(self._index.ntotal)

    @property
    def loaded(self) -> bool:
        return self._index is not None

    def query(
        self, query: np.ndarray, k: int, allow: np.ndarray | None = None,
        rows: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(labels, exact inner products) of up to ``k`` best rows, best first; ``allow`` (bool per key)
        filters inside the scan. A "pq" index needs ``rows(labels)``, the full rows of those labels,
        to re-score its max(``rescore·k``, ``min_candidates``) candidates."""
        wanted = k if self.kind == "flat" else max(self.rescore * k, self.min_candidates)
        labels, scores = self._scan(query, wanted, allow)
        if self.kind == "flat" or not len(labels):
            return labels, scores
        if rows is None:
            raise StoreError("a compressed (ivf-pq) index re-scores from the full rows; none were given")
        exact = matvec(np.asarray(rows(labels), dtype=np.float32), np.asarray(query, dtype=np.float32))
        top = topk_scores(exact, k)
        return labels[top], exact[top]

    def _scan(self, query: np.ndarray, k: int, allow: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """faiss's top-``k`` (exact scores for "flat", code estimates for "pq")."""
        import faiss

        assert self._index is not None
        k = min(k, self.count)
        if k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        params = faiss.SearchParametersIVF()
        params.nprobe = n_probes(k, self._index.nlist, self.count, None if allow is None else int(allow.sum()))
        if allow is not None:
            bits = np.packbits(allow, bitorder="little")  # kept alive until the search returns
            params.sel = faiss.IDSelectorBitmap(len(allow), faiss.swig_ptr(bits))
        with _threads(1):  # one query is one scan; idle OpenMP threads would only spin (see matvec)
            scores, labels = self._index.search(np.ascontiguousarray(query[None, :], dtype=np.float32), k, params=params)
        found = labels[0] >= 0
        return labels[0][found].astype(np.int64), scores[0][found]

    def save(self) -> None:
        """Write the index and its sidecar (temp file + rename, so readers never see half a file)."""
        import faiss

        if self._index is None:
            return
        tmp = self.path.with_name(self.path.name + f".tmp{os.getpid()}")
        faiss.write_index(self._index, str(tmp))
        os.replace(tmp, self.path)
        meta = {"kind": KINDS[self.kind], "dim": self.dim, "rev": self.rev, "epoch": self.epoch,
                "trained_on": self.trained_on, "nlist": int(self._index.nlist)}
        tmp_meta = self.meta_path.with_name(self.meta_path.name + f".tmp{os.getpid()}")
        tmp_meta.write_text(json.dumps(meta))
        os.replace(tmp_meta, self.meta_path)
        self.unsaved = 0

    def drop(self) -> None:
        """Forget the index in memory and on disk."""
        self._index, self.rev, self.epoch, self.trained_on, self.unsaved = None, -1, -1, 0, 0
        for p in (self.path, self.meta_path):
            p.unlink(missing_ok=True)


@contextmanager
def _threads(n: int) -> Iterator[None]:
    """faiss's OpenMP thread count for a block (process-wide; callers hold the store's lock)."""
    import faiss

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(n)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)
