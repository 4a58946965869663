"""``Neo4jStore``: the ``GraphStore`` contract on a real Neo4j (5.26 or later) over Bolt.

Writes are ``UNWIND`` batches of ``MERGE`` in managed transactions (the driver retries transient
errors such as deadlocks); curator edits are one transaction function each, which checks every id
before it writes. Vector search uses cosine vector indexes created by ``bind_encoder``; the match
formula (``search_match``) is one query of the paired ``[ê | f̂ | pad]`` index, whose constant row
norm makes cosine rank by the formula's inner product exactly (``cypher.py``). Filters apply inside
the search (widening the index query until k results pass) and a sense filter is an exact scan over
that sense's evidence media. All Cypher is in ``cypher.py``; every user string travels as a parameter.
"""
from __future__ import annotations

import copy
import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from typing import Any, TypeVar

import numpy as np

from sensegraph.errors import StoreError, ValidationError
from sensegraph.limits import chunks
from sensegraph.registry import register

from . import cypher as q
from . import records as rec
from . import sense_finder
from .core import Slots, StoreCore
from .model import AliasEntry, Media, MediaFilter
from .vector_index import as_unit, match_query

T = TypeVar("T")
BATCH = 5000  # rows per UNWIND for knowledge-graph writes
MEDIA_BATCH = 500  # media rows carry two vectors each; vector-index inserts slow big transactions down
INDEXES = {"joint": ("sg_media_embedding", 0), "native": ("sg_media_features", 1)}  # vector index, dims slot
PUT = {"entities": (q.UPSERT_ENTITIES, None), "aliases": (q.UPSERT_ALIASES, None), "senses": (q.UPSERT_SENSES, None),
       "has_sense": (q.UPSERT_HAS_SENSE, None), "relations": (q.UPSERT_RELATIONS, None),
       "evidence": (q.UPSERT_EVIDENCE, "written"), "delete_evidence": (q.DELETE_EVIDENCE, "deleted"),
       "clear_own": (q.CLEAR_OWN_PROTOTYPE, None), "clear_propagated": (q.CLEAR_PROPAGATED_PROTOTYPE, None),
       "mark_undone": (q.MARK_UNDONE, "marked"), **{f"patch_{k}": (v, 0) for k, v in q.PATCH.items()}}  # query, count field
PAIRED_INDEX = "sg_media_paired"
PAIRED_META = "media_paired"  # "1" once every medium with a vector has its paired row
VECTOR_PROPERTY = {"joint": "embedding", "native": "features"}
INDEX_WAIT_S = 300
OVERFETCH = 4  # index candidates per result wanted, re-scored exactly
MIN_FETCH = 100
# The paired index's beam per formula candidate wanted. Lucene searches every index segment with that
# beam, so recall falls as segments merge: at 100k media, K' = 100 gave rec@10 0.975 on the settled
# (5-segment) index and 1.000 while 200 unmerged segments were searched; 2 gave 1.000 / 0.995 there
# but 0.978 on a second corpus, 3 gave 1.000 on both corpora and both query sets (docs/benchmarks.md,
# run X). ``search.neo4j_overfetch`` sets it per store.
PAIRED_OVERFETCH = 3.0
READ_AHEAD_S = 1.0  # how long a search's read of its hits answers the next reads of those ids
ALIAS_PAGE = 50_000  # aliases per alias-table query
START_HINT = "start one with `sensegraph neo4j start` (no Docker) or `docker compose up -d`"


def _lists(row: dict[str, Any], *fields: str) -> dict[str, Any]:
    """The row with its vector fields as lists of floats (what Bolt carries)."""
    return {**row, **{f: None if row[f] is None else row[f].tolist() for f in fields}}


def _cos(score: float) -> float:
    """Neo4j reports cosine similarity as (1 + cos) / 2; return cos."""
    return 2.0 * float(score) - 1.0


class _Rows(list):  # type: ignore[type-arg]
    """A parameter list with a short ``repr``: the driver formats every RUN message's parameters
    for a debug log line even when debug logging is off, which cost ~40% of a media upsert."""

    def __repr__(self) -> str:
        return f"<{len(self)} rows>"


