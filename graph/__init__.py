"""Graph layer: the ``GraphStore`` protocol, the Neo4j and embedded stores, KG importers, prototypes."""
from .base import GraphStore
from .factory import open_store, store_kind
from .model import (
    Alias,
    AliasEntry,
    AuditEntry,
    Entity,
    Evidence,
    HasSense,
    Media,
    MediaFilter,
    Prototype,
    Relation,
    Sense,
)

__all__ = [
    "Alias", "AliasEntry", "AuditEntry", "Entity", "Evidence", "GraphStore", "HasSense", "Media",
    "MediaFilter", "Prototype", "Relation", "Sense", "open_store", "store_kind",
]
