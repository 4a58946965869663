"""The ``GraphStore`` domain layer, written once over a small storage protocol that each store adapts.

``StoreCore`` implements what callers use — validation (``records``), redirects, ranking, the
encoder binding, the curator's edits (``edits``) and their inverses (``patch``) — on top of these
adapter primitives:

* ``_put(kind, rows) -> int``: write validated rows of one kind (``PUT_KINDS``) as one batch;
* ``_claim_meta(values) -> dict``: set the meta keys that are not set yet, return what is held;
* ``_redirects(ids) -> {id: target or None}`` for the senses that exist;
* ``_apply_rows(ids, rows)``: a validated ``GraphPatch`` as rows per field, applied in one transaction
  after checking the ids it names exist;
* ``transaction(work)`` and the typed reads of ``GraphStore``;
* ``_search_media`` / ``_search_match`` / ``_search_prototypes`` with checked arguments.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence


import numpy as np

from sensegraph.errors import EncoderMismatch, NotFound, StoreError, ValidationError

from . import records as rec
from . import sense_finder
from .edits import EditOps
from .model import Alias, AuditEntry, GraphPatch, Entity, Evidence, HasSense, Media, MediaFilter, Prototype, Relation, Sense, SensePrototypes
from .patch import PatchIds, PatchOps, check_patch, required_ids

PATCH_STEPS = ("delete_entities", "delete_aliases", "delete_has_sense", "delete_relations", "delete_evidence",
               "has_sense", "relations", "evidence", "senses", "redirects")  # GraphPatch fields in the order applied
PUT_KINDS = ("meta", "entities", "aliases", "senses", "has_sense", "relations", "evidence", "delete_evidence",
             "media", "prototypes", "audit")
SPACES = ("joint", "native")


class StoreCore(EditOps, PatchOps):
    """Everything of ``GraphStore`` that does not depend on how a store keeps its data."""

    _dims: tuple[int, int] | None = None  # (joint, native) of the bound encoder

    # -- adapter primitives ------------------------------------------------------------------------
    def _put(self, kind: str, rows: list[rec.Row]) -> int:  # pragma: no cover - implemented by adapters
        raise NotImplementedError

    def _claim_meta(self, values: dict[str, str]) -> dict[str, str]:  # pragma: no cover
        raise NotImplementedError

    def _redirects(self, sense_ids: Sequence[str]) -> dict[str, str | None]:  # pragma: no cover
        raise NotImplementedError

    def _apply_rows(self, need: PatchIds, rows: dict[str, list[rec.Row]]) -> dict[str, int]:  # pragma: no cover
        raise NotImplementedError

    def _patch(self, patch: GraphPatch) -> dict[str, int]:
        """Validate, then let the adapter check every named id exists and delete and put (in that
        order, ``PATCH_STEPS``) in one transaction; rows changed per field."""
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
        return self._apply_rows(required_ids(p), rows)

    def _bound(self) -> None:
        """Called after ``bind_encoder`` recorded the encoder (Neo4j creates its vector indexes)."""

    def __enter__(self) -> StoreCore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()  # type: ignore[attr-defined]

    # -- metadata and the encoder binding ----------------------------------------------------------
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
        return self._put("senses", [rec.sense_row(s) for s in senses])

    def upsert_has_sense(self, links: Iterable[HasSense]) -> int:
        return self._put("has_sense", [rec.has_sense_row(h) for h in links])

    def upsert_relations(self, relations: Iterable[Relation]) -> int:
        return self._put("relations", [rec.relation_row(r) for r in relations])

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

    def add_audit(self, entry: AuditEntry) -> None:
        self._put("audit", [rec.audit_row(entry)])

    # -- reads computed from the typed reads -----------------------------------------------------------
    def resolve(self, sense_id: str) -> str:
        """Follow merge redirects to the live sense (``NotFound`` for an unknown id)."""
        seen = [sense_id]
        while True:
            found = self._redirects([seen[-1]])
            if seen[-1] not in found:
                raise NotFound(f"sense {seen[-1]!r} does not exist")
            nxt = found[seen[-1]]
            if nxt is None:
                return seen[-1]
            if nxt in seen:
                raise StoreError(f"redirect cycle among senses {seen + [nxt]}")
            seen.append(nxt)

    def sense_prototypes(self, sense_ids: Sequence[str]) -> dict[str, SensePrototypes]:
        """Each id's live sense with both its prototypes."""
        resolved = {sid: self.resolve(sid) for sid in dict.fromkeys(sense_ids)}
        own = self.get_prototypes(list(resolved.values()))  # type: ignore[attr-defined]
        prop = self.get_prototypes(list(resolved.values()), propagated=True)  # type: ignore[attr-defined]
        return {sid: SensePrototypes(live, own.get(live), prop.get(live)) for sid, live in resolved.items()}

    def find_senses(self, query: str, limit: int = 20, *, with_media: bool = False) -> list[Sense]:
        """The best ``limit`` senses by id, label or alias: exact, then prefix, then substring (``sense_finder``)."""
        return sense_finder.find(self, query, limit, with_media=with_media).senses  # type: ignore[arg-type]

    def sense_graph(self):  # -> networkx.DiGraph
        """Senses as nodes (label, redirect_to) and RELATED edges (type, weight); between one ordered
        pair of senses a DiGraph holds one edge: the heaviest relation wins."""
        import networkx as nx

        g = nx.DiGraph()
        for batch in self.iter_senses():  # type: ignore[attr-defined]
            g.add_nodes_from((s.sense_id, {"label": s.label, "redirect_to": s.redirect_to}) for s in batch)
        for batch in self.iter_relations():  # type: ignore[attr-defined]
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
                     filters: MediaFilter | None = None) -> list[tuple[str, float]]:
        """Top-k media by ``joint·ê + native·f̂`` (see ``GraphStore.search_match``)."""
        return self._search_match(joint, native, rec.positive_k(k), filters)  # type: ignore[attr-defined]

    def search_prototypes(self, vector: np.ndarray, k: int, *, propagated: bool = False) -> list[tuple[str, float]]:
        """Cosine top-k senses by their own (or propagated) prototype."""
        return self._search_prototypes(vector, rec.positive_k(k), propagated)  # type: ignore[attr-defined]

    def media_vectors(self, media_ids: Sequence[str], space: str = "joint") -> tuple[list[str], np.ndarray]:
        """(ids, unit vectors) of those media in ``space``; unknown media or ones without a vector left out."""
        if space not in SPACES:
            raise ValidationError(f"space must be one of {sorted(SPACES)}, got {space!r}")
        return self._media_vectors(list(dict.fromkeys(media_ids)), space)  # type: ignore[attr-defined]
