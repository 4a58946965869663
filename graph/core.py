"""The ``GraphStore`` domain layer, written once over a small storage protocol that each store adapts.

``StoreCore`` implements what callers use — validation (``records``), typed reads built from rows,
paging, redirects, ranking, the encoder binding, the audit log, the curator's edits (``edits``) and
their inverses (``patch``) — on top of these adapter primitives:

* ``_put(kind, rows) -> int``: write validated rows of one kind (``PUT_KINDS``) as one batch;
* ``_rows(read, ids=None, **params)``: the rows (mappings keyed by field name) of one named read
  (``READS``), over ``ids`` in chunks when given;
* ``_pages(scan, size, **params)``: keyset pages of rows of the senses, relations or media;
* ``_claim_meta(values) -> dict``: set the meta keys that are not set yet, return what is held;
* ``_sense_candidates(needle, anywhere)``, ``alias_table()``: the finder's and linker's reads;
* ``transaction(work)``, in which ``_rows`` and ``_put`` join the one transaction;
* the reads ``structure_senses``, ``structure_relations`` and ``own_prototype_ids`` (whole-store id
  columns, no records) for a derived graph that ``structure_revision`` keys;
* ``_search_media`` / ``_search_match`` / ``_search_prototypes`` / ``_media_vectors`` with checked arguments;
* optionally ``_context(ids, expand, hops, max_visited)``: a search's senses and their neighbourhood in
  one read (the generic one here composes ``_sense_slots`` and ``neighbours``; Neo4j's is one query).
"""
from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np

from sensegraph.errors import EncoderMismatch, NotFound, StoreError, ValidationError

from . import records as rec
from . import sense_finder
from .edits import EditOps
from .media_ids import refuse_rebinding
from .model import (Alias, AuditEntry, GraphPatch, Entity, Evidence, HasSense, Media, MediaFilter, Prototype, Relation,
                    SearchContext, Sense, SensePrototypes)
from .patch import PatchOps, check_patch, required_ids

PATCH_STEPS = ("delete_entities", "delete_aliases", "delete_has_sense", "delete_relations", "delete_evidence",
               "has_sense", "relations", "evidence", "senses", "redirects")  # GraphPatch fields in the order applied
PUT_KINDS = ("meta", "entities", "aliases", "senses", "has_sense", "relations", "evidence", "delete_evidence",
             "media", "prototypes", "clear_own", "clear_propagated", "audit", "mark_undone",
             *(f"patch_{step}" for step in PATCH_STEPS))  # the patch kinds return the rows they changed
READS = ("meta", "metas", "redirects", "senses", "entities", "has_sense_of", "entity_links", "media", "sha256s",
         "media_by_sha256", "prototypes_own", "prototypes_propagated", "neighbours", "aliases_of", "counts",
         "evidence_all", "evidence_sense", "evidence_media", "evidence_sense_media", "audit_all", "audit_sense",
         "missing_entities", "missing_senses", "missing_media", "structure_senses", "structure_relations",
         "own_prototype_ids")
REVISION_KEY = "graph.revision"  # meta: the structure revision token (``next_revision``)
STRUCTURE_KINDS = ("senses", "relations")  # writes that change the sense graph's structure
STRUCTURE_PATCH = ("delete_relations", "relations", "senses", "redirects")  # patch steps that do
SPACES = ("joint", "native")
V = TypeVar("V")
Slots = dict[str, tuple[str | None, Prototype | None, Prototype | None]]  # sense -> (redirect, own, propagated)
MAX_CONTEXT_HOPS = 2  # how far ``search_context`` walks (Neo4j reads that far in one query)


def relatives_of(neighbours: Callable[[list[str]], Iterable[Relation]], sense_id: str, hops: int,
                 max_visited: int) -> dict[str, int]:
    """Senses within ``hops`` relations of ``sense_id`` in either direction, with their distance; the
    walk stops after the depth at which more than ``max_visited`` senses were seen (a hub)."""
    seen = {sense_id: 0}
    frontier = [sense_id]
    for depth in range(1, hops + 1):
        if not frontier:
            break
        nxt = []
        for rel in neighbours(frontier):
            for other in (rel.source, rel.target):
                if other not in seen:
                    seen[other] = depth
                    nxt.append(other)
        frontier = nxt
        if len(seen) > max_visited:
            break
    seen.pop(sense_id)
    return seen


