"""The records every store reads and writes: entities, aliases, senses, relations, media, evidence.

Plain frozen dataclasses (cheap to build by the hundred thousand during a WordNet import); vectors
are float32 numpy arrays. The graph model they mirror is in the README ("Graph model").
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

EvidenceSource = Literal["linker", "classifier", "editor", "gated"]
PrototypeSource = Literal["media", "curated", "propagated"]
Space = Literal["joint", "native"]

EVIDENCE_SOURCES: tuple[str, ...] = ("linker", "classifier", "editor", "gated")
PROTOTYPE_SOURCES: tuple[str, ...] = ("media", "curated", "propagated")
MODALITIES: tuple[str, ...] = ("image", "video", "audio", "text")


@dataclass(frozen=True)
class Entity:
    """A surface concept ("crane") that one or more senses belong to."""

    id: str
    name: str


@dataclass(frozen=True)
class Alias:
    """A name of an entity, as matched in text."""

    text: str
    entity_id: str
    lang: str = "en"


@dataclass(frozen=True)
class HasSense:
    """``(:Entity)-[:HAS_SENSE {rank}]->(:Sense)``; rank 1 is the entity's most frequent sense."""

    entity_id: str
    sense_id: str
    rank: int = 1


@dataclass(frozen=True)
class Sense:
    """A sense in the inventory (a WordNet synset, a Wikidata item, a minted id)."""

    sense_id: str
    label: str
    gloss: str = ""
    media_count: int = 0
    prototype_source: str | None = None
    redirect_to: str | None = None


@dataclass(frozen=True)
class Relation:
    """``(:Sense)-[:RELATED {type, weight}]->(:Sense)``."""

    source: str
    target: str
    type: str
    weight: float = 1.0


@dataclass(frozen=True, eq=False)
class Media:
    """A medium with its joint-space embedding and native-space features (both unit-norm)."""

    media_id: str
    uri: str
    modality: str = "image"
    sha256: str = ""
    embedding: np.ndarray | None = None
    features: np.ndarray | None = None
    caption: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Evidence:
    """``(:Media)-[:EVIDENCE {confidence, source, detached}]->(:Sense)``, one edge per pair.

    ``source="editor"`` marks a curator's decision: pinned (counts whatever the linker says) or,
    with ``detached=True``, removed (never counts, and a re-ingest does not bring it back).
    """

    media_id: str
    sense_id: str
    confidence: float
    source: str = "linker"
    detached: bool = False
    mention: str | None = None


@dataclass(frozen=True, eq=False)
class Prototype:
    """A sense's representation in the native media space, with provenance.

    ``source`` is ``media`` (built from evidence), ``curated`` (set by an editor) or
    ``propagated`` (predicted by the GNN; stored apart and never overwriting the other two).
    """

    sense_id: str
    vector: np.ndarray
    source: str = "media"
    media_count: int = 0
    strategy: str = "mean"
    confidence: float = 1.0
    joint: np.ndarray | None = None
    weight: float = 0.0  # total evidence weight behind a media prototype (running-mean state)
    norm: float = 1.0  # length of the weighted mean before normalising (running-mean state)


@dataclass(frozen=True, eq=False)
class SensePrototypes:
    """A sense id as a search links it: the live sense it resolves to, with that sense's own and
    propagated prototypes (``None`` where it has none), read together."""

    sense_id: str  # after following merge redirects
    own: Prototype | None = None
    propagated: Prototype | None = None


@dataclass(frozen=True, eq=False)
class SearchContext:
    """What a search reads about the senses it links, in one read (``GraphStore.search_context``):
    each id's ``SensePrototypes``, and for each id asked to expand that holds no prototype, the senses
    within a few relations with their distance (whose ``SensePrototypes`` are in ``senses`` too)."""

    senses: dict[str, SensePrototypes]  # by the id asked, and by each relative's id
    relatives: dict[str, dict[str, int]]  # expanded id -> {relative id: hops away}


@dataclass(frozen=True)
class AliasEntry:
    """One row of the alias table the linker matches against."""

    alias: str
    lang: str
    entity_id: str
    sense_id: str
    rank: int


@dataclass(frozen=True)
class MediaFilter:
    """Restrictions applied inside a vector search, so k results come back when k exist."""

    modality: str | None = None
    sense_id: str | None = None
    evidence_source: str | None = None
    exclude_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class AuditEntry:
    """One curator edit as stored in the graph: who, when, what, and the state before and after."""

    audit_id: str
    user: str
    at: str
    action: str
    sense_ids: tuple[str, ...]
    before: str
    after: str
    undone: bool = False


@dataclass(frozen=True)
class GraphPatch:
    """Edges and fields put back exactly as given, in ONE transaction (``GraphStore.apply_patch``).

    The curator's undo is built on it: every field names the state a key should have afterwards.
    Deletes run first (entities, aliases, HAS_SENSE, relations keyed by (source, target, type),
    evidence), then puts: ``has_sense`` and ``relations`` are upserts, ``evidence`` is written as
    given *even over an editor edge* (an undo restores what the curator replaced), ``senses`` set
    label and gloss only, ``redirects`` set or clear (``None``) a sense's redirect. Every entity,
    sense and medium that a put, a redirect or an edge delete names must exist (``NotFound`` before
    anything is written); an edge, alias or entity already gone is a no-op, so a patch is idempotent.
    """

    delete_entities: tuple[str, ...] = ()
    delete_aliases: tuple[Alias, ...] = ()
    delete_has_sense: tuple[tuple[str, str], ...] = ()
    delete_relations: tuple[Relation, ...] = ()
    delete_evidence: tuple[tuple[str, str], ...] = ()
    has_sense: tuple[HasSense, ...] = ()
    relations: tuple[Relation, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    senses: tuple[Sense, ...] = ()
    redirects: tuple[tuple[str, str | None], ...] = ()
