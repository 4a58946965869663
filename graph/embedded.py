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

from sensegraph.errors import EncoderMismatch, NotFound, StoreError, ValidationError
from sensegraph.registry import register

from . import embedded_schema as q
from . import sense_finder
from .media_ids import refuse_rebinding
from .model import (
    EVIDENCE_SOURCES,
    MODALITIES,
    PROTOTYPE_SOURCES,
    Alias,
    AliasEntry,
    AuditEntry,
    Entity,
    Evidence,
    GraphPatch,
    HasSense,
    Media,
    MediaFilter,
    Prototype,
    Relation,
    Sense,
    SensePrototypes,
)
from .edits import EditOps
from .patch import PatchOps, check_patch, required_ids
from .vector_index import IvfIndex, PairedRows, VectorTable, as_unit, match_query, topk_scores

T = TypeVar("T")
DB_FILE = "graph.sqlite"
LOCK_FILE = ".write.lock"
SPACES = {"joint": "embedding", "native": "features"}
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


def _blob(v: np.ndarray | None, dim: int | None, what: str) -> bytes | None:
    """float32 bytes of a finite vector (checked against the bound encoder's dimension)."""
    if v is None:
        return None
    a = np.asarray(v, dtype=np.float32)
    if a.ndim != 1 or (dim is not None and a.shape[0] != dim):
        raise ValidationError(f"{what} has shape {a.shape}, expected ({dim if dim is not None else 'd'},)")
    if not np.all(np.isfinite(a)):
        raise ValidationError(f"{what} contains NaN or infinite values")
    return a.tobytes()


def _metadata_json(m: Media) -> str:
    """The medium's metadata as JSON (ValidationError when it is not JSON-serialisable)."""
    try:
        return json.dumps(m.metadata or {}, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"media {m.media_id!r}: metadata is not JSON-serialisable ({exc})") from exc


def _vec(b: bytes | None) -> np.ndarray | None:
    return None if b is None else np.frombuffer(b, dtype=np.float32).copy()


def _matrix(blobs: Iterable[bytes], n: int) -> np.ndarray:
    """``n`` float32 vector BLOBs of one dimension as an (n, dim) read-only array (one join, no per-row copies)."""
    return np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(n, -1)


def _need(value: object, what: str) -> str:
    """A non-empty string, or a ValidationError naming the field."""
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{what} must be a non-empty string, got {value!r}")
    return value


def _sense(row: Sequence[Any]) -> Sense:
    return Sense(
        sense_id=row[0], label=row[1], gloss=row[2], redirect_to=row[3],
        media_count=int(row[4]), prototype_source=row[5],
    )


def _evidence(row: Sequence[Any]) -> Evidence:
    return Evidence(
        media_id=row[0], sense_id=row[1], confidence=float(row[2]), source=row[3],
        detached=bool(row[4]), mention=row[5],
    )


def _media(row: Sequence[Any]) -> Media:
    return Media(
        media_id=row[1], uri=row[2], modality=row[3], sha256=row[4], caption=row[5],
        metadata=json.loads(row[6]), embedding=_vec(row[7]), features=_vec(row[8]),
    )


def _prototype(row: Sequence[Any]) -> Prototype:
    return Prototype(
        sense_id=row[0], vector=_vec(row[1]), source=row[2], media_count=int(row[3]),
        strategy=row[4], confidence=float(row[5]), joint=_vec(row[6]),
        weight=float(row[7]), norm=float(row[8]),
    )


def _audit(row: Sequence[Any]) -> AuditEntry:
    return AuditEntry(
        audit_id=row[0], user=row[1], at=row[2], action=row[3], sense_ids=tuple(json.loads(row[4])),
        before=row[5], after=row[6], undone=bool(row[7]),
    )


