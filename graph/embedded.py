"""``EmbeddedStore``: the default graph store, in-process and persisted to a directory.

The graph lives in SQLite (``DIR/graph.sqlite``, WAL mode): one transaction per write call, so a
crash never leaves a half-written store and readers in other processes see a consistent snapshot.
``PRAGMA quick_check`` runs on open and a damaged file is refused with ``StoreError``. Writers
take ``DIR/.write.lock`` (filelock) only for the duration of a write transaction.

Vectors are float32 BLOBs, searched by ``embedded_search.VectorSearch`` (in-memory tables of the
rows, an IVF index past ``ann_threshold`` media, PQ codes past ``compress_threshold``).
"""
from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
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
from .embedded_search import COMPRESS_THRESHOLD, RESCORE, VectorSearch
from .media_ids import refuse_rebinding
from .model import Alias, AliasEntry, AuditEntry, Entity, Evidence, HasSense, Media, MediaFilter, Prototype, Relation, Sense
from .patch import PatchIds

T = TypeVar("T")
DB_FILE = "graph.sqlite"
LOCK_FILE = ".write.lock"
_CHUNK = 10_000


def _bytes(v: np.ndarray | None) -> bytes | None:
    return None if v is None else v.tobytes()


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
        self.directory = Path(directory).expanduser().resolve()
        self._lock = threading.RLock()
        self._search = VectorSearch(self.directory, self._read, self._read_chunks, self._lock,
                                    ann_threshold, compress_threshold, rescore)  # settings checked before anything is made
        if self.directory.exists() and not self.directory.is_dir():
            raise StoreError(f"store path {self.directory} exists and is not a directory")
        self.directory.mkdir(parents=True, exist_ok=True)
        self._joined: tuple[sqlite3.Connection, int] | None = None  # the open write transaction
        self._flock = FileLock(str(self.directory / LOCK_FILE), timeout=lock_timeout)
        self._conn = self._connect(self.directory / DB_FILE)
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
            self._search.save()
            self._conn.close()

    def configure_vectors(self, *, ann_threshold: int | None = None, compress_threshold: int | None = None,
                          rescore: int | None = None) -> None:
        """Change the vector-search settings of an open store (``search.*`` in the configuration); a
        change of compression drops the loaded tables and index, so the next search reloads them."""
        self._search.configure(ann_threshold, compress_threshold, rescore)

    @property
    def ann_threshold(self) -> int:
        return self._search.ann_threshold

    def describe(self) -> str:
        return str(self.directory)

    @property
    def local_dir(self) -> Path:
        return self.directory

    def __repr__(self) -> str:
        return (f"EmbeddedStore({str(self.directory)!r}, ann_threshold={self._search.ann_threshold}, "
                f"compress_threshold={self._search.compress_threshold})")

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
            self._search.drop()
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

    # -- vector search (graph/embedded_search.py) -------------------------------------------------------
    def _media_vectors(self, media_ids: list[str], space: str) -> tuple[list[str], np.ndarray]:
        return self._search.media_vectors(media_ids, space)

    def _search_media(self, vector: np.ndarray, k: int, space: str, filters: MediaFilter | None) -> list[tuple[str, float]]:
        return self._search.search_media(vector, k, space, filters, self._dims)

    def _search_match(self, joint: np.ndarray | None, native: np.ndarray | None, k: int,
                      filters: MediaFilter | None) -> list[tuple[str, float]]:
        return self._search.search_match(joint, native, k, filters, self._dims)

    def _search_prototypes(self, vector: np.ndarray, k: int, propagated: bool) -> list[tuple[str, float]]:
        return self._search.search_prototypes(vector, k, propagated)

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
