"""The ``GraphStore`` seam: what the engine, linker, GNN and editor need from a graph store.

Two implementations follow the same contract (``tests/graph``): ``Neo4jStore`` on a real
Neo4j (5.26 or later) and ``EmbeddedStore`` in-process. Every write is idempotent (a MERGE keyed on the
record's id), so an interrupted batch can be re-run; every edit is one transaction, and
``transaction`` lets a caller (the curator) put its reads, writes, prototype update and audit entry
in that one transaction.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Protocol, TypeVar, runtime_checkable

import numpy as np

from .model import (
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
    SearchContext,
    Sense,
    SensePrototypes,
)
from .sense_finder import SenseCandidate

T = TypeVar("T")


@runtime_checkable
class GraphStore(Protocol):
    """A knowledge graph of entities, senses, media and evidence, with vector search."""

    name: str  # "embedded" | "neo4j"; shown in result metadata

    # -- lifecycle and metadata -------------------------------------------------------------
    def close(self) -> None: ...

    def describe(self) -> str:
        """Where the data lives (a directory or a bolt URI), for messages."""
        ...

    @property
    def local_dir(self) -> Path | None:
        """The store's own directory (caches and checkpoints may live there), None for a server store."""
        ...

    def wipe(self) -> None:
        """Delete everything, the encoder binding included (tests and benchmarks start from empty)."""
        ...

    def transaction(self, work: Callable[[GraphStore], T]) -> T:
        """Run ``work(view)`` as ONE write transaction and return its result: every read and write made
        through ``view`` (this store bound to the transaction) commits together or not at all. ``work``
        may run again after a transient error, so it must act only through ``view``."""
        ...

    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...

    def bind_encoder(self, encoder_id: str, joint_dim: int, native_dim: int) -> None:
        """Record the encoder whose vectors this store holds (and create vector indexes).

        Raises ``EncoderMismatch`` when the store already holds another encoder's vectors.
        """
        ...

    # -- knowledge graph upserts (idempotent, batched) ----------------------------------------
    def upsert_entities(self, entities: Iterable[Entity]) -> int: ...

    def upsert_aliases(self, aliases: Iterable[Alias]) -> int: ...

    def upsert_senses(self, senses: Iterable[Sense]) -> int:
        """Create or update label and gloss; media_count and prototypes are left alone."""
        ...

    def upsert_has_sense(self, links: Iterable[HasSense]) -> int: ...

    def upsert_relations(self, relations: Iterable[Relation]) -> int: ...

    # -- media and evidence ----------------------------------------------------------------------
    def upsert_media(self, media: Iterable[Media]) -> int: ...

    def upsert_evidence(self, evidence: Iterable[Evidence]) -> int:
        """Write evidence edges; an existing editor edge is never replaced by a linker/classifier one."""
        ...

    def delete_evidence(self, pairs: Iterable[tuple[str, str]]) -> int: ...

    # -- reads -----------------------------------------------------------------------------------
    def get_senses(self, sense_ids: Sequence[str]) -> dict[str, Sense]: ...

    def get_entities(self, entity_ids: Sequence[str]) -> dict[str, Entity]:
        """The entities of ``entity_ids`` that exist, by id."""
        ...

    def has_sense_of(self, sense_ids: Sequence[str]) -> list[HasSense]:
        """The HAS_SENSE links (entity, sense, rank) into ``sense_ids``."""
        ...

    def entity_links(self, entity_ids: Sequence[str]) -> list[HasSense]:
        """The HAS_SENSE links (entity, sense, rank) out of ``entity_ids`` (a split ranks after them)."""
        ...

    def resolve(self, sense_id: str) -> str:
        """Follow merge redirects to the live sense id (``sense_id`` itself when not redirected)."""
        ...

    def find_senses(self, query: str, limit: int = 20, *, with_media: bool = False) -> list[Sense]:
        """Senses whose id, label or alias contains ``query`` (case-insensitive), ranked by
        ``sense_finder.rank_candidates``: exact name, then prefix, then substring."""
        ...

    def sense_candidates(self, needle: str, *, anywhere: bool = True) -> list[SenseCandidate]:
        """Every sense whose id, label or an alias contains ``needle`` (already lower-case) — with
        ``anywhere`` false, starts with it — and the aliases that do; unranked (``sense_finder`` ranks
        them, the same for every store)."""
        ...

    def aliases_of(self, sense_id: str) -> list[Alias]: ...

    def alias_table(self) -> list[AliasEntry]:
        """Every (alias, sense) pair with the sense's rank for that entity; the linker's lexicon."""
        ...

    def neighbours(self, sense_ids: Sequence[str]) -> list[Relation]:
        """Relations touching any of ``sense_ids``, in either direction."""
        ...

    def evidence(
        self, *, sense_id: str | None = None, media_id: str | None = None
    ) -> list[Evidence]: ...

    def get_media(self, media_ids: Sequence[str], *, vectors: bool = True) -> dict[str, Media]: ...

    def media_vectors(self, media_ids: Sequence[str], space: str = "joint") -> tuple[list[str], np.ndarray]:
        """(ids, unit vectors stacked in that order) of those media in ``space``; media unknown or
        without a vector there are left out. The engine re-scores candidates with these alone."""
        ...

    def media_by_sha256(self, sha256: str) -> Media | None: ...

    def iter_senses(self, batch_size: int = 5000) -> Iterator[list[Sense]]: ...

    def iter_relations(self, batch_size: int = 5000) -> Iterator[list[Relation]]: ...

    def structure_revision(self) -> str:
        """A token that changes with every write to senses or relations (merges, splits, undo included):
        a structure derived from them is cached under it."""
        ...

    def sense_structure(self) -> tuple[list[str], list[tuple[str, str, str]]]:
        """Every live sense id and every relation as (source, target, type), as plain columns."""
        ...

    def own_prototype_ids(self) -> list[str]:
        """The senses that hold an own (media or curated) prototype."""
        ...

    def iter_media(self, batch_size: int = 1000, *, vectors: bool = True) -> Iterator[list[Media]]: ...

    def counts(self) -> dict[str, int]:
        """entities, aliases, senses, relations, media, evidence, prototypes_<source>, and evidence_gated
        (links the ingest gate wrote as weak evidence that no curator has detached)."""
        ...

    # -- prototypes ------------------------------------------------------------------------------
    def set_prototypes(self, prototypes: Iterable[Prototype]) -> int:
        """Write prototypes; ``propagated`` ones go to their own slot and never touch the others.

        A ``media`` prototype never overwrites a ``curated`` one; use ``clear_prototype`` first.
        """
        ...

    def clear_prototype(self, sense_id: str, *, propagated: bool = False) -> None: ...

    def get_prototypes(
        self, sense_ids: Sequence[str], *, propagated: bool = False
    ) -> dict[str, Prototype]: ...

    def sense_prototypes(self, sense_ids: Sequence[str]) -> dict[str, SensePrototypes]:
        """For each id, the sense it resolves to with its own and propagated prototypes, in one read
        (what a search needs per linked sense); ``NotFound`` for an unknown id, as ``resolve``."""
        ...

    def search_context(
        self, sense_ids: Sequence[str], expand: Sequence[str] = (), *, hops: int = 2, max_visited: int = 5000
    ) -> SearchContext:
        """All a search reads about its senses, in one read where the store can: ``sense_prototypes`` of
        ``sense_ids`` and ``expand``, and for each id of ``expand`` holding no prototype itself (neither
        slot; a redirected sense holds none) the senses within ``hops`` (1 or 2) relations in either
        direction with their distance, the walk stopping after a depth that saw more than ``max_visited``,
        each with its ``SensePrototypes``. ``NotFound`` for an unknown id."""
        ...

    # -- vector search (filters applied inside the search) ---------------------------------------
    def search_media(
        self,
        vector: np.ndarray,
        k: int,
        *,
        space: str = "joint",
        filters: MediaFilter | None = None,
    ) -> list[tuple[str, float]]:
        """Top-k media by cosine in ``space`` ("joint" embeddings or "native" features)."""
        ...

    def search_match(
        self,
        joint: np.ndarray | None,
        native: np.ndarray | None,
        k: int,
        *,
        filters: MediaFilter | None = None,
        records: int = 0,
    ) -> list[tuple[str, float]]:
        """Top-k media by ``joint·ê + native·f̂`` (ê, f̂ a medium's unit embedding and features; a part
        it lacks counts 0). The query parts are not normalised: they carry the match formula's
        weights, so this ranks media by the formula itself (see ``sensegraph.search``). ``records``: a
        hint that the caller reads the best that many hits next (``media_vectors``, ``get_media``); a
        server store reads them with the query, so those reads cost no round trip. The answer is the same."""
        ...

    def search_prototypes(
        self, vector: np.ndarray, k: int, *, propagated: bool = False
    ) -> list[tuple[str, float]]: ...

    # -- curator edits, each one transaction ------------------------------------------------------
    def move_evidence(self, media_ids: Sequence[str], from_sense: str, to_sense: str) -> int:
        """Detach the media from ``from_sense`` and pin them to ``to_sense`` (editor evidence)."""
        ...

    def split_sense(self, sense_id: str, media_ids: Sequence[str], new_sense: Sense) -> Sense:
        """Create ``new_sense`` (under the same entities) and move the media's evidence to it."""
        ...

    def merge_senses(self, keep: str, drop: str) -> Sense:
        """Carry ``drop``'s entities, evidence and relations over to ``keep``; ``drop`` redirects."""
        ...

    # -- inverse edits (the curator's undo), each one transaction, idempotent -----------------------
    # Unknown entity/sense ids raise NotFound naming the id before anything is written; an edge or
    # alias that is already gone is a no-op.
    def set_redirect(self, sense_id: str, target: str | None) -> None:
        """Point ``sense_id`` at ``target`` (a merge's redirect) or clear it with ``None``."""
        ...

    def delete_has_sense(self, pairs: Iterable[tuple[str, str]]) -> int:
        """Remove (entity_id, sense_id) HAS_SENSE links; returns how many were removed."""
        ...

    def delete_relations(self, relations: Iterable[Relation]) -> int:
        """Remove relations keyed by (source, target, type) (the weight is ignored)."""
        ...

    def delete_aliases(self, aliases: Iterable[Alias]) -> int:
        """Stop ``alias.text`` (in ``alias.lang``) naming ``alias.entity_id``."""
        ...

    def apply_patch(self, patch: GraphPatch) -> None:
        """Put the keys of ``patch`` in the given state, all in ONE transaction (see ``GraphPatch``)."""
        ...

    def add_audit(self, entry: AuditEntry) -> None: ...

    def audit_log(self, sense_id: str | None = None, limit: int = 100) -> list[AuditEntry]: ...

    def mark_undone(self, audit_id: str) -> None: ...