def _sequential(rows: list[dict[str, Any]], replaces: Callable[[dict[str, Any], dict[str, Any]], bool],
                key: tuple[str, ...] = ("sense_id",)) -> list[dict[str, Any]]:
    """Collapse rows with the same key as if written one after another (one UNWIND sees the
    stored state only), keeping a later row only when ``replaces(earlier, later)``."""
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        k = tuple(row[f] for f in key)
        if k not in out or replaces(out[k], row):
            out[k] = row
    return list(out.values())


def _slot(r: Any) -> tuple[str | None, Any, Any]:
    """A sense's (redirect, own, propagated) from a row of ``cypher._SENSE_SLOTS``."""
    return (r["redirect_to"], r["own"] and rec.prototype_of(r["own"]), r["propagated"] and rec.prototype_of(r["propagated"]))


def _holds_none(slot: tuple[str | None, Any, Any] | None) -> bool:
    """Whether a sense read holds no prototype in either slot (the senses ``search_context`` expands)."""
    return slot is not None and slot[1] is None and slot[2] is None


def _alias_key(text: str, lang: str) -> str:
    return f"{lang}\x1f{text}"


class ReadAhead:
    """Media records one thread just read, kept for its next reads of the same ids: a search reads
    its hits' joint vectors, native vectors and records one after another, and each read is a Bolt
    round trip. Kept at most ``READ_AHEAD_S`` and dropped by any write through the store, so what it
    answers is never older than that read, and another process's write is seen within that time."""

    def __init__(self) -> None:
        self._local = threading.local()

    def keep(self, ids: Sequence[str], records: dict[str, Media]) -> None:
        self._local.kept = (tuple(ids), records, time.monotonic())

    def taken(self, ids: Sequence[str]) -> dict[str, Media] | None:
        """The records kept for exactly these ids (or a subset of them), if still fresh."""
        kept = getattr(self._local, "kept", None)
        if kept is None or time.monotonic() - kept[2] > READ_AHEAD_S or not set(ids) <= set(kept[0]):
            return None
        return kept[1]

    def drop(self) -> None:
        self._local = threading.local()  # every thread's records: a write may have changed them