def next_revision(token: str | None) -> str:
    """The revision token after ``token``: its counter plus one and a fresh random suffix, so two copies
    of one store that each change their graph never hold the same token for different graphs."""
    head = (token or "").split("-", 1)[0]
    return f"{int(head) + 1 if head.isdigit() else 1}-{secrets.token_hex(6)}"


def live_sense(sense_id: str, redirects: Mapping[str, str | None]) -> str:
    """The end of ``sense_id``'s redirect chain (``NotFound`` for an unknown id, ``StoreError`` on a cycle)."""
    seen = [sense_id]
    while True:
        if seen[-1] not in redirects:
            raise NotFound(f"sense {seen[-1]!r} does not exist")
        nxt = redirects[seen[-1]]
        if nxt is None:
            return seen[-1]
        if nxt in seen:
            raise StoreError(f"redirect cycle among senses {seen + [nxt]}")
        seen.append(nxt)


class StoreCore(EditOps, PatchOps):
    """Everything of ``GraphStore`` that does not depend on how a store keeps its data."""

    _dims: tuple[int, int] | None = None  # (joint, native) of the bound encoder

    # -- adapter primitives ------------------------------------------------------------------------
    def _put(self, kind: str, rows: list[rec.Row]) -> int:  # pragma: no cover - implemented by adapters
        raise NotImplementedError

    def _claim_meta(self, values: dict[str, str]) -> dict[str, str]:  # pragma: no cover
        raise NotImplementedError

    def _rows(self, read: str, ids: Sequence[str] | None = None, **params: Any) -> list[Mapping[str, Any]]:  # pragma: no cover
        raise NotImplementedError

    def _pages(self, scan: str, size: int, **params: Any) -> Iterator[list[Mapping[str, Any]]]:  # pragma: no cover
        raise NotImplementedError

    def _sense_candidates(self, needle: str, anywhere: bool) -> list[sense_finder.SenseCandidate]:  # pragma: no cover
        raise NotImplementedError

    def transaction(self, work: Callable[[Any], V]) -> V:  # pragma: no cover
        raise NotImplementedError

    def _patch(self, patch: GraphPatch) -> dict[str, int]:
        """Validate, then in one transaction check every named id exists and delete and put (in that
        order, ``PATCH_STEPS``); rows changed per field."""
        p = check_patch(patch)
        rows = {
            "delete_entities": [{"id": e} for e in p.delete_entities],
            "delete_aliases": [rec.alias_row(a) for a in p.delete_aliases],
            "delete_has_sense": [{"entity_id": e, "sense_id": s} for e, s in p.delete_has_sense],
            "delete_relations": [rec.relation_row(r) for r in p.delete_relations],
            "delete_evidence": [{"media_id": m, "sense_id": s} for m, s in p.delete_evidence],
            "has_sense": [rec.has_sense_row(h) for h in p.has_sense],
            "relations": [rec.relation_row(r) for r in p.relations],
            "evidence": [rec.evidence_row(e) for e in p.evidence],
            "senses": [rec.sense_row(s) for s in p.senses],
            "redirects": [{"sense_id": s, "target": t} for s, t in p.redirects],
        }
        need = required_ids(p)

        def work(view: StoreCore) -> dict[str, int]:
            for kind, what, ids in (("entities", "entity", need.entities), ("senses", "sense", need.senses),
                                    ("media", "media", need.media)):
                missing = view._rows(f"missing_{kind}", ids)
                if missing:
                    raise NotFound(f"{what} {missing[0]['id']!r} does not exist")
            changed = {name: view._put(f"patch_{name}", rows[name]) for name in PATCH_STEPS}
            if any(changed[name] for name in STRUCTURE_PATCH):
                view._bump_revision()
            return changed

        return self.transaction(work)

    # -- the structure revision: senses and relations ------------------------------------------------
    def _put_structure(self, kind: str, rows: list[rec.Row]) -> int:
        """Write rows of a ``STRUCTURE_KINDS`` kind and bump the revision in the same transaction."""
        if not rows:
            return self._put(kind, rows)

        def work(view: StoreCore) -> int:
            written = view._put(kind, rows)
            view._bump_revision()
            return written

        return self.transaction(work)

    def _bump_revision(self) -> None:
        self._put("meta", [{"key": REVISION_KEY, "value": next_revision(self.get_meta(REVISION_KEY))}])

    def structure_revision(self) -> str:
        """A token that changes with every write to senses or relations (a merge, split or undo too), so
        a structure derived from them can be cached under it; a store without one (older, or wiped) claims one."""
        token = self.get_meta(REVISION_KEY)
        return token if token is not None else self._claim_meta({REVISION_KEY: next_revision(None)})[REVISION_KEY]

    def sense_structure(self) -> tuple[list[str], list[tuple[str, str, str]]]:
        """Every live sense id and every relation as (source, target, type): whole columns, no records.
        Read the revision before this, so a write in between makes the cached result stale, never wrong."""
        live = [r["sense_id"] for r in self._rows("structure_senses") if not r["redirect_to"]]
        return live, [(r["source"], r["target"], r["type"]) for r in self._rows("structure_relations")]

    def own_prototype_ids(self) -> list[str]:
        """The senses that hold an own (media or curated) prototype."""
        return [r["sense_id"] for r in self._rows("own_prototype_ids")]

    def _bound(self) -> None:
        """Called after ``bind_encoder`` recorded the encoder (Neo4j creates its vector indexes)."""

    def __enter__(self) -> StoreCore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()  # type: ignore[attr-defined]

    # -- metadata and the encoder binding ----------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        rows = self._rows("meta", key=key)
        return rows[0]["value"] if rows else None

    def _metas(self, keys: Sequence[str]) -> dict[str, str]:
        return {r["key"]: r["value"] for r in self._rows("metas", keys)}

    def _load_dims(self, *more: str) -> dict[str, str]:
        """Read the bound encoder's dims (None when unbound) and the ``more`` meta keys; returns what is held."""
        held = self._metas(["joint_dim", "native_dim", *more])
        self._dims = (int(held["joint_dim"]), int(held["native_dim"])) if "joint_dim" in held and "native_dim" in held else None
        return held

    def set_meta(self, key: str, value: str) -> None:
        rec.need(key, "meta key")
        if not isinstance(value, str):
            raise ValidationError(f"meta value for {key!r} must be a string, got {type(value).__name__}")
        self._put("meta", [{"key": key, "value": value}])

    def bind_encoder(self, encoder_id: str, joint_dim: int, native_dim: int) -> None:
        """Record the encoder on first use; another encoder (or other dims) raises ``EncoderMismatch``."""
        rec.need(encoder_id, "encoder_id")
        if int(joint_dim) <= 0 or int(native_dim) <= 0:
            raise ValidationError(f"encoder dims must be positive, got joint={joint_dim} native={native_dim}")
        want = {"encoder_id": encoder_id, "joint_dim": str(int(joint_dim)), "native_dim": str(int(native_dim))}
        held = self._claim_meta(want)
        if held != want:
            raise EncoderMismatch(
                f"store at {self.describe()} holds vectors of encoder {held.get('encoder_id')!r} "  # type: ignore[attr-defined]
                f"(joint {held.get('joint_dim')}, native {held.get('native_dim')}), not {encoder_id!r} "
                f"(joint {joint_dim}, native {native_dim}); use a fresh store or re-ingest with the "
                f"recorded encoder {held.get('encoder_id')!r}")
        self._dims = (int(joint_dim), int(native_dim))
        self._bound()

    # -- writes: validated here, written by the adapter ----------------------------------------------
    def upsert_entities(self, entities: Iterable[Entity]) -> int:
        return self._put("entities", [rec.entity_row(e) for e in entities])

    def upsert_aliases(self, aliases: Iterable[Alias]) -> int:
        return self._put("aliases", [rec.alias_row(a) for a in aliases])

    def upsert_senses(self, senses: Iterable[Sense]) -> int:
        """Create or update label and gloss; media_count and prototypes are left alone."""
        return self._put_structure("senses", [rec.sense_row(s) for s in senses])

    def upsert_has_sense(self, links: Iterable[HasSense]) -> int:
        return self._put("has_sense", [rec.has_sense_row(h) for h in links])

    def upsert_relations(self, relations: Iterable[Relation]) -> int:
        return self._put_structure("relations", [rec.relation_row(r) for r in relations])

    def upsert_media(self, media: Iterable[Media]) -> int:
        """Create or update media; a record without vectors keeps the stored ones; an id never takes other bytes."""
        return self._put("media", [rec.media_row(m, self._dims) for m in media])

    def upsert_evidence(self, evidence: Iterable[Evidence]) -> int:
        """Write edges (skipping unknown media/senses); an editor edge is only replaced by an editor edge."""
        return self._put("evidence", [rec.evidence_row(e) for e in evidence])

    def delete_evidence(self, pairs: Iterable[tuple[str, str]]) -> int:
        return self._put("delete_evidence", [{"media_id": m, "sense_id": s} for m, s in pairs])

    def set_prototypes(self, prototypes: Iterable[Prototype]) -> int:
        """Write own (media/curated) or propagated prototypes; media never overwrites curated."""
        return self._put("prototypes", [rec.prototype_row(p, self._dims) for p in prototypes])

    def clear_prototype(self, sense_id: str, *, propagated: bool = False) -> None:
        self._put("clear_propagated" if propagated else "clear_own", [{"sense_id": sense_id}])

    def add_audit(self, entry: AuditEntry) -> None:
        self._put("audit", [rec.audit_row(entry)])

    def mark_undone(self, audit_id: str) -> None:
        if self._put("mark_undone", [{"audit_id": audit_id}]) == 0:
            raise NotFound(f"audit entry {audit_id!r} does not exist")

    def _refuse_rebinding(self, rows: list[rec.Row]) -> None:
        """``ValidationError`` when a media row would give a stored id other bytes (``media_ids``)."""
        held = self._rows("sha256s", [r["media_id"] for r in rows if r["sha256"]])
        refuse_rebinding({r["media_id"]: r["sha256"] for r in held}, rows)

    # -- typed reads, built from the adapter's rows ----------------------------------------------------
    def get_senses(self, sense_ids: Sequence[str]) -> dict[str, Sense]:
        return {r["sense_id"]: rec.sense_of(r) for r in self._rows("senses", sense_ids)}

    def get_entities(self, entity_ids: Sequence[str]) -> dict[str, Entity]:
        return {r["id"]: rec.entity_of(r) for r in self._rows("entities", entity_ids)}

    def has_sense_of(self, sense_ids: Sequence[str]) -> list[HasSense]:
        return sorted(map(rec.link_of, self._rows("has_sense_of", sense_ids)), key=lambda h: (h.sense_id, h.entity_id))

    def entity_links(self, entity_ids: Sequence[str]) -> list[HasSense]:
        return [rec.link_of(r) for r in self._rows("entity_links", entity_ids)]

    def get_media(self, media_ids: Sequence[str], *, vectors: bool = True) -> dict[str, Media]:
        return {r["media_id"]: rec.media_of(r) for r in self._rows("media", media_ids, vectors=vectors)}

    def media_by_sha256(self, sha256: str) -> Media | None:
        rows = self._rows("media_by_sha256", sha256=sha256, vectors=True) if sha256 else []
        return rec.media_of(rows[0]) if rows else None

    def get_prototypes(self, sense_ids: Sequence[str], *, propagated: bool = False) -> dict[str, Prototype]:
        rows = self._rows("prototypes_propagated" if propagated else "prototypes_own", sense_ids)
        return {r["sense_id"]: rec.prototype_of(r) for r in rows}

    def neighbours(self, sense_ids: Sequence[str]) -> list[Relation]:
        """Relations touching any of ``sense_ids``, each once."""
        rows = self._rows("neighbours", sense_ids)
        return list({(r["source"], r["target"], r["type"]): rec.relation_of(r) for r in rows}.values())

    def evidence(self, *, sense_id: str | None = None, media_id: str | None = None) -> list[Evidence]:
        """Edges of a sense and/or a medium, detached ones included (consumers filter)."""
        by = "_".join(n for n, v in (("sense", sense_id), ("media", media_id)) if v is not None) or "all"
        return [rec.evidence_of(r) for r in self._rows(f"evidence_{by}", sense_id=sense_id, media_id=media_id)]

    def aliases_of(self, sense_id: str) -> list[Alias]:
        return list(dict.fromkeys(Alias(r["text"], r["entity_id"], r["lang"]) for r in self._rows("aliases_of", sense_id=sense_id)))

    def sense_candidates(self, needle: str, *, anywhere: bool = True) -> list[sense_finder.SenseCandidate]:
        """Every sense whose id, label or an alias contains ``needle`` (lower-case; with ``anywhere``
        false, starts with it), with those aliases."""
        return self._sense_candidates(needle, anywhere) if needle else []

    def counts(self) -> dict[str, int]:
        return {k: int(v) for k, v in self._rows("counts")[0].items()}

    def audit_log(self, sense_id: str | None = None, limit: int = 100) -> list[AuditEntry]:
        """Newest first, optionally only the edits touching ``sense_id``."""
        rows = self._rows("audit_all" if sense_id is None else "audit_sense", sense_id=sense_id, limit=max(0, int(limit)))
        return [rec.audit_of(r) for r in rows]

    def iter_senses(self, batch_size: int = 5000) -> Iterator[list[Sense]]:
        return self._records("senses", rec.sense_of, batch_size)

    def iter_relations(self, batch_size: int = 5000) -> Iterator[list[Relation]]:
        """Relations in (source, target, type) order."""
        return self._records("relations", rec.relation_of, batch_size)

    def iter_media(self, batch_size: int = 1000, *, vectors: bool = True) -> Iterator[list[Media]]:
        return self._records("media", rec.media_of, batch_size, vectors=vectors)

    def _records(self, scan: str, of: Callable[[Mapping[str, Any]], V], batch_size: int, **params: Any) -> Iterator[list[V]]:
        """The adapter's pages of ``scan`` as records, in batches of ``batch_size``."""
        size, pending = max(1, batch_size), []
        for rows in self._pages(scan, size, **params):
            pending += [of(r) for r in rows]
            while len(pending) >= size:
                yield pending[:size]
                pending = pending[size:]
        if pending:
            yield pending

    # -- redirects -------------------------------------------------------------------------------------
    def _redirects(self, sense_ids: Sequence[str]) -> dict[str, str | None]:
        return {r["sense_id"]: r["redirect_to"] for r in self._rows("redirects", sense_ids)}

    def _sense_slots(self, sense_ids: Sequence[str]) -> Slots:
        """Each existing sense's redirect and, when it is live, its own and propagated prototypes."""
        own, prop = self.get_prototypes(sense_ids), self.get_prototypes(sense_ids, propagated=True)
        return {s: (t, None if t else own.get(s), None if t else prop.get(s)) for s, t in self._redirects(sense_ids).items()}

    @staticmethod
    def _chain(sense_ids: Sequence[str], read: Callable[[list[str]], dict[str, V]],
               target: Callable[[V], str | None]) -> dict[str, V]:
        """``read`` of the ids, then pass by pass of the redirect targets not read yet."""
        found: dict[str, V] = {}
        asked: set[str] = set()
        todo = list(dict.fromkeys(sense_ids))
        while todo:
            asked.update(todo)
            found.update(read(todo))
            todo = list(dict.fromkeys(t for v in found.values() if (t := target(v)) is not None and t not in asked))
        return found

    def resolve(self, sense_id: str) -> str:
        """Follow merge redirects to the live sense (``NotFound`` for an unknown id)."""
        return live_sense(sense_id, self._chain([sense_id], self._redirects, lambda t: t))

    def sense_prototypes(self, sense_ids: Sequence[str]) -> dict[str, SensePrototypes]:
        """Each id's live sense with both its prototypes (one read per redirect hop, ``_sense_slots``)."""
        slots = self._chain(sense_ids, self._sense_slots, lambda v: v[0])
        redirects = {s: v[0] for s, v in slots.items()}
        out = {}
        for sid in dict.fromkeys(sense_ids):
            live = live_sense(sid, redirects)
            out[sid] = SensePrototypes(live, slots[live][1], slots[live][2])
        return out

    def search_context(self, sense_ids: Sequence[str], expand: Sequence[str] = (), *, hops: int = 2,
                       max_visited: int = 5000) -> SearchContext:
        """What a search needs of its senses in one read: ``sense_prototypes`` of ``sense_ids`` and
        ``expand``, and for each id of ``expand`` that holds no prototype itself (a redirected sense holds
        none), the senses within ``hops`` relations (``relatives_of``) with their prototypes too."""
        if isinstance(hops, bool) or not isinstance(hops, int) or not 1 <= hops <= MAX_CONTEXT_HOPS:
            raise ValidationError(f"hops must be an integer from 1 to {MAX_CONTEXT_HOPS}, got {hops!r}")
        if isinstance(max_visited, bool) or not isinstance(max_visited, int) or max_visited < 1:
            raise ValidationError(f"max_visited must be a positive integer, got {max_visited!r}")
        ids = list(dict.fromkeys([*sense_ids, *expand]))
        if not ids:
            return SearchContext({}, {})
        slots, near = self._context(ids, list(dict.fromkeys(expand)), hops, max_visited)
        asked = set(ids) | {r for d in near.values() for r in d}
        while todo := list(dict.fromkeys(t for v in list(slots.values()) if (t := v[0]) is not None and t not in asked)):
            asked.update(todo)  # redirect targets not read yet: one more read per hop (rare)
            slots.update(self._sense_slots(todo))
        redirects = {s: v[0] for s, v in slots.items()}
        senses = {}
        for sid in dict.fromkeys([*ids, *(r for d in near.values() for r in d)]):
            live = live_sense(sid, redirects)
            senses[sid] = SensePrototypes(live, slots[live][1], slots[live][2])
        return SearchContext(senses, near)

    def _context(self, ids: list[str], expand: list[str], hops: int, max_visited: int) -> tuple[Slots, dict[str, dict[str, int]]]:
        """The slots of ``ids`` and of the relatives of each id of ``expand`` holding no prototype, with
        those relatives (generic: a read of the slots, a walk of ``neighbours``, a read of theirs)."""
        slots = self._sense_slots(ids)
        near = {sid: relatives_of(self.neighbours, sid, hops, max_visited)
                for sid in expand if sid in slots and slots[sid][1] is None and slots[sid][2] is None}
        rest = list(dict.fromkeys(r for d in near.values() for r in d if r not in slots))
        if rest:
            slots.update(self._sense_slots(rest))
        return slots, near

    def find_senses(self, query: str, limit: int = 20, *, with_media: bool = False) -> list[Sense]:
        """The best ``limit`` senses by id, label or alias: exact, then prefix, then substring (``sense_finder``)."""
        return sense_finder.find(self, query, limit, with_media=with_media).senses  # type: ignore[arg-type]

    def sense_graph(self):  # -> networkx.DiGraph
        """Senses as nodes (label, redirect_to) and RELATED edges (type, weight); between one ordered
        pair of senses a DiGraph holds one edge: the heaviest relation wins."""
        import networkx as nx

        g = nx.DiGraph()
        for batch in self.iter_senses():
            g.add_nodes_from((s.sense_id, {"label": s.label, "redirect_to": s.redirect_to}) for s in batch)
        for batch in self.iter_relations():
            for r in batch:
                old = g.get_edge_data(r.source, r.target)
                if old is None or r.weight > old["weight"]:
                    g.add_edge(r.source, r.target, type=r.type, weight=r.weight)
        return g

    # -- vector search: arguments checked once ---------------------------------------------------------
    def search_media(self, vector: np.ndarray, k: int, *, space: str = "joint",
                     filters: MediaFilter | None = None) -> list[tuple[str, float]]:
        """Cosine top-k media in ``space``; filters apply inside the search, so k come back when k match."""
        if space not in SPACES:
            raise ValidationError(f"space must be one of {sorted(SPACES)}, got {space!r}")
        return self._search_media(vector, rec.positive_k(k), space, filters)  # type: ignore[attr-defined]

    def search_match(self, joint: np.ndarray | None, native: np.ndarray | None, k: int, *,
                     filters: MediaFilter | None = None, records: int = 0) -> list[tuple[str, float]]:
        """Top-k media by ``joint·ê + native·f̂`` (see ``GraphStore.search_match``)."""
        if isinstance(records, bool) or not isinstance(records, int) or records < 0:
            raise ValidationError(f"records must be an integer >= 0, got {records!r}")
        return self._search_match(joint, native, rec.positive_k(k), filters, records)  # type: ignore[attr-defined]

    def search_prototypes(self, vector: np.ndarray, k: int, *, propagated: bool = False) -> list[tuple[str, float]]:
        """Cosine top-k senses by their own (or propagated) prototype."""
        return self._search_prototypes(vector, rec.positive_k(k), propagated)  # type: ignore[attr-defined]

    def media_vectors(self, media_ids: Sequence[str], space: str = "joint") -> tuple[list[str], np.ndarray]:
        """(ids, unit vectors) of those media in ``space``; unknown media or ones without a vector left out."""
        if space not in SPACES:
            raise ValidationError(f"space must be one of {sorted(SPACES)}, got {space!r}")
        return self._media_vectors(list(dict.fromkeys(media_ids)), space)  # type: ignore[attr-defined]