class EmbeddedStore(EditOps, PatchOps):
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

    def __enter__(self) -> EmbeddedStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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

    # -- metadata ----------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        rows = self._read(q.GET_META, (key,))
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        _need(key, "meta key")
        if not isinstance(value, str):
            raise ValidationError(f"meta value for {key!r} must be a string, got {type(value).__name__}")
        with self._write() as (conn, _):
            conn.execute(q.SET_META, (key, value))

    def _load_dims(self) -> None:
        joint, native = self.get_meta("joint_dim"), self.get_meta("native_dim")
        self._dims = (int(joint), int(native)) if joint and native else None

    def bind_encoder(self, encoder_id: str, joint_dim: int, native_dim: int) -> None:
        """Record the encoder on first use; another encoder (or other dims) raises EncoderMismatch."""
        _need(encoder_id, "encoder_id")
        if int(joint_dim) <= 0 or int(native_dim) <= 0:
            raise ValidationError(f"encoder dims must be positive, got joint={joint_dim} native={native_dim}")
        with self._write() as (conn, _):
            rows = dict(conn.execute(
                "SELECT key, value FROM meta WHERE key IN ('encoder_id', 'joint_dim', 'native_dim')"
            ).fetchall())
            if rows:
                held = (rows.get("encoder_id"), rows.get("joint_dim"), rows.get("native_dim"))
                if held != (encoder_id, str(int(joint_dim)), str(int(native_dim))):
                    raise EncoderMismatch(
                        f"store at {self.directory} holds vectors of encoder {held[0]!r} "
                        f"(joint {held[1]}, native {held[2]}), not {encoder_id!r} (joint {joint_dim}, "
                        f"native {native_dim}); use a fresh store or re-ingest with the recorded "
                        f"encoder {held[0]!r}"
                    )
                return
            conn.executemany(q.SET_META, [
                ("encoder_id", encoder_id), ("joint_dim", str(int(joint_dim))), ("native_dim", str(int(native_dim))),
            ])
        self._dims = (int(joint_dim), int(native_dim))

    # -- knowledge graph upserts ---------------------------------------------------------------------
    def _upsert(self, sql: str, rows: list[tuple]) -> int:
        with self._write() as (conn, _):
            for i in range(0, len(rows), _CHUNK):
                conn.executemany(sql, rows[i : i + _CHUNK])
        return len(rows)

    def upsert_entities(self, entities: Iterable[Entity]) -> int:
        rows = [(_need(e.id, "entity id"), e.name if e.name is not None else "") for e in entities]
        return self._upsert(q.UPSERT_ENTITY, rows)

    def upsert_aliases(self, aliases: Iterable[Alias]) -> int:
        rows = [(_need(a.text, "alias text"), _need(a.lang, "alias lang"), _need(a.entity_id, "alias entity_id"))
                for a in aliases]
        return self._upsert(q.UPSERT_ALIAS, rows)

    def upsert_senses(self, senses: Iterable[Sense]) -> int:
        rows = [(_need(s.sense_id, "sense_id"), s.label or "", s.gloss or "", s.redirect_to) for s in senses]
        return self._upsert(q.UPSERT_SENSE, rows)

    def upsert_has_sense(self, links: Iterable[HasSense]) -> int:
        rows = [(_need(h.entity_id, "entity_id"), _need(h.sense_id, "sense_id"), int(h.rank)) for h in links]
        return self._upsert(q.UPSERT_HAS_SENSE, rows)

    def upsert_relations(self, relations: Iterable[Relation]) -> int:
        rows = []
        for r in relations:
            w = float(r.weight)
            if not np.isfinite(w):
                raise ValidationError(f"relation {r.source}->{r.target} has a non-finite weight {r.weight!r}")
            rows.append((_need(r.source, "relation source"), _need(r.target, "relation target"),
                         _need(r.type, "relation type"), w))
        return self._upsert(q.UPSERT_RELATION, rows)

    # -- media and evidence --------------------------------------------------------------------------
    def upsert_media(self, media: Iterable[Media]) -> int:
        """Create or update media; a record without vectors keeps the stored ones; an id never takes other bytes."""
        joint, native = self._dims or (None, None)
        rows = []
        for m in media:
            _need(m.media_id, "media_id")
            if m.modality not in MODALITIES:
                raise ValidationError(f"media {m.media_id!r}: modality {m.modality!r} is not one of {MODALITIES}")
            rows.append({
                "media_id": m.media_id, "uri": m.uri or "", "modality": m.modality, "sha256": m.sha256 or "",
                "caption": m.caption, "metadata": _metadata_json(m),
                "embedding": _blob(m.embedding, joint, f"media {m.media_id!r} embedding"),
                "features": _blob(m.features, native, f"media {m.media_id!r} features"),
            })
        with self._write() as (conn, rev):
            ids = [r["media_id"] for r in rows if r["sha256"]]
            stored: dict[str, str] = {}
            for i in range(0, len(ids), 500):
                chunk = ids[i : i + 500]
                marks = ",".join("?" * len(chunk))
                stored.update(conn.execute(f"SELECT media_id, sha256 FROM media WHERE media_id IN ({marks})", chunk).fetchall())
            refuse_rebinding(stored, rows)  # inside the write transaction: no other writer can slip between
            for row in rows:
                row["rev"] = rev
            conn.executemany(q.UPSERT_MEDIA, rows)
        return len(rows)

    def upsert_evidence(self, evidence: Iterable[Evidence]) -> int:
        """Write edges (skipping unknown media/senses); an editor edge is only replaced by an editor edge."""
        rows = []
        for e in evidence:
            if e.source not in EVIDENCE_SOURCES:
                raise ValidationError(f"evidence {e.media_id}->{e.sense_id}: source {e.source!r} not in {EVIDENCE_SOURCES}")
            c = float(e.confidence)
            if not np.isfinite(c) or c < 0:
                raise ValidationError(f"evidence {e.media_id}->{e.sense_id}: confidence {e.confidence!r} must be >= 0")
            rows.append({"media_id": _need(e.media_id, "media_id"), "sense_id": _need(e.sense_id, "sense_id"),
                         "confidence": c, "source": e.source, "detached": int(bool(e.detached)),
                         "mention": e.mention})
        with self._write() as (conn, _):
            before = conn.total_changes
            conn.executemany(q.UPSERT_EVIDENCE, rows)
            return conn.total_changes - before

    def delete_evidence(self, pairs: Iterable[tuple[str, str]]) -> int:
        rows = [(m, s) for m, s in pairs]
        with self._write() as (conn, _):
            before = conn.total_changes
            conn.executemany(q.DELETE_EVIDENCE, rows)
            return conn.total_changes - before

    # -- reads -------------------------------------------------------------------------------------
    def get_senses(self, sense_ids: Sequence[str]) -> dict[str, Sense]:
        out: dict[str, Sense] = {}
        ids = list(dict.fromkeys(sense_ids))
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for row in self._read(q.SENSE_COLUMNS + f" WHERE s.sense_id IN ({marks})", chunk):
                out[row[0]] = _sense(row)
        return out

    def get_entities(self, entity_ids: Sequence[str]) -> dict[str, Entity]:
        out: dict[str, Entity] = {}
        ids = list(dict.fromkeys(entity_ids))
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for eid, name in self._read(q.ENTITY_COLUMNS + f" WHERE id IN ({marks})", chunk):
                out[eid] = Entity(eid, name)
        return out

    def has_sense_of(self, sense_ids: Sequence[str]) -> list[HasSense]:
        out: list[HasSense] = []
        ids = list(dict.fromkeys(sense_ids))
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            sql = q.HAS_SENSE_COLUMNS + f" WHERE sense_id IN ({marks}) ORDER BY sense_id, entity_id"
            out.extend(HasSense(e, s, int(r)) for e, s, r in self._read(sql, chunk))
        return out

    def entity_links(self, entity_ids: Sequence[str]) -> list[HasSense]:
        ids = list(dict.fromkeys(entity_ids))
        rows = [r for i in range(0, len(ids), 500) for r in self._read(
            q.HAS_SENSE_COLUMNS + f" WHERE entity_id IN ({','.join('?' * len(ids[i:i + 500]))})", ids[i:i + 500])]
        return [HasSense(e, s, int(r)) for e, s, r in rows]

    def resolve(self, sense_id: str) -> str:
        """Follow merge redirects to the live sense (NotFound for an unknown id)."""
        seen = [sense_id]
        current = sense_id
        while True:
            rows = self._read(q.REDIRECT_OF, (current,))
            if not rows:
                raise NotFound(f"sense {current!r} does not exist")
            nxt = rows[0][0]
            if nxt is None:
                return current
            if nxt in seen:
                raise StoreError(f"redirect cycle among senses {seen + [nxt]}")
            seen.append(nxt)
            current = nxt

    def find_senses(self, query: str, limit: int = 20, *, with_media: bool = False) -> list[Sense]:
        """The best ``limit`` senses by id, label or alias: exact, then prefix, then substring (``sense_finder``)."""
        return sense_finder.find(self, query, limit, with_media=with_media).senses

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
        for sid in dict.fromkeys(sense_ids):
            for sql in (q.NEIGHBOURS_OUT, q.NEIGHBOURS_IN):
                for s, t, ty, w in self._read(sql, (sid,)):
                    out[(s, t, ty)] = Relation(s, t, ty, float(w))
        return list(out.values())

    def evidence(self, *, sense_id: str | None = None, media_id: str | None = None) -> list[Evidence]:
        """Edges of a sense and/or a medium, detached ones included (consumers filter)."""
        clauses, params = [], []
        if sense_id is not None:
            clauses.append("sense_id = ?")
            params.append(sense_id)
        if media_id is not None:
            clauses.append("media_id = ?")
            params.append(media_id)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        rows = self._read(q.EVIDENCE_COLUMNS + where + " ORDER BY sense_id, media_id", params)
        return [_evidence(r) for r in rows]

    def get_media(self, media_ids: Sequence[str], *, vectors: bool = True) -> dict[str, Media]:
        base = q.MEDIA_COLUMNS if vectors else q.MEDIA_COLUMNS_NOVEC
        out: dict[str, Media] = {}
        ids = list(dict.fromkeys(media_ids))
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for row in self._read(base + f" WHERE media_id IN ({marks})", chunk):
                out[row[1]] = _media(row)
        return out

    def media_vectors(self, media_ids: Sequence[str], space: str = "joint") -> tuple[list[str], np.ndarray]:
        """Rows of the in-memory vector table (no SQLite read, no record decoding)."""
        if space not in SPACES:
            raise ValidationError(f"space must be one of {sorted(SPACES)}, got {space!r}")
        with self._lock:
            table = self._media_table(space)[0]
            if table is None:
                return [], np.empty((0, 0), dtype=np.float32)
            found = [(m, row) for m in dict.fromkeys(media_ids) if (row := table.index.get(m)) is not None]
            return [m for m, _ in found], table.matrix[[row for _, row in found]]

    def media_by_sha256(self, sha256: str) -> Media | None:
        if not sha256:
            return None
        rows = self._read(q.MEDIA_COLUMNS + " WHERE sha256 = ? ORDER BY id LIMIT 1", (sha256,))
        return _media(rows[0]) if rows else None

    def iter_senses(self, batch_size: int = 5000) -> Iterator[list[Sense]]:
        last = ""
        while True:
            rows = self._read(q.SENSES_PAGE, (last, max(1, batch_size)))
            if not rows:
                return
            yield [_sense(r) for r in rows]
            last = rows[-1][0]

    def iter_relations(self, batch_size: int = 5000) -> Iterator[list[Relation]]:
        last = ("", "", "")
        while True:
            rows = self._read(q.RELATIONS_PAGE, (*last, max(1, batch_size)))
            if not rows:
                return
            yield [Relation(s, t, ty, float(w)) for s, t, ty, w in rows]
            last = rows[-1][:3]

    def iter_media(self, batch_size: int = 1000, *, vectors: bool = True) -> Iterator[list[Media]]:
        base = q.MEDIA_COLUMNS if vectors else q.MEDIA_COLUMNS_NOVEC
        last = 0
        while True:
            rows = self._read(base + q.MEDIA_PAGE_TAIL, (last, max(1, batch_size)))
            if not rows:
                return
            yield [_media(r) for r in rows]
            last = rows[-1][0]

    def counts(self) -> dict[str, int]:
        keys = ("entities", "aliases", "senses", "relations", "media", "evidence",
                "prototypes_media", "prototypes_curated", "prototypes_propagated", "evidence_gated")
        return dict(zip(keys, (int(x) for x in self._read(q.COUNTS)[0])))

    def sense_graph(self):  # -> networkx.DiGraph
        """Senses as nodes (label, redirect_to) and RELATED edges (type, weight), for graph algorithms.

        Between one ordered pair of senses a DiGraph holds one edge: the heaviest relation wins.
        """
        import networkx as nx

        g = nx.DiGraph()
        g.add_nodes_from((sid, {"label": label, "redirect_to": redirect}) for sid, label, redirect in self._read(q.SENSE_NODES))
        best: dict[tuple[str, str], tuple[str, float]] = {}
        for source, target, rtype, weight in self._read(q.RELATION_EDGES):
            old = best.get((source, target))
            if old is None or weight > old[1]:
                best[(source, target)] = (rtype, float(weight))
        g.add_edges_from((s, t, {"type": ty, "weight": w}) for (s, t), (ty, w) in best.items())
        return g

    # -- prototypes --------------------------------------------------------------------------------
    def set_prototypes(self, prototypes: Iterable[Prototype]) -> int:
        """Write own (media/curated) or propagated prototypes; media never overwrites curated."""
        joint, native = self._dims or (None, None)
        rows = []
        for p in prototypes:
            _need(p.sense_id, "prototype sense_id")
            if p.source not in PROTOTYPE_SOURCES:
                raise ValidationError(f"prototype {p.sense_id!r}: source {p.source!r} not in {PROTOTYPE_SOURCES}")
            rows.append({
                "sense_id": p.sense_id, "slot": "propagated" if p.source == "propagated" else "own",
                "vector": _blob(p.vector, native, f"prototype {p.sense_id!r} vector"),
                "source": p.source, "media_count": int(p.media_count), "strategy": p.strategy,
                "confidence": float(p.confidence),
                "joint": _blob(p.joint, joint, f"prototype {p.sense_id!r} joint vector"),
                "weight": float(p.weight), "norm": float(p.norm),
            })
            if rows[-1]["vector"] is None:
                raise ValidationError(f"prototype {p.sense_id!r} has no vector")
        with self._write() as (conn, _):
            before = conn.total_changes
            conn.executemany(q.UPSERT_PROTOTYPE, rows)
            written = conn.total_changes - before
            if written:
                conn.execute(q.BUMP_PROTO)
            return written

    def clear_prototype(self, sense_id: str, *, propagated: bool = False) -> None:
        with self._write() as (conn, _):
            conn.execute(q.CLEAR_PROTOTYPE, (sense_id, "propagated" if propagated else "own"))
            conn.execute(q.BUMP_PROTO)

    def get_prototypes(self, sense_ids: Sequence[str], *, propagated: bool = False) -> dict[str, Prototype]:
        slot = "propagated" if propagated else "own"
        out: dict[str, Prototype] = {}
        ids = list(dict.fromkeys(sense_ids))
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for row in self._read(q.PROTOTYPE_COLUMNS + f" AND sense_id IN ({marks})", [slot, *chunk]):
                out[row[0]] = _prototype(row)
        return out

    def sense_prototypes(self, sense_ids: Sequence[str]) -> dict[str, SensePrototypes]:
        """Each id's live sense with both its prototypes (in-process reads: no round trip to save)."""
        resolved = {sid: self.resolve(sid) for sid in dict.fromkeys(sense_ids)}
        own = self.get_prototypes(list(resolved.values()))
        prop = self.get_prototypes(list(resolved.values()), propagated=True)
        return {sid: SensePrototypes(live, own.get(live), prop.get(live)) for sid, live in resolved.items()}

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
        for rows in self._read_chunks(q.MEDIA_CHANGED.format(column=SPACES[space]), (since,)):
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

    def search_media(
        self, vector: np.ndarray, k: int, *, space: str = "joint", filters: MediaFilter | None = None
    ) -> list[tuple[str, float]]:
        """Cosine top-k media in ``space``; filters apply inside the search, so k come back when k match."""
        if space not in SPACES:
            raise ValidationError(f"space must be one of {sorted(SPACES)}, got {space!r}")
        if int(k) <= 0:
            raise ValidationError(f"k must be a positive integer, got {k!r}")
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

    def search_match(
        self, joint: np.ndarray | None, native: np.ndarray | None, k: int, *, filters: MediaFilter | None = None
    ) -> list[tuple[str, float]]:
        """Top-k media by ``joint·ê + native·f̂`` over every medium (exact below ``ann_threshold``,
        one IVF query over the paired [joint | native] rows above it)."""
        if int(k) <= 0:
            raise ValidationError(f"k must be a positive integer, got {k!r}")
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

    def search_prototypes(self, vector: np.ndarray, k: int, *, propagated: bool = False) -> list[tuple[str, float]]:
        """Cosine top-k senses by their own (or propagated) prototype."""
        if int(k) <= 0:
            raise ValidationError(f"k must be a positive integer, got {k!r}")
        with self._lock:
            table = self._proto_table("propagated" if propagated else "own")
            if table is None:
                return []
            return table.search(as_unit(vector, table.dim, "prototype query vector"), k)

    # -- inverse edits (the curator's undo): set_redirect, delete_*, apply_patch from PatchOps ----
    def _patch(self, patch: GraphPatch) -> dict[str, int]:
        """Validate, check every named id exists, then delete and put; rows changed per field."""
        p = check_patch(patch)
        need = required_ids(p)
        steps: list[tuple[str, str, list[tuple]]] = [
            ("delete_aliases", q.DELETE_ALIAS, [(a.text, a.lang, a.entity_id) for a in p.delete_aliases]),
            ("delete_has_sense", q.DELETE_HAS_SENSE, list(p.delete_has_sense)),
            ("delete_relations", q.DELETE_RELATION, [(r.source, r.target, r.type) for r in p.delete_relations]),
            ("delete_evidence", q.DELETE_EVIDENCE, list(p.delete_evidence)),
            ("has_sense", q.UPSERT_HAS_SENSE, [(h.entity_id, h.sense_id, int(h.rank)) for h in p.has_sense]),
            ("relations", q.UPSERT_RELATION, [(r.source, r.target, r.type, float(r.weight)) for r in p.relations]),
            ("evidence", q.REPLACE_EDGE, [(e.media_id, e.sense_id, float(e.confidence), e.source, int(bool(e.detached)),
                                          e.mention) for e in p.evidence]),
            ("senses", q.SET_LABEL_GLOSS, [(s.label or "", s.gloss or "", s.sense_id) for s in p.senses]),
            ("redirects", q.SET_REDIRECT, [(t, s) for s, t in p.redirects]),
        ]
        changed: dict[str, int] = {}
        with self._write() as (conn, _):
            for ids, table, what in ((need.entities, "entities", "entity"), (need.senses, "senses", "sense"),
                                     (need.media, "media", "media")):
                self._require(conn, table, ids, what)
            before = conn.total_changes
            for eid in p.delete_entities:
                for sql in (q.DELETE_ALIASES_OF_ENTITY, q.DELETE_HAS_SENSE_OF_ENTITY, q.DELETE_ENTITY):
                    conn.execute(sql, (eid,))
            changed["delete_entities"] = conn.total_changes - before
            for name, sql, rows in steps:
                before = conn.total_changes
                conn.executemany(sql, rows)
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
    def add_audit(self, entry: AuditEntry) -> None:
        _need(entry.audit_id, "audit_id")
        with self._write() as (conn, _):
            conn.execute(q.INSERT_AUDIT, (
                entry.audit_id, entry.user, entry.at, entry.action, json.dumps(list(entry.sense_ids)),
                entry.before, entry.after, int(entry.undone),
            ))
            conn.executemany(q.INSERT_AUDIT_SENSE, [(entry.audit_id, s) for s in entry.sense_ids])

    def audit_log(self, sense_id: str | None = None, limit: int = 100) -> list[AuditEntry]:
        """Newest first, optionally only the edits touching ``sense_id``."""
        if sense_id is None:
            rows = self._read(q.AUDIT_ALL, (max(0, limit),))
        else:
            rows = self._read(q.AUDIT_FOR_SENSE, (sense_id, max(0, limit)))
        return [_audit(r) for r in rows]

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