class Neo4jStore(StoreCore):
    """A ``GraphStore`` on Neo4j 5.26 or later (Community or Enterprise), reached over Bolt."""

    name = "neo4j"
    _tx: Any = None  # the transaction a ``transaction`` view is bound to
    paired_overfetch: float = PAIRED_OVERFETCH  # set by ``configure_vectors``

    def __init__(self, uri: str, *, user: str = "neo4j", password: str = "", database: str | None = None,
                 connection_timeout: float = 10.0) -> None:
        from neo4j import GraphDatabase
        from neo4j.exceptions import AuthError, DriverError, Neo4jError

        self.uri = uri
        self.database = database or None
        auth = (user, password) if password else None
        try:
            self._driver = GraphDatabase.driver(uri, auth=auth, connection_timeout=connection_timeout,
                                                notifications_min_severity="OFF")
        except (ValueError, DriverError) as exc:
            raise StoreError(f"cannot use Neo4j URI {uri!r}: {exc}") from None
        try:
            self._driver.verify_connectivity()
        except AuthError as exc:
            self._driver.close()
            raise StoreError(f"Neo4j at {uri} refused the credentials of user {user!r} "
                             f"(set NEO4J_USERNAME / NEO4J_PASSWORD): {exc.message}") from None
        except (DriverError, Neo4jError, OSError) as exc:
            self._driver.close()
            reason = " ".join(str(exc).split())
            raise StoreError(f"cannot reach Neo4j at {uri}: {reason}; {START_HINT}") from None
        self._read_ahead = ReadAhead()
        self._dims: tuple[int, int] | None = None
        self._indexed = False
        self._paired_ready = False
        self._ensure_schema()
        self._load_dims()

    # -- plumbing ------------------------------------------------------------------------------------
    def _errors(self) -> tuple[type[BaseException], ...]:
        from neo4j.exceptions import DriverError, Neo4jError

        return (DriverError, Neo4jError)

    def transaction(self, work: Callable[[Neo4jStore], T]) -> T:
        """Run ``work(view)`` as ONE managed write transaction: ``view`` is this store bound to it, so
        every read and write through it joins; all commit or none. A transient error re-runs ``work``."""
        if self._tx is not None:
            return work(self)

        def bound(tx: Any) -> T:
            view = copy.copy(self)
            view._tx = tx
            return work(view)

        return self._write_tx(bound)

    def _run(self, query: str, params: dict[str, Any] | None = None, *, write: bool = False) -> list[Any]:
        """One managed auto-retried transaction (or a statement of the bound one, whose driver failures
        ``_write_tx`` retries and then turns into ``StoreError``); driver failures become ``StoreError``."""
        from neo4j import RoutingControl

        if self._tx is not None:  # driver errors stay raw: the transaction's retry must see a deadlock as transient
            return list(self._tx.run(query, params or {}))
        if write:
            self._read_ahead.drop()
        try:
            records, _, _ = self._driver.execute_query(
                query, params or {}, database_=self.database,
                routing_=RoutingControl.WRITE if write else RoutingControl.READ,
            )
        except self._errors() as exc:
            raise StoreError(f"Neo4j at {self.uri} failed: {exc}") from exc
        return records

    def _write_tx(self, work: Callable[[Any], T]) -> T:
        """Run ``work(tx)`` as one write transaction (retried on transient errors)."""
        self._read_ahead.drop()
        if self._tx is not None:
            return work(self._tx)
        try:
            with self._driver.session(database=self.database) as session:
                return session.execute_write(work)
        except self._errors() as exc:
            raise StoreError(f"Neo4j at {self.uri} failed: {exc}") from exc

    def _batched(self, query: str, rows: list[dict[str, Any]], size: int = BATCH, field: str | int | None = None,
                 params: dict[str, Any] | None = None) -> int:
        total = 0
        for chunk in chunks(rows, size):
            records = self._run(query, {**(params or {}), "rows": _Rows(chunk)}, write=True)
            total += int(records[0][field]) if field is not None and records else len(chunk)
        return total

    def _ensure_schema(self) -> None:
        """Create the uniqueness constraints and range indexes that are missing (one read when none are)."""
        present = {r["name"] for r in self._run(q.SHOW_SCHEMA_NAMES)}
        for name in q.CONSTRAINTS:
            if name not in present:
                self._run(q.create_constraint(name), write=True)
        for name in q.RANGE_INDEXES:
            if name not in present:
                self._run(q.create_range_index(name), write=True)

    def _load_dims(self, *more: str) -> dict[str, str]:
        held = super()._load_dims(PAIRED_META, *more)
        self._paired_ready = held.get(PAIRED_META) == "1"
        return held

    def _index_dims(self) -> dict[str, int]:
        """Dimensions of each vector index's space: joint, native and the paired row (both + pad)."""
        assert self._dims is not None
        return {"joint": self._dims[0], "native": self._dims[1], "paired": self._dims[0] + self._dims[1] + 1}

    def _paired_params(self) -> dict[str, Any]:
        joint, native = self._dims or (0, 0)
        return {"paired": self._dims is not None, "joint_dim": joint, "native_dim": native}

    def _upgrade_paired(self) -> int:
        """Write the paired row of every medium lacking one (a store from before paired rows, or media
        written before the encoder was bound), a page per transaction; idempotent. Returns how many."""
        if self._dims is None or self._paired_ready:
            return 0
        total = 0
        while True:
            records = self._run(q.UPGRADE_PAIRED, {**self._paired_params(), "limit": MEDIA_BATCH}, write=True)
            written = int(records[0]["written"]) if records else 0
            total += written
            if written < MEDIA_BATCH:
                break
        self.set_meta(PAIRED_META, "1")
        self._paired_ready = True
        return total

    # -- lifecycle and metadata ------------------------------------------------------------------------
    def close(self) -> None:
        self._driver.close()

    def describe(self) -> str:
        return self.uri + (f" (database {self.database})" if self.database else "")

    @property
    def local_dir(self) -> None:
        return None

    def __repr__(self) -> str:
        return f"Neo4jStore({self.uri!r}, database={self.database!r})"

    def wipe(self) -> None:
        """Delete every node in batches (tests use it); constraints and indexes stay, the binding goes."""
        while int(self._run(q.WIPE_BATCH, {"batch": 10_000}, write=True)[0]["deleted"]) > 0:
            pass
        self._dims = None
        self._indexed = False
        self._paired_ready = False

    def _claim_meta(self, values: dict[str, str]) -> dict[str, str]:
        rows = [{"key": k, "value": v} for k, v in values.items()]
        return {r["key"]: r["value"] for r in self._run(q.CLAIM_META, {"rows": rows}, write=True)}

    def _bound(self) -> None:
        """Create the vector indexes for the bound dims and write missing paired rows."""
        if not self._paired_ready:
            self._paired_ready = self.get_meta(PAIRED_META) == "1"
        if not self._indexed:
            self._ensure_vector_indexes()
        self._upgrade_paired()

    def _ensure_vector_indexes(self) -> None:
        """Create the cosine indexes (replacing leftovers of other dims), upgrade media lacking their
        paired row (so the new index is built over them once), and wait until every index is ONLINE."""
        assert self._dims is not None
        dims = self._index_dims()
        existing = {r["name"]: r["dims"] for r in self._run(q.SHOW_VECTOR_INDEXES)}
        for name, (_, _, space) in q.VECTOR_INDEXES.items():
            if name in existing and int(existing[name]) != dims[space]:
                self._run(q.drop_index(name), write=True)  # left by a wiped store of another encoder
            if name not in existing or int(existing[name]) != dims[space]:
                self._run(q.create_vector_index(name), {"dims": dims[space]}, write=True)
        self._upgrade_paired()
        self._run(q.AWAIT_INDEXES, {"timeout": INDEX_WAIT_S})
        self._indexed = True

    # -- writes (rows validated by graph/core.py) -------------------------------------------------------
    def upsert_media(self, media: Iterable[Media]) -> int:
        if self._dims is None:
            self._load_dims()  # another process may have bound the encoder since this one opened
        return super().upsert_media(media)

    def _put(self, kind: str, rows: list[dict[str, Any]]) -> int:
        """UNWIND batches (one auto-retried transaction each, or statements of the bound one)."""
        if kind in ("meta", "audit"):
            for row in rows:
                self._run(q.SET_META if kind == "meta" else q.ADD_AUDIT, row, write=True)
            return len(rows)
        if kind == "media":  # each medium's paired row is rewritten from its vectors in the same statement
            rows = [_lists(r, "embedding", "features") for r in rows]
            self._refuse_rebinding(rows)
            return self._batched(q.UPSERT_MEDIA, rows, MEDIA_BATCH, params=self._paired_params())
        if kind == "prototypes":
            rows = [_lists(r, "vector", "joint") for r in rows]
            own = _sequential([r for r in rows if r["slot"] == "own"],
                              lambda old, new: not (old["source"] == "curated" and new["source"] == "media"))
            prop = [r for r in rows if r["slot"] == "propagated"]
            return sum(self._batched(query, part, field="written")
                       for query, part in ((q.SET_OWN_PROTOTYPES, own), (q.SET_PROPAGATED_PROTOTYPES, prop)) if part)
        if kind == "evidence":
            rows = _sequential(rows, lambda old, new: old["source"] != "editor" or new["source"] == "editor",
                               key=("media_id", "sense_id"))
        if kind in ("aliases", "patch_delete_aliases"):
            rows = [{**r, "key": _alias_key(r["text"], r["lang"])} for r in rows]
        query, field = PUT[kind]
        return self._batched(query, rows, field=field)

    # -- reads ---------------------------------------------------------------------------------------------
    def _rows(self, read: str, ids: Sequence[str] | None = None, **params: Any) -> list[Any]:
        """The records of ``cypher.READS[read]``; with ``ids``, over them (distinct, in chunks) as ``$ids``."""
        if ids is None:
            return self._run(q.READS[read], params)
        size = MEDIA_BATCH if read == "media" else BATCH
        return [r for chunk in chunks(list(dict.fromkeys(ids)), size) for r in self._run(q.READS[read], {**params, "ids": chunk})]

    def _pages(self, scan: str, size: int, **params: Any) -> Iterator[list[Any]]:
        """Keyset pages of ``cypher.SCANS[scan]``: its query, the key it pages by, and a field only real rows
        carry (relations page by source sense; a sense without relations comes back without a target)."""
        query, key, whole = q.SCANS[scan]
        after = ""
        while records := self._run(query, {**params, "after": after, "limit": size}):
            yield [r for r in records if r[whole] is not None]
            after = records[-1][key]

    def _sense_candidates(self, needle: str, anywhere: bool) -> list[sense_finder.SenseCandidate]:
        return [sense_finder.SenseCandidate(r["sense_id"], r["label"] or "", tuple(sorted(r["aliases"])),
                                            r["redirect_to"], int(r["media_count"]))
                for r in self._run(q.SENSE_CANDIDATES, {"q": needle, "anywhere": bool(anywhere)})]

    def alias_table(self) -> list[AliasEntry]:
        """Every (alias, entity, sense) row with the entity's rank for that sense."""
        out: list[AliasEntry] = []
        after = ""
        while True:
            records = self._run(q.ALIAS_TABLE_PAGE, {"after": after, "limit": ALIAS_PAGE})
            if not records:
                return out
            out.extend(AliasEntry(t, lang, e, s, int(rank)) for t, lang, e, s, rank in records[0]["rows"])
            after = records[0]["last"]

    def get_media(self, media_ids: Sequence[str], *, vectors: bool = True) -> dict[str, Media]:
        ids = list(dict.fromkeys(media_ids))
        ahead = self._read_ahead.taken(ids) if not vectors else None
        if ahead is not None:  # the records a search's media_vectors just read with the vectors
            return {m: replace(ahead[m], embedding=None, features=None) for m in ids if m in ahead}
        return super().get_media(ids, vectors=vectors)

    def _media_vectors(self, ids: list[str], space: str) -> tuple[list[str], np.ndarray]:
        """A search's re-scoring read of its hits: the first call reads both spaces and the records in
        one query and keeps them for this thread's next reads of the same ids (the other space, then
        the records, within ``READ_AHEAD_S``; any write through this store drops them), so a search
        reads its hits in one round trip instead of three."""
        records = self._read_ahead.taken(ids)
        if records is None:
            records = self.get_media(ids)
            self._read_ahead.keep(ids, records)
        prop = VECTOR_PROPERTY[space]
        found = [(m, v) for m in ids if m in records and (v := getattr(records[m], prop)) is not None]
        if not found:
            return [], np.empty((0, 0), dtype=np.float32)
        return [m for m, _ in found], np.stack([as_unit(v, what=f"stored {space} vector of {m!r}") for m, v in found])

    def _sense_slots(self, sense_ids: Sequence[str]) -> Slots:
        """In one query (a search used to pay a round trip per sense to resolve it, then one per slot)."""
        return {r["sense_id"]: _slot(r) for r in self._rows("sense_prototypes", sense_ids)}

    def _context(self, ids: list[str], expand: list[str], hops: int, max_visited: int) -> tuple[Slots, dict[str, dict[str, int]]]:
        """One query (``cypher.SEARCH_CONTEXT``) for the senses, the walk and the relatives' slots, where the
        generic read pays a round trip for each and one per hop (a search used to pay about five)."""
        if len(ids) > BATCH or len(expand) > BATCH:
            return super()._context(ids, expand, hops, max_visited)
        slots: Slots = {}
        near: dict[str, dict[str, int]] = {sid: {} for sid in expand}
        for r in self._run(q.SEARCH_CONTEXT, {"ids": ids, "expand": expand, "hops": hops, "max_visited": max_visited}):
            slots[r["sense_id"]] = _slot(r)
            if r["of"] is not None:
                near[r["of"]][r["sense_id"]] = int(r["distance"])
        return slots, {sid: d for sid, d in near.items() if d or _holds_none(slots.get(sid))}

    # -- vector search -----------------------------------------------------------------------------------
    def configure_vectors(self, *, paired_overfetch: float | None = None) -> None:
        """Ask the paired index for ``max(ceil(paired_overfetch·k), 100)`` nodes per formula query
        (``search.neo4j_overfetch``): more costs time, fewer loses recall on a merged index."""
        if paired_overfetch is not None:
            if isinstance(paired_overfetch, bool) or not isinstance(paired_overfetch, (int, float)) \
                    or not math.isfinite(paired_overfetch) or paired_overfetch < 1:
                raise ValidationError(f"paired_overfetch must be a number >= 1, got {paired_overfetch!r}")
            self.paired_overfetch = float(paired_overfetch)

    def _search_media(self, vector: np.ndarray, k: int, space: str, filters: MediaFilter | None) -> list[tuple[str, float]]:
        """A sense filter scans that sense's media; else the space's vector index, re-ranked exactly."""
        index, slot = INDEXES[space]
        dim = self._dims[slot] if self._dims else None
        query = as_unit(vector, dim, f"{space} query vector").tolist()
        f = filters or MediaFilter()
        params = {"vector": query, "space": space, "k": k, "modality": f.modality,
                  "source": f.evidence_source, "exclude": list(f.exclude_ids), "sense_id": f.sense_id}
        if f.sense_id is not None:
            return self._ranked(self._run(q.SEARCH_MEDIA_OF_SENSE, params), "media_id", k)
        if self._dims is None or not self._indexed and not self._has_vector_indexes():
            return self._ranked(self._run(q.SEARCH_MEDIA_SCAN, params), "media_id", k)
        # HNSW answers ~k best with k as its beam: ask for more and re-rank exactly (recall@10 on
        # random 384-d vectors: 0.54 asking 10, 0.99 asking 100; bench/bench_neo4j.py).
        fetch = max(OVERFETCH * k, MIN_FETCH) + len(f.exclude_ids)
        return self._ranked(self._index_hits(index, query, k, fetch, params), "media_id", k)

    def _index_hits(self, index: str, vector: list[float], k: int, fetch: int, params: dict[str, Any],
                    query: str = q.SEARCH_MEDIA_INDEX) -> list[Any]:
        """(media_id, score) records of one vector-index query whose nodes pass the filter, widening
        the query until k pass or the index is exhausted; only ids and scores travel back (and, with
        ``SEARCH_MATCH_INDEX``, the records asked for)."""
        while True:
            records = self._run(query, {**params, "vector": vector, "index": index, "fetch": fetch})
            raw = int(records[0]["raw"]) if records else 0
            hits = [r for r in records if r["media_id"] is not None]
            if len(hits) >= k or raw < fetch:  # enough passed the filter, or the index is exhausted
                return hits
            fetch *= 2

    def _search_match(self, joint: np.ndarray | None, native: np.ndarray | None, k: int,
                      filters: MediaFilter | None, records: int = 0) -> list[tuple[str, float]]:
        """Top-k by ``joint·ê + native·f̂``: one query of the paired index with ``[joint | native | 0]``.
        Every paired row has norm sqrt(2), so the index's cosine is the formula / (|query|·sqrt(2)) and
        ranks by it exactly; scores come back as that cosine times |query|·sqrt(2) (float32, exact with
        quantisation off). A sense filter, or a store without the index, scores every candidate in Cypher."""
        jd, nd = self._dims or (None, None)
        qj = None if joint is None else match_query(joint, jd if jd is not None else np.asarray(joint).shape[-1], "joint")
        qn = None if native is None else match_query(native, nd if nd is not None else np.asarray(native).shape[-1], "native")
        jn = 0.0 if qj is None else float(np.linalg.norm(qj))
        nn = 0.0 if qn is None else float(np.linalg.norm(qn))
        if jn == 0.0 and nn == 0.0:
            return []
        f = filters or MediaFilter()
        params = {"k": k, "modality": f.modality, "source": f.evidence_source, "exclude": list(f.exclude_ids),
                  "sense_id": f.sense_id, "jn": jn, "nn": nn,
                  "joint": (qj / jn).tolist() if jn else [0.0], "native": (qn / nn).tolist() if nn else [0.0]}
        if f.sense_id is not None:
            return self._ranked(self._run(q.SEARCH_MATCH_OF_SENSE, params), "media_id", k, score=float)
        if self._dims is None or not self._indexed and not self._has_vector_indexes():
            return self._ranked(self._run(q.SEARCH_MATCH_SCAN, params), "media_id", k, score=float)
        self._upgrade_paired()  # a store from before paired rows: once, on its first search
        assert jd is not None and nd is not None
        vector = np.zeros(jd + nd + 1, dtype=np.float32)
        if qj is not None:
            vector[:jd] = qj
        if qn is not None:
            vector[jd : jd + nd] = qn
        fetch = max(math.ceil(self.paired_overfetch * k), MIN_FETCH) + len(f.exclude_ids)
        hits = self._index_hits(PAIRED_INDEX, vector.tolist(), k, fetch, {**params, "records": min(records, k)},
                                q.SEARCH_MATCH_INDEX if records else q.SEARCH_MEDIA_INDEX)  # the latter ranks nothing in Cypher
        if records:  # the best hits' records came with the query: the search's next reads of them are answered here
            read = {r["media_id"]: rec.media_of(r["record"]) for r in hits if r["record"] is not None}
            self._read_ahead.keep(list(read), read)
        scale = math.sqrt(jn * jn + nn * nn) * math.sqrt(2.0)
        return [(m, s * scale) for m, s in self._ranked(hits, "media_id", k)]

    def _search_prototypes(self, vector: np.ndarray, k: int, propagated: bool) -> list[tuple[str, float]]:
        dim = self._dims[1] if self._dims else None
        params = {"vector": as_unit(vector, dim, "prototype query vector").tolist(), "k": int(k),
                  "fetch": max(OVERFETCH * int(k), MIN_FETCH),
                  "propagated": propagated,
                  "index": "sg_sense_propagated" if propagated else "sg_sense_prototype"}
        if self._dims is None or not self._indexed and not self._has_vector_indexes():
            return self._ranked(self._run(q.SEARCH_PROTOTYPES_SCAN, params), "sense_id", int(k))
        return self._ranked(self._run(q.SEARCH_PROTOTYPES_INDEX, params), "sense_id", int(k))

    def _has_vector_indexes(self) -> bool:
        """True when this store's vector indexes exist with the bound dims (another process made them)."""
        if self._dims is None:
            return False
        dims = self._index_dims()
        existing = {r["name"]: r["dims"] for r in self._run(q.SHOW_VECTOR_INDEXES)}
        self._indexed = all(
            name in existing and int(existing[name]) == dims[space]
            for name, (_, _, space) in q.VECTOR_INDEXES.items()
        )
        return self._indexed

    @staticmethod
    def _ranked(records: Iterable[Any], key: str, k: int,
                score: Callable[[float], float] = _cos) -> list[tuple[str, float]]:
        """(id, score) pairs, best first (ties by id), at most ``k``: an index's cosine by default, a
        scan's formula score with ``score=float``."""
        pairs = [(r[key], score(r["score"])) for r in records if r[key] is not None and r["score"] is not None]
        pairs.sort(key=lambda p: (-p[1], p[0]))
        return pairs[:k]


@register("store", "neo4j")
def open_neo4j(uri: str, *, user: str = "neo4j", password: str = "", database: str | None = None,
               **options: Any) -> Neo4jStore:
    """Factory for ``open_store``: ``uri`` is a bolt:// or neo4j:// URI."""
    known = {"connection_timeout"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ValidationError(f"unknown neo4j store option(s) {unknown}; known: {sorted(known)}")
    return Neo4jStore(uri, user=user, password=password, database=database, **options)
