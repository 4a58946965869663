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

from sensegraph.errors import StoreError, ValidationError
from sensegraph.limits import chunks
from sensegraph.registry import register

from . import embedded_schema as q
from . import sense_finder
from .core import StoreCore
from .embedded_search import COMPRESS_THRESHOLD, RESCORE, VectorSearch
from .model import AliasEntry, MediaFilter

T = TypeVar("T")
DB_FILE = "graph.sqlite"
LOCK_FILE = ".write.lock"
_CHUNK = 10_000


def _with_ids(n: int) -> str:
    """The ``ids`` table of one chunk as bound parameters (json_each would cut an id at a NUL character)."""
    return "WITH ids(value) AS (VALUES " + ", ".join(f"(:id_{i})" for i in range(n)) + ") "


def _bytes(v: np.ndarray | None) -> bytes | None:
    return None if v is None else v.tobytes()


PUT = {**{k: (sql,) for k, sql in q.PUT.items()}, **{f"patch_{k}": sqls for k, sqls in q.PATCH.items()}}  # statements per kind
COUNTED = ("evidence", "delete_evidence", "prototypes", "mark_undone", *(f"patch_{k}" for k in q.PATCH))  # return rows changed


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
        """Media from which an IVF index answers (``configure_vectors``)."""
        return self._search.ann_threshold

    @property
    def compress_threshold(self) -> int:
        """Media from which the index holds PQ codes and float32 vectors stay on disk."""
        return self._search.compress_threshold

    @property
    def rescore(self) -> int:
        """A compressed search re-scores max(rescore·k, 1000) candidates exactly."""
        return self._search.rescore

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

    def _read_chunks(self, sql: str, params: Sequence[Any] | dict[str, Any] = (), *, named: bool = False) -> Iterator[list[Any]]:
        """The rows of one SELECT in lists of ``_CHUNK`` (dicts keyed by column name with ``named``, what
        ``records`` builds records from): one statement, so one consistent snapshot."""
        with self._lock:
            try:
                cursor = self._conn.execute(sql, params)
                cols = [d[0] for d in cursor.description] if named else None
                while rows := cursor.fetchmany(_CHUNK):
                    yield [dict(zip(cols, r)) for r in rows] if cols else rows
            except sqlite3.Error as exc:
                raise StoreError(f"read from store at {self.directory} failed: {exc}") from exc

    def _read(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[tuple]:
        return [r for rows in self._read_chunks(sql, params) for r in rows]

    def _dicts(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        return [r for rows in self._read_chunks(sql, params, named=True) for r in rows]

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
    def _rows(self, read: str, ids: Sequence[str] | None = None, **params: Any) -> list[dict[str, Any]]:
        """The rows of ``embedded_schema.READS[read]``; with ``ids``, over them (distinct, in ``chunks``) as the ``ids`` table."""
        if ids is None:
            return self._dicts(q.READS[read], params)
        return [r for chunk in chunks(list(dict.fromkeys(ids)))
                for r in self._dicts(_with_ids(len(chunk)) + q.READS[read],
                                     {**params, **{f"id_{i}": v for i, v in enumerate(chunk)}})]

    def _pages(self, scan: str, size: int, **params: Any) -> Iterator[list[dict[str, Any]]]:
        """Keyset pages of ``embedded_schema.SCANS[scan]`` (its statement, its key columns' first values)."""
        sql, after = q.SCANS[scan]
        while rows := self._dicts(sql, {**params, **after, "limit": size}):
            yield rows
            after = {k: rows[-1][k] for k in after}

    def _claim_meta(self, values: dict[str, str]) -> dict[str, str]:
        with self._write() as (conn, _):
            held = self._metas(list(values))
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
                self._refuse_rebinding(rows)  # inside the write: no writer can slip between
                rows = [{**r, "rev": rev} for r in rows]
            for i in range(0, len(rows), _CHUNK):
                for sql in PUT[kind]:
                    conn.executemany(sql, rows[i : i + _CHUNK])
            if kind == "audit":
                conn.executemany(q.INSERT_AUDIT_SENSE, [{"audit_id": r["audit_id"], "sense_id": sid}
                                                        for r in rows for sid in json.loads(r["sense_ids"])])
            changed = conn.total_changes - before
            if kind in ("prototypes", "clear_own", "clear_propagated") and changed:
                conn.execute(q.BUMP_PROTO)
        return changed if kind in COUNTED else len(rows)

    def _sense_candidates(self, needle: str, anywhere: bool) -> list[sense_finder.SenseCandidate]:
        return sense_finder.group_rows(self._read(q.SENSE_CANDIDATES, {"q": needle, "last": 1 << 30 if anywhere else 1}))

    def alias_table(self) -> list[AliasEntry]:
        """Every (alias, entity, sense) row with the entity's rank for that sense."""
        return list(starmap(AliasEntry, self._read(q.ALIAS_TABLE)))

    # -- vector search (graph/embedded_search.py) -------------------------------------------------------
    def _media_vectors(self, media_ids: list[str], space: str) -> tuple[list[str], np.ndarray]:
        return self._search.media_vectors(media_ids, space)

    def _search_media(self, vector: np.ndarray, k: int, space: str, filters: MediaFilter | None) -> list[tuple[str, float]]:
        return self._search.search_media(vector, k, space, filters, self._dims)

    def _search_match(self, joint: np.ndarray | None, native: np.ndarray | None, k: int,
                      filters: MediaFilter | None, records: int = 0) -> list[tuple[str, float]]:
        """(``records``, a hint to read hits' records with the query, costs nothing to skip in process.)"""
        return self._search.search_match(joint, native, k, filters, self._dims)

    def _search_prototypes(self, vector: np.ndarray, k: int, propagated: bool) -> list[tuple[str, float]]:
        return self._search.search_prototypes(vector, k, propagated)


@register("store", "embedded")
def open_embedded(uri: str, **options: Any) -> EmbeddedStore:
    """Factory for ``open_store``: ``uri`` is the store directory (created if missing)."""
    known = {"ann_threshold", "compress_threshold", "rescore", "lock_timeout"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ValidationError(f"unknown embedded store option(s) {unknown}; known: {sorted(known)}")
    return EmbeddedStore(uri, **options)
