"""``EmbeddedStore``: the default graph store, in-process and persisted to a directory.

The graph lives in SQLite (``DIR/graph.sqlite``, WAL mode): one transaction per write call, so a
crash never leaves a half-written store and readers in other processes see a consistent snapshot.
``PRAGMA quick_check`` runs on open and a damaged file is refused with ``StoreError``. Writers
take ``DIR/.write.lock`` (filelock) only for the duration of a write transaction.

Vectors are float32 BLOBs. Searches run over in-memory numpy matrices loaded lazily and refreshed
when the database's write revision moved (only rows stamped with a newer revision are re-read).
Past ``ann_threshold`` media one persisted faiss IVF index over the paired [joint | native] vectors
(``DIR/ann-match.faiss``) answers instead, with ``MediaFilter`` applied inside the search. Past
``compress_threshold`` media that index holds PQ codes and the float32 matrices are mapped from
unlinked files in ``DIR`` (np.memmap), so RAM holds the codes and the pages a search touches.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import starmap
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from filelock import FileLock, Timeout

from sensegraph.errors import NotFound, StoreError, ValidationError
from sensegraph.limits import chunks
from sensegraph.registry import register

from . import embedded_schema as q
from . import records as rec
from . import sense_finder
from .core import PATCH_STEPS, StoreCore
from .media_ids import refuse_rebinding
from .model import Alias, AliasEntry, AuditEntry, Entity, Evidence, HasSense, Media, MediaFilter, Prototype, Relation, Sense
from .patch import PatchIds
from .vector_index import IvfIndex, PairedRows, VectorTable, as_unit, match_query, topk_scores

T = TypeVar("T")
DB_FILE = "graph.sqlite"
LOCK_FILE = ".write.lock"
COLUMNS = {"joint": "embedding", "native": "features"}  # the media column of each vector space
_CHUNK = 10_000
LEGACY_INDEX_FILES = ("hnsw-joint.bin", "hnsw-joint.json", "hnsw-native.bin", "hnsw-native.json",  # graph indexes of earlier versions
                      "ann-joint.faiss", "ann-joint.json", "ann-native.faiss", "ann-native.json")  # per-space indexes
_SMALL_FILTER = 2_000  # a filter letting at most this many media through is searched exactly
COMPRESS_THRESHOLD = 2_000_000  # media from which vectors are PQ codes in RAM, float32 on disk (docs/scaling.md)
RESCORE = 25  # a compressed search re-scores max(rescore·k, RESCORE_MIN) exactly (docs/scaling.md: 1M media)


def _vector_options(ann_threshold: int, compress_threshold: int, rescore: int) -> tuple[int, int, int]:
    """The three vector-search settings, checked (ValidationError naming the bad one)."""
    for name, value, least in (("ann_threshold", ann_threshold, 0), ("compress_threshold", compress_threshold, 0), ("rescore", rescore, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ValidationError(f"{name} must be an integer >= {least}, got {value!r}")
    return ann_threshold, compress_threshold, rescore


def _bytes(v: np.ndarray | None) -> bytes | None:
    return None if v is None else v.tobytes()


def _matrix(blobs: Iterable[bytes], n: int) -> np.ndarray:
    """``n`` float32 vector BLOBs of one dimension as an (n, dim) read-only array (one join, no per-row copies)."""
    return np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(n, -1)


PUT = {"meta": q.SET_META, "entities": q.UPSERT_ENTITY, "aliases": q.UPSERT_ALIAS, "senses": q.UPSERT_SENSE,
       "has_sense": q.UPSERT_HAS_SENSE, "relations": q.UPSERT_RELATION, "evidence": q.UPSERT_EVIDENCE,
       "delete_evidence": q.DELETE_EVIDENCE, "media": q.UPSERT_MEDIA, "prototypes": q.UPSERT_PROTOTYPE,
       "audit": q.INSERT_AUDIT}
COUNTED = ("evidence", "delete_evidence", "prototypes")  # kinds whose write returns the rows changed


class EmbeddedStore(StoreCore):
    """A ``GraphStore`` in a directory: SQLite for the graph, numpy/faiss for vector search."""

    name = "embedded"

    def __init__(self, directory: str | Path, *, ann_threshold: int = 20_000, lock_timeout: float = 60.0,
                 compress_threshold: int = COMPRESS_THRESHOLD, rescore: int = RESCORE) -> None:
        self.ann_threshold, self.compress_threshold, self.rescore = _vector_options(ann_threshold, compress_threshold, rescore)
        self.directory = Path(directory).expanduser().resolve()
        if self.directory.exists() and not self.directory.is_dir():
            raise StoreError(f"store path {self.directory} exists and is not a directory")
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._joined: tuple[sqlite3.Connection, int] | None = None  # the open write transaction
        self._flock = FileLock(str(self.directory / LOCK_FILE), timeout=lock_timeout)
        self._conn = self._connect(self.directory / DB_FILE)
        self._tables: dict[str, VectorTable] = {}
        self._table_state: dict[str, tuple[int, int]] = {}  # space -> (epoch, rev) loaded
        self._ann: dict[str, IvfIndex] = {}
        self._paired_rows: tuple[tuple[int, int], PairedRows] | None = None
        self._protos: dict[str, VectorTable] = {}
        self._proto_state: dict[str, tuple[int, int]] = {}
        self._dims: tuple[int, int] | None = None
        self._load_dims()

    # -- lifecycle ---------------------------------------------------------------------------------
    def _connect(self, path: Path) -> sqlite3.Connection:
        """Open (or create) the database, refuse a corrupted one, create the schema."""
        try:
            conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=60.0)
            conn.execute("PRAGMA journal_mode=WAL")
            problems = [r[0] for r in conn.execute("PRAGMA quick_check").fetchall()]
            if problems != ["ok"]:  # SQLite 3.40's quick_check reports false "NULL value in" rows for
                # WITHOUT ROWID tables keyed out of column order (audit_senses); integrity_check decides
                problems = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
            if problems != ["ok"]:
                conn.close()
                raise StoreError(f"store at {self.directory} is corrupted: {'; '.join(problems[:5])}")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=OFF")
            conn.create_function("sg_lower", 1, lambda s: s.lower() if isinstance(s, str) else s, deterministic=True)
            with self._flock:
                conn.executescript(q.DDL)
                conn.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)", (q.SCHEMA_VERSION,)
                )
        except Timeout as exc:
            raise StoreError(f"store at {self.directory} is locked by another writer ({exc})") from exc
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"store at {self.directory} is corrupted: {exc}") from exc
        return conn

    def close(self) -> None:
        """Save any unsaved vector-index updates and close the database."""
        with self._lock:
            for index in self._ann.values():
                if index.unsaved:
                    index.save()
            self._conn.close()

    def configure_vectors(self, *, ann_threshold: int | None = None, compress_threshold: int | None = None,
                          rescore: int | None = None) -> None:
        """Change the vector-search settings of an open store (``search.*`` in the configuration); a
        change of compression drops the loaded tables and index, so the next search reloads them."""
        with self._lock:
            new = _vector_options(self.ann_threshold if ann_threshold is None else ann_threshold,
                                  self.compress_threshold if compress_threshold is None else compress_threshold,
                                  self.rescore if rescore is None else rescore)
            if new[1] != self.compress_threshold:
                self._tables.clear()
                self._table_state.clear()
                self._paired_rows = None
                for index in self._ann.values():
                    if index.unsaved:
                        index.save()
                self._ann.clear()
            self.ann_threshold, self.compress_threshold, self.rescore = new

    def describe(self) -> str:
        return str(self.directory)

    @property
    def local_dir(self) -> Path:
        return self.directory

    def __repr__(self) -> str:
        return (f"EmbeddedStore({str(self.directory)!r}, ann_threshold={self.ann_threshold}, "
                f"compress_threshold={self.compress_threshold})")

    def transaction(self, work: Callable[[EmbeddedStore], T]) -> T:
        """Run ``work(store)`` as ONE write transaction: every read and write it makes through the store
        joins it (same connection, same thread), and all of it commits or none does."""
        with self._write():
            return work(self)

    @contextmanager
    def _write(self) -> Iterator[tuple[sqlite3.Connection, int]]:
        """One write transaction under the directory's write lock; yields (connection, revision). A
        write inside an open one (``transaction``) joins it."""
        with self._lock:
            if self._joined is not None:
                yield self._joined
                return
            try:
                self._flock.acquire()
            except Timeout as exc:
                raise StoreError(f"store at {self.directory} is locked by another writer ({exc})") from exc
            try:
                conn = self._conn
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    rev = conn.execute(q.BUMP_REV).fetchone()[0]
                    self._joined = (conn, rev)
                    yield conn, rev
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                finally:
                    self._joined = None
            except sqlite3.Error as exc:
                raise StoreError(f"write to store at {self.directory} failed: {exc}") from exc
            finally:
                self._flock.release()

    def _read(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"read from store at {self.directory} failed: {exc}") from exc

    def _read_chunks(self, sql: str, params: Sequence[Any] = ()) -> Iterator[list[tuple]]:
        """The rows of one SELECT in lists of ``_CHUNK``: one statement, so one consistent snapshot."""
        with self._lock:
            try:
                cursor = self._conn.execute(sql, params)
                while rows := cursor.fetchmany(_CHUNK):
                    yield rows
            except sqlite3.Error as exc:
                raise StoreError(f"read from store at {self.directory} failed: {exc}") from exc

    def _dicts(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """The rows of one SELECT as dicts keyed by column name (what ``records`` builds records from)."""
        with self._lock:
            try:
                cursor = self._conn.execute(sql, params)
                cols = [d[0] for d in cursor.description]
                return [dict(zip(cols, r)) for r in cursor.fetchall()]
            except sqlite3.Error as exc:
                raise StoreError(f"read from store at {self.directory} failed: {exc}") from exc

    def _rows_in(self, sql: str, ids: Sequence[str], params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """``_dicts`` of ``sql`` whose ``{ids}`` is ``ids`` (distinct, in ``chunks``), after ``params``."""
        ids, out = list(dict.fromkeys(ids)), []
        for chunk in chunks(ids):
            out += self._dicts(sql.replace("{ids}", ",".join("?" * len(chunk))), [*params, *chunk])
        return out

    def wipe(self) -> None:
        """Delete everything (tests use it between cases); the encoder binding goes too."""
        with self._write() as (conn, _):
            for table in q.TABLES:
                if table != "counters":
                    conn.execute(f"DELETE FROM {table}")  # noqa: S608 - table names are constants
            conn.execute(q.BUMP_EPOCH)
            conn.execute(q.BUMP_PROTO)
            conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (q.SCHEMA_VERSION,))
        with self._lock:
            for index in self._ann.values():
                index.drop()
            self._ann.clear()
            self._tables.clear()
            self._paired_rows = None
            self._table_state.clear()
            self._protos.clear()
            self._proto_state.clear()
            self._dims = None

    # -- adapter primitives (graph/core.py) ----------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        rows = self._read(q.GET_META, (key,))
        return rows[0][0] if rows else None

    def _load_dims(self) -> None:
        joint, native = self.get_meta("joint_dim"), self.get_meta("native_dim")
        self._dims = (int(joint), int(native)) if joint and native else None

    def _claim_meta(self, values: dict[str, str]) -> dict[str, str]:
        with self._write() as (conn, _):
            held = {r["key"]: r["value"] for r in self._rows_in("SELECT key, value FROM meta WHERE key IN ({ids})", list(values))}
            if not held:
                conn.executemany(q.SET_META, [{"key": k, "value": v} for k, v in values.items()])
                return dict(values)
        return held

    def _put(self, kind: str, rows: list[dict[str, Any]]) -> int:
        """One write transaction for the rows (vectors as BLOBs); media are never rebound to other bytes."""
        if kind in ("media", "prototypes"):
            rows = [{**r, **{f: _bytes(r[f]) for f in ("embedding", "features", "vector", "joint") if f in r}} for r in rows]
        if kind == "audit":
            rows = [{**r, "sense_ids": json.dumps(r["sense_ids"])} for r in rows]
        with self._write() as (conn, rev):
            before = conn.total_changes
            if kind == "media":
                held = self._rows_in("SELECT media_id, sha256 FROM media WHERE media_id IN ({ids})",
                                     [r["media_id"] for r in rows if r["sha256"]])
                refuse_rebinding({r["media_id"]: r["sha256"] for r in held}, rows)  # no writer can slip between
                rows = [{**r, "rev": rev} for r in rows]
            for i in range(0, len(rows), _CHUNK):
                conn.executemany(PUT[kind], rows[i : i + _CHUNK])
            if kind == "audit":
                conn.executemany(q.INSERT_AUDIT_SENSE, [{"audit_id": r["audit_id"], "sense_id": sid}
                                                        for r in rows for sid in json.loads(r["sense_ids"])])
            changed = conn.total_changes - before
            if kind == "prototypes" and changed:
                conn.execute(q.BUMP_PROTO)
        return changed if kind in COUNTED else len(rows)

    def _redirects(self, sense_ids: Sequence[str]) -> dict[str, str | None]:
        return {r["sense_id"]: r["redirect_to"] for r in self._rows_in(
            "SELECT sense_id, redirect_to FROM senses WHERE sense_id IN ({ids})", sense_ids)}

    # -- reads -------------------------------------------------------------------------------------
    def get_senses(self, sense_ids: Sequence[str]) -> dict[str, Sense]:
        return {r["sense_id"]: rec.sense_of(r) for r in self._rows_in(q.SENSE_COLUMNS + " WHERE s.sense_id IN ({ids})", sense_ids)}

    def get_entities(self, entity_ids: Sequence[str]) -> dict[str, Entity]:
        return {r["id"]: Entity(r["id"], r["name"]) for r in self._rows_in(q.ENTITY_COLUMNS + " WHERE id IN ({ids})", entity_ids)}

    def has_sense_of(self, sense_ids: Sequence[str]) -> list[HasSense]:
        rows = self._rows_in(q.HAS_SENSE_COLUMNS + " WHERE sense_id IN ({ids}) ORDER BY sense_id, entity_id", sense_ids)
        return sorted((HasSense(**r) for r in rows), key=lambda h: (h.sense_id, h.entity_id))

    def entity_links(self, entity_ids: Sequence[str]) -> list[HasSense]:
        return [HasSense(**r) for r in self._rows_in(q.HAS_SENSE_COLUMNS + " WHERE entity_id IN ({ids})", entity_ids)]

    def sense_candidates(self, needle: str, *, anywhere: bool = True) -> list[sense_finder.SenseCandidate]:
        """Every sense whose id, label or an alias contains ``needle`` (lower-case; with ``anywhere``
        false, starts with it), with those aliases."""
        if not needle:
            return []
        return sense_finder.group_rows(self._read(q.SENSE_CANDIDATES, {"q": needle, "last": 1 << 30 if anywhere else 1}))

    def aliases_of(self, sense_id: str) -> list[Alias]:
        return [Alias(text=t, entity_id=e, lang=lang) for t, e, lang in self._read(q.ALIASES_OF, (sense_id,))]

    def alias_table(self) -> list[AliasEntry]:
        """Every (alias, entity, sense) row with the entity's rank for that sense."""
        return list(starmap(AliasEntry, self._read(q.ALIAS_TABLE)))

    def neighbours(self, sense_ids: Sequence[str]) -> list[Relation]:
        out: dict[tuple[str, str, str], Relation] = {}
        for sql in (q.NEIGHBOURS_OUT, q.NEIGHBOURS_IN):
            out.update({(r["source"], r["target"], r["type"]): Relation(**r) for r in self._rows_in(sql, sense_ids)})
        return list(out.values())

    def evidence(self, *, sense_id: str | None = None, media_id: str | None = None) -> list[Evidence]:
        """Edges of a sense and/or a medium, detached ones included (consumers filter)."""
        where = " AND ".join(f"{k} = :{k}" for k, v in (("sense_id", sense_id), ("media_id", media_id)) if v is not None)
        sql = q.EVIDENCE_COLUMNS + (f" WHERE {where}" if where else "") + " ORDER BY sense_id, media_id"
        return [rec.evidence_of(r) for r in self._dicts(sql, {"sense_id": sense_id, "media_id": media_id})]

    def get_media(self, media_ids: Sequence[str], *, vectors: bool = True) -> dict[str, Media]:
        sql = (q.MEDIA_COLUMNS if vectors else q.MEDIA_COLUMNS_NOVEC) + " WHERE media_id IN ({ids})"
        return {r["media_id"]: rec.media_of(r) for r in self._rows_in(sql, media_ids)}

    def _media_vectors(self, media_ids: list[str], space: str) -> tuple[list[str], np.ndarray]:
        """Rows of the in-memory vector table (no SQLite read, no record decoding)."""
        with self._lock:
            table = self._media_table(space)[0]
            if table is None:
                return [], np.empty((0, 0), dtype=np.float32)
            found = [(m, row) for m in media_ids if (row := table.index.get(m)) is not None]
            return [m for m, _ in found], table.matrix[[row for _, row in found]]

    def media_by_sha256(self, sha256: str) -> Media | None:
        rows = self._dicts(q.MEDIA_COLUMNS + " WHERE sha256 = ? ORDER BY id LIMIT 1", (sha256,)) if sha256 else []
        return rec.media_of(rows[0]) if rows else None

    def _pages(self, sql: str, key: Callable[[dict[str, Any]], Any], first: Any, batch_size: int) -> Iterator[list[dict[str, Any]]]:
        """Keyset pages of ``sql`` (its parameters: the last key's values, then the page size)."""
        last = first
        while rows := self._dicts(sql, (*last, max(1, batch_size))):
            yield rows
            last = key(rows[-1])

    def iter_senses(self, batch_size: int = 5000) -> Iterator[list[Sense]]:
        for rows in self._pages(q.SENSES_PAGE, lambda r: (r["sense_id"],), ("",), batch_size):
            yield [rec.sense_of(r) for r in rows]

    def iter_relations(self, batch_size: int = 5000) -> Iterator[list[Relation]]:
        for rows in self._pages(q.RELATIONS_PAGE, lambda r: (r["source"], r["target"], r["type"]), ("", "", ""), batch_size):
            yield [Relation(**r) for r in rows]

    def iter_media(self, batch_size: int = 1000, *, vectors: bool = True) -> Iterator[list[Media]]:
        sql = (q.MEDIA_COLUMNS if vectors else q.MEDIA_COLUMNS_NOVEC) + q.MEDIA_PAGE_TAIL
        for rows in self._pages(sql, lambda r: (r["id"],), (0,), batch_size):
            yield [rec.media_of(r) for r in rows]

    def counts(self) -> dict[str, int]:
        keys = ("entities", "aliases", "senses", "relations", "media", "evidence",
                "prototypes_media", "prototypes_curated", "prototypes_propagated", "evidence_gated")
        return dict(zip(keys, (int(x) for x in self._read(q.COUNTS)[0])))

    # -- prototypes --------------------------------------------------------------------------------
    def clear_prototype(self, sense_id: str, *, propagated: bool = False) -> None:
        with self._write() as (conn, _):
            conn.execute(q.CLEAR_PROTOTYPE, (sense_id, "propagated" if propagated else "own"))
            conn.execute(q.BUMP_PROTO)

    def get_prototypes(self, sense_ids: Sequence[str], *, propagated: bool = False) -> dict[str, Prototype]:
        rows = self._rows_in(q.PROTOTYPE_COLUMNS + " AND sense_id IN ({ids})", sense_ids, ["propagated" if propagated else "own"])
        return {r["sense_id"]: rec.prototype_of(r) for r in rows}

    # -- vector search -----------------------------------------------------------------------------
    def _counters(self) -> dict[str, int]:
        return {k: int(v) for k, v in self._read(q.READ_COUNTERS)}

    def _media_table(self, space: str) -> tuple[VectorTable | None, int, int]:
        """The space's vector table, refreshed with rows written since it was last loaded."""
        counters = self._counters()
        epoch, rev = counters["epoch"], counters["rev"]
        table = self._tables.get(space)
        state = self._table_state.get(space)
        if table is not None and state == (epoch, rev):
            return table, epoch, rev
        since = state[1] if (table is not None and state is not None and state[0] == epoch) else -1
        compress = self._compressing()
        if table is not None and table.spilled != compress:  # the store crossed compress_threshold
            since = -1
        table = self._load_media_rows(space, table if since >= 0 else None, since, compress)
        if table is not None and since >= 0 and table is not self._tables.get(space):
            table = self._load_media_rows(space, None, -1)  # the dimension changed under us: reload all
        if table is not None:
            self._tables[space] = table
        else:
            self._tables.pop(space, None)
        self._table_state[space] = (epoch, rev)
        return table, epoch, rev

    def _compressing(self) -> bool:
        """Whether the store holds ``compress_threshold`` media or more (vectors on disk, PQ in RAM)."""
        return int(self._read("SELECT COUNT(*) FROM media")[0][0]) >= max(self.compress_threshold, 1)

    def _load_media_rows(self, space: str, table: VectorTable | None, since: int, compress: bool = False) -> VectorTable | None:
        """Upsert rows changed after ``since`` into ``table`` (a new one when None), a chunk at a time
        so a million-row load never holds the rows twice; a new table when the dimension differs.
        ``compress``: a new table's matrix is file-backed (np.memmap in the store directory)."""
        for rows in self._read_chunks(q.MEDIA_CHANGED.format(column=COLUMNS[space]), (since,)):
            dim = len(rows[0][3]) // 4
            if table is None or table.dim != dim:
                table = VectorTable(dim, self.directory if compress else None)
                if compress:  # one file of the final size, not a doubling series of copies
                    table.reserve(int(self._read("SELECT COUNT(*) FROM media")[0][0]))
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

    def _paired(self) -> tuple[PairedRows, int, int]:
        """(the joint and native tables aligned by key, epoch, rev), rebuilt when the revision moved."""
        joint, epoch, rev = self._media_table("joint")
        native = self._media_table("native")[0]
        if self._paired_rows is None or self._paired_rows[0] != (epoch, rev):
            dims = self._dims or (0, 0)
            paired = PairedRows(joint, native, joint.dim if joint else dims[0], native.dim if native else dims[1])
            self._paired_rows = ((epoch, rev), paired)
        return self._paired_rows[1], epoch, rev

    def _exact_enough(self, n: int, allowed: int, k: int) -> bool:
        """Whether a search over ``n`` rows, ``allowed`` of them passing the filter, is answered exactly:
        a small store, a narrow filter, or k reaching every allowed row."""
        return n < max(self.ann_threshold, 1) or allowed <= min(_SMALL_FILTER, self.ann_threshold) or allowed <= k

    def _search_media(self, vector: np.ndarray, k: int, space: str, filters: MediaFilter | None) -> list[tuple[str, float]]:
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
            paired, epoch, rev = self._paired()
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

    def _search_match(self, joint: np.ndarray | None, native: np.ndarray | None, k: int,
                      filters: MediaFilter | None) -> list[tuple[str, float]]:
        """Exact below ``ann_threshold``, one IVF query over the paired [joint | native] rows above it."""
        with self._lock:
            paired, epoch, rev = self._paired()
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

    def _search_prototypes(self, vector: np.ndarray, k: int, propagated: bool) -> list[tuple[str, float]]:
        with self._lock:
            table = self._proto_table("propagated" if propagated else "own")
            if table is None:
                return []
            return table.search(as_unit(vector, table.dim, "prototype query vector"), k)

    # -- inverse edits (the curator's undo): set_redirect, delete_*, apply_patch from PatchOps ----
    def _apply_rows(self, need: PatchIds, rows: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
        changed: dict[str, int] = {}
        with self._write() as (conn, _):
            for ids, table, what in ((need.entities, "entities", "entity"), (need.senses, "senses", "sense"),
                                     (need.media, "media", "media")):
                self._require(conn, table, ids, what)
            for name in PATCH_STEPS:
                before = conn.total_changes
                for sql in q.PATCH[name]:
                    conn.executemany(sql, rows[name])
                changed[name] = conn.total_changes - before
        return changed

    @staticmethod
    def _require(conn: sqlite3.Connection, table: str, ids: Sequence[str], what: str) -> None:
        """NotFound naming the first of ``ids`` missing from ``table`` (its key column)."""
        key = {"entities": "id", "senses": "sense_id", "media": "media_id"}[table]
        for i in range(0, len(ids), 500):
            chunk = list(ids[i : i + 500])
            marks = ",".join("?" * len(chunk))
            found = {r[0] for r in conn.execute(f"SELECT {key} FROM {table} WHERE {key} IN ({marks})", chunk)}  # noqa: S608
            missing = [x for x in chunk if x not in found]
            if missing:
                raise NotFound(f"{what} {missing[0]!r} does not exist")

    # -- audit -------------------------------------------------------------------------------------
    def audit_log(self, sense_id: str | None = None, limit: int = 100) -> list[AuditEntry]:
        """Newest first, optionally only the edits touching ``sense_id``."""
        args = (max(0, limit),) if sense_id is None else (sense_id, max(0, limit))
        return [rec.audit_of(r) for r in self._dicts(q.AUDIT_ALL if sense_id is None else q.AUDIT_FOR_SENSE, args)]

    def mark_undone(self, audit_id: str) -> None:
        with self._write() as (conn, _):
            if conn.execute(q.MARK_UNDONE, (audit_id,)).rowcount == 0:
                raise NotFound(f"audit entry {audit_id!r} does not exist")


@register("store", "embedded")
def open_embedded(uri: str, **options: Any) -> EmbeddedStore:
    """Factory for ``open_store``: ``uri`` is the store directory (created if missing)."""
    known = {"ann_threshold", "compress_threshold", "rescore", "lock_timeout"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ValidationError(f"unknown embedded store option(s) {unknown}; known: {sorted(known)}")
    return EmbeddedStore(uri, **options)
