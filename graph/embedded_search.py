"""The embedded store's vector search: numpy tables of its SQLite rows, and the IVF index past a size.

``VectorSearch`` keeps one ``VectorTable`` per media space and prototype slot, loaded lazily and
refreshed when the database's write revision moved (only rows stamped with a newer revision are
re-read). Past ``ann_threshold`` media one persisted faiss IVF index over the paired [joint | native]
vectors (``DIR/ann-match.faiss``) answers instead, with ``MediaFilter`` applied inside the search.
Past ``compress_threshold`` media that index holds PQ codes and the float32 matrices are mapped from
unlinked files in ``DIR`` (np.memmap), so RAM holds the codes and the pages a search touches. It only
reads the database, through the store's ``read`` and ``read_chunks``.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sensegraph.errors import ValidationError

from . import embedded_schema as q
from .model import MediaFilter
from .vector_index import IvfIndex, PairedRows, VectorTable, as_unit, match_query, topk_scores

COLUMNS = {"joint": "embedding", "native": "features"}  # the media column of each vector space
LEGACY_INDEX_FILES = ("hnsw-joint.bin", "hnsw-joint.json", "hnsw-native.bin", "hnsw-native.json",  # graph indexes of earlier versions
                      "ann-joint.faiss", "ann-joint.json", "ann-native.faiss", "ann-native.json")  # per-space indexes
_SMALL_FILTER = 2_000  # a filter letting at most this many media through is searched exactly
COMPRESS_THRESHOLD = 2_000_000  # media from which vectors are PQ codes in RAM, float32 on disk (docs/scaling.md)
RESCORE = 25  # a compressed search re-scores max(rescore·k, RESCORE_MIN) exactly (docs/scaling.md: 1M media)
Read = Callable[[str, Sequence[Any]], list[tuple]]


def vector_options(ann_threshold: int, compress_threshold: int, rescore: int) -> tuple[int, int, int]:
    """The three vector-search settings, checked (ValidationError naming the bad one)."""
    for name, value, least in (("ann_threshold", ann_threshold, 0), ("compress_threshold", compress_threshold, 0), ("rescore", rescore, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ValidationError(f"{name} must be an integer >= {least}, got {value!r}")
    return ann_threshold, compress_threshold, rescore


def _matrix(blobs: Iterable[bytes], n: int) -> np.ndarray:
    """``n`` float32 vector BLOBs of one dimension as an (n, dim) read-only array (one join, no per-row copies)."""
    return np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(n, -1)


class VectorSearch:
    """Cosine and match-formula search over one embedded store's media and prototypes."""

    def __init__(self, directory: Path, read: Read, read_chunks: Callable[[str, Sequence[Any]], Iterator[list[tuple]]],
                 lock: threading.RLock, ann_threshold: int, compress_threshold: int, rescore: int) -> None:
        self.directory, self._read, self._read_chunks, self._lock = directory, read, read_chunks, lock
        self.ann_threshold, self.compress_threshold, self.rescore = vector_options(ann_threshold, compress_threshold, rescore)
        self.tables: dict[str, VectorTable] = {}
        self._table_state: dict[str, tuple[int, int]] = {}  # space -> (epoch, rev) loaded
        self._ann: dict[str, IvfIndex] = {}
        self._paired_rows: tuple[tuple[int, int], PairedRows] | None = None
        self._protos: dict[str, VectorTable] = {}
        self._proto_state: dict[str, tuple[int, int]] = {}

    def configure(self, ann_threshold: int | None = None, compress_threshold: int | None = None,
                  rescore: int | None = None) -> None:
        """Change the settings; a change of compression drops the loaded tables and index, so the next
        search reloads them."""
        with self._lock:
            new = vector_options(self.ann_threshold if ann_threshold is None else ann_threshold,
                                 self.compress_threshold if compress_threshold is None else compress_threshold,
                                 self.rescore if rescore is None else rescore)
            if new[1] != self.compress_threshold:
                self.save()
                self.tables.clear()
                self._table_state.clear()
                self._paired_rows = None
                self._ann.clear()
            self.ann_threshold, self.compress_threshold, self.rescore = new

    def save(self) -> None:
        """Save any unsaved index updates."""
        for index in self._ann.values():
            if index.unsaved:
                index.save()

    def drop(self) -> None:
        """Forget every table and delete the index files (the store was wiped)."""
        with self._lock:
            for index in self._ann.values():
                index.drop()
            self._ann.clear()
            self.tables.clear()
            self._paired_rows = None
            self._table_state.clear()
            self._protos.clear()
            self._proto_state.clear()

    def _counters(self) -> dict[str, int]:
        return {k: int(v) for k, v in self._read(q.READ_COUNTERS, ())}

    def _media_table(self, space: str) -> tuple[VectorTable | None, int, int]:
        """The space's vector table, refreshed with rows written since it was last loaded."""
        counters = self._counters()
        epoch, rev = counters["epoch"], counters["rev"]
        table = self.tables.get(space)
        state = self._table_state.get(space)
        if table is not None and state == (epoch, rev):
            return table, epoch, rev
        since = state[1] if (table is not None and state is not None and state[0] == epoch) else -1
        compress = self._compressing()
        if table is not None and table.spilled != compress:  # the store crossed compress_threshold
            since = -1
        table = self._load_media_rows(space, table if since >= 0 else None, since, compress)
        if table is not None and since >= 0 and table is not self.tables.get(space):
            table = self._load_media_rows(space, None, -1)  # the dimension changed under us: reload all
        if table is not None:
            self.tables[space] = table
        else:
            self.tables.pop(space, None)
        self._table_state[space] = (epoch, rev)
        return table, epoch, rev

    def _media_count(self) -> int:
        return int(self._read("SELECT COUNT(*) FROM media", ())[0][0])

    def _compressing(self) -> bool:
        """Whether the store holds ``compress_threshold`` media or more (vectors on disk, PQ in RAM)."""
        return self._media_count() >= max(self.compress_threshold, 1)

    def _load_media_rows(self, space: str, table: VectorTable | None, since: int, compress: bool = False) -> VectorTable | None:
        """Upsert rows changed after ``since`` into ``table`` (a new one when None), a chunk at a time
        so a million-row load never holds the rows twice; a new table when the dimension differs.
        ``compress``: a new table's matrix is file-backed (np.memmap in the store directory)."""
        for rows in self._read_chunks(q.MEDIA_CHANGED.format(column=COLUMNS[space]), (since,)):
            dim = len(rows[0][3]) // 4
            if table is None or table.dim != dim:
                table = VectorTable(dim, self.directory if compress else None)
                if compress:  # one file of the final size, not a doubling series of copies
                    table.reserve(self._media_count())
            mat = _matrix((r[3] for r in rows), len(rows))
            table.upsert([r[1] for r in rows], [r[0] for r in rows], mat, [r[2] for r in rows])
        return table

    def _allowed(self, table: VectorTable, filters: MediaFilter | None) -> np.ndarray | None:
        """Boolean mask of rows passing ``filters`` (None when nothing is filtered)."""
        if filters is None:
            return None
        mask = np.ones(len(table), dtype=bool)
        filtered = False
        if filters.modality is not None:
            mask &= table.tags == filters.modality
            filtered = True
        for sql, value in ((q.MEDIA_WITH_SENSE, filters.sense_id), (q.MEDIA_WITH_SOURCE, filters.evidence_source)):
            if value is None:
                continue
            keep = np.zeros(len(table), dtype=bool)
            keep[table.rows_of([r[0] for r in self._read(sql, (value,))])] = True
            mask &= keep
            filtered = True
        if filters.exclude_ids:
            mask[table.rows_of(list(filters.exclude_ids))] = False
            filtered = True
        return mask if filtered else None

    def _ann_for(self, paired: PairedRows, epoch: int, rev: int) -> IvfIndex:
        """The IVF index over the paired [joint | native] rows, loaded from disk or rebuilt, and brought
        up to ``rev`` with the media written since; their vectors come from the in-memory tables,
        already refreshed to ``rev``. One index serves formula queries and each space alone (the
        other part of the query zero), so a million media are indexed once, not three times."""
        kind = "pq" if any(t is not None and t.spilled for t in (paired.joint, paired.native)) else "flat"
        index = self._ann.get("match")
        if index is None or index.dim != paired.dim or index.kind != kind:
            index = IvfIndex(self.directory / "ann-match.faiss", paired.dim, kind, self.rescore)
            self._ann["match"] = index
            for old in LEGACY_INDEX_FILES:
                (self.directory / old).unlink(missing_ok=True)
        if not index.loaded or index.epoch != epoch:
            if not index.load(epoch) or index.rev > rev:
                index.rebuild(paired.rows, paired.keys, rev, epoch)
        if index.rev < rev:
            keys = np.fromiter((r[0] for r in self._read(q.MEDIA_WINDOW_KEYS, (index.rev, rev))), dtype=np.int64)
            if index.outgrown(index.count + len(keys)):  # retrain on what the rows hold now
                index.rebuild(paired.rows, paired.keys, rev, epoch)
            else:  # gathered into one array, added in one call
                pos = paired.positions(keys)
                pos = pos[pos >= 0]
                index.add(paired.rows(pos), paired.keys[pos], rev)
            index.rev = rev
        if index.count != len(paired):  # labels the rows lack (or rows it misses): stale, rebuild
            index.rebuild(paired.rows, paired.keys, rev, epoch)
        if index.unsaved >= 1000 or not index.path.exists():
            index.save()
        index.rescore = self.rescore
        return index

    def _paired(self, dims: tuple[int, int] | None) -> tuple[PairedRows, int, int]:
        """(the joint and native tables aligned by key, epoch, rev), rebuilt when the revision moved."""
        joint, epoch, rev = self._media_table("joint")
        native = self._media_table("native")[0]
        if self._paired_rows is None or self._paired_rows[0] != (epoch, rev):
            dims = dims or (0, 0)
            paired = PairedRows(joint, native, joint.dim if joint else dims[0], native.dim if native else dims[1])
            self._paired_rows = ((epoch, rev), paired)
        return self._paired_rows[1], epoch, rev

    def _exact_enough(self, n: int, allowed: int, k: int) -> bool:
        """Whether a search over ``n`` rows, ``allowed`` of them passing the filter, is answered exactly:
        a small store, a narrow filter, or k reaching every allowed row."""
        return n < max(self.ann_threshold, 1) or allowed <= min(_SMALL_FILTER, self.ann_threshold) or allowed <= k

    def media_vectors(self, media_ids: list[str], space: str) -> tuple[list[str], np.ndarray]:
        """Rows of the in-memory vector table (no SQLite read, no record decoding)."""
        with self._lock:
            table = self._media_table(space)[0]
            if table is None:
                return [], np.empty((0, 0), dtype=np.float32)
            found = [(m, row) for m in media_ids if (row := table.index.get(m)) is not None]
            return [m for m, _ in found], table.matrix[[row for _, row in found]]

    def search_media(self, vector: np.ndarray, k: int, space: str, filters: MediaFilter | None,
                     dims: tuple[int, int] | None) -> list[tuple[str, float]]:
        """Exact below ``ann_threshold`` (or for a narrow filter), else the paired IVF index with the other part zero."""
        with self._lock:
            table, epoch, rev = self._media_table(space)
            if table is None or len(table) == 0:
                return []
            query = as_unit(vector, table.dim, f"{space} query vector")
            mask = self._allowed(table, filters)
            allowed = len(table) if mask is None else int(mask.sum())
            if self._exact_enough(len(table), allowed, k):
                return table.search(query, k, mask)
            paired, epoch, rev = self._paired(dims)
            index = self._ann_for(paired, epoch, rev)
            allow = None
            if mask is not None or len(table) < len(paired):  # only the media with a vector in this space
                allow = paired.bitmap(table.keys if mask is None else table.keys[mask])
            padded = np.zeros(paired.dim, dtype=np.float32)
            padded[paired.part(space)] = query
            labels, scores = index.query(padded, k, allow, lambda lb: paired.rows(paired.positions(lb)))
            if len(labels) < min(k, allowed):  # the probed lists held fewer than k matches: answer exactly
                return table.search(query, k, mask)
            rows, ids = table.row_of_key, table.ids
            return [(ids[rows[lb]], s) for lb, s in zip(labels.tolist(), scores.tolist())]

    def search_match(self, joint: np.ndarray | None, native: np.ndarray | None, k: int,
                     filters: MediaFilter | None, dims: tuple[int, int] | None) -> list[tuple[str, float]]:
        """Exact below ``ann_threshold``, one IVF query over the paired [joint | native] rows above it."""
        with self._lock:
            paired, epoch, rev = self._paired(dims)
            if len(paired) == 0:
                return []
            qj = match_query(joint, paired.joint_dim, "joint")
            qn = match_query(native, paired.native_dim, "native")
            mask = paired.mask(*(self._allowed(t, filters) if t else None for t in (paired.joint, paired.native)))
            allowed = len(paired) if mask is None else int(mask.sum())
            if self._exact_enough(len(paired), allowed, k):
                return self._exact_match(paired, qj, qn, k, mask)
            index = self._ann_for(paired, epoch, rev)
            allow = None if mask is None else paired.bitmap(paired.keys[mask])
            labels, scores = index.query(np.concatenate([qj, qn]), k, allow, lambda lb: paired.rows(paired.positions(lb)))
            if len(labels) < min(k, allowed):  # the probed lists held fewer than k matches: answer exactly
                return self._exact_match(paired, qj, qn, k, mask)
            return list(zip(paired.ids(paired.positions(labels)), scores.tolist()))

    @staticmethod
    def _exact_match(paired: PairedRows, qj: np.ndarray, qn: np.ndarray, k: int, mask: np.ndarray | None) -> list[tuple[str, float]]:
        scores = paired.scores(qj, qn)
        if mask is not None:
            scores = np.where(mask, scores, -np.inf)
        top = topk_scores(scores, k)
        return list(zip(paired.ids(top), scores[top].tolist()))

    def _proto_table(self, slot: str) -> VectorTable | None:
        counters = self._counters()
        epoch, proto_rev = counters["epoch"], counters["proto_rev"]
        if self._proto_state.get(slot) == (epoch, proto_rev):
            return self._protos.get(slot)
        rows = self._read("SELECT sense_id, vector FROM prototypes WHERE slot = ? ORDER BY sense_id", (slot,))
        table = None
        if rows:
            table = VectorTable(len(rows[0][1]) // 4)
            mat = _matrix((r[1] for r in rows), len(rows))
            table.upsert([r[0] for r in rows], list(range(len(rows))), mat, [None] * len(rows))
            self._protos[slot] = table
        else:
            self._protos.pop(slot, None)
        self._proto_state[slot] = (epoch, proto_rev)
        return table

    def search_prototypes(self, vector: np.ndarray, k: int, propagated: bool) -> list[tuple[str, float]]:
        with self._lock:
            table = self._proto_table("propagated" if propagated else "own")
            if table is None:
                return []
            return table.search(as_unit(vector, table.dim, "prototype query vector"), k)
