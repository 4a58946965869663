"""Records in and out of a store, one set of rules for every adapter.

Writing: ``*_row`` functions validate a record (``ValidationError`` naming the bad field) and return
it as a plain dict keyed by field name, with vectors as finite float32 arrays checked against the
bound encoder's dimensions; an adapter only changes how vectors travel (bytes or lists). Reading:
``*_of`` build records from any mapping keyed by field name (a SQLite row made a dict, a Neo4j
record), vectors given as float32 bytes or number lists.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from sensegraph.errors import ValidationError

from .model import (
    EVIDENCE_SOURCES,
    MODALITIES,
    PROTOTYPE_SOURCES,
    Alias,
    AuditEntry,
    Entity,
    Evidence,
    HasSense,
    Media,
    Prototype,
    Relation,
    Sense,
)

Row = dict[str, Any]
Dims = tuple[int, int] | None  # (joint, native) of the bound encoder


def need(value: object, what: str) -> str:
    """A non-empty string, or a ValidationError naming the field."""
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{what} must be a non-empty string, got {value!r}")
    return value


def positive_k(k: Any) -> int:
    if int(k) <= 0:
        raise ValidationError(f"k must be a positive integer, got {k!r}")
    return int(k)


def finite_vector(v: Any, dim: int | None, what: str) -> np.ndarray | None:
    """A finite, non-empty 1-D float32 vector of ``dim`` values (any length when ``dim`` is None)."""
    if v is None:
        return None
    a = np.asarray(v, dtype=np.float32)
    if a.ndim != 1 or a.shape[0] == 0 or (dim is not None and a.shape[0] != dim):
        raise ValidationError(f"{what} has shape {a.shape}, expected ({dim if dim is not None else 'd'},)")
    if not np.all(np.isfinite(a)):
        raise ValidationError(f"{what} contains NaN or infinite values")
    return a


def entity_row(e: Entity) -> Row:
    return {"id": need(e.id, "entity id"), "name": e.name if e.name is not None else ""}


def alias_row(a: Alias) -> Row:
    return {"text": need(a.text, "alias text"), "lang": need(a.lang, "alias lang"),
            "entity_id": need(a.entity_id, "alias entity_id")}


def sense_row(s: Sense) -> Row:
    return {"sense_id": need(s.sense_id, "sense_id"), "label": s.label or "", "gloss": s.gloss or "",
            "redirect_to": s.redirect_to}


def has_sense_row(h: HasSense) -> Row:
    return {"entity_id": need(h.entity_id, "entity_id"), "sense_id": need(h.sense_id, "sense_id"), "rank": int(h.rank)}


def relation_row(r: Relation, what: str = "relation") -> Row:
    if not isinstance(r, Relation):
        raise ValidationError(f"{what}: expected Relation records, got {type(r).__name__}")
    w = float(r.weight)
    if not math.isfinite(w):
        raise ValidationError(f"{what} {r.source}->{r.target} has a non-finite weight {r.weight!r}")
    return {"source": need(r.source, f"{what} source"), "target": need(r.target, f"{what} target"),
            "type": need(r.type, f"{what} type"), "weight": w}


def evidence_row(e: Evidence) -> Row:
    if not isinstance(e, Evidence):
        raise ValidationError(f"evidence: expected Evidence records, got {type(e).__name__}")
    if e.source not in EVIDENCE_SOURCES:
        raise ValidationError(f"evidence {e.media_id}->{e.sense_id}: source {e.source!r} not in {EVIDENCE_SOURCES}")
    c = float(e.confidence)
    if not math.isfinite(c) or c < 0:
        raise ValidationError(f"evidence {e.media_id}->{e.sense_id}: confidence {e.confidence!r} must be >= 0")
    return {"media_id": need(e.media_id, "media_id"), "sense_id": need(e.sense_id, "sense_id"), "confidence": c,
            "source": e.source, "detached": bool(e.detached), "mention": e.mention}


def media_row(m: Media, dims: Dims) -> Row:
    """A medium's row; a record without a vector keeps the stored one (the adapters' statements)."""
    need(m.media_id, "media_id")
    if m.modality not in MODALITIES:
        raise ValidationError(f"media {m.media_id!r}: modality {m.modality!r} is not one of {MODALITIES}")
    try:
        metadata = json.dumps(m.metadata or {}, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"media {m.media_id!r}: metadata is not JSON-serialisable ({exc})") from exc
    joint, native = dims or (None, None)
    return {"media_id": m.media_id, "uri": m.uri or "", "modality": m.modality, "sha256": m.sha256 or "",
            "caption": m.caption, "metadata": metadata,
            "embedding": finite_vector(m.embedding, joint, f"media {m.media_id!r} embedding"),
            "features": finite_vector(m.features, native, f"media {m.media_id!r} features")}


def prototype_row(p: Prototype, dims: Dims) -> Row:
    """A prototype's row; ``slot`` is "propagated" for a propagated one, else "own"."""
    need(p.sense_id, "prototype sense_id")
    if p.source not in PROTOTYPE_SOURCES:
        raise ValidationError(f"prototype {p.sense_id!r}: source {p.source!r} not in {PROTOTYPE_SOURCES}")
    joint, native = dims or (None, None)
    vector = finite_vector(p.vector, native, f"prototype {p.sense_id!r} vector")
    if vector is None:
        raise ValidationError(f"prototype {p.sense_id!r} has no vector")
    return {"sense_id": p.sense_id, "slot": "propagated" if p.source == "propagated" else "own", "vector": vector,
            "source": p.source, "media_count": int(p.media_count), "strategy": p.strategy,
            "confidence": float(p.confidence), "joint": finite_vector(p.joint, joint, f"prototype {p.sense_id!r} joint vector"),
            "weight": float(p.weight), "norm": float(p.norm)}


def audit_row(a: AuditEntry) -> Row:
    return {"audit_id": need(a.audit_id, "audit_id"), "user": a.user, "at": a.at, "action": a.action,
            "sense_ids": list(a.sense_ids), "before": a.before, "after": a.after, "undone": bool(a.undone)}


# -- reading ---------------------------------------------------------------------------------------------


def vector_of(v: Any) -> np.ndarray | None:
    """float32 bytes (SQLite) or a list of numbers (Neo4j) as a writable float32 array."""
    if v is None:
        return None
    if isinstance(v, (bytes, bytearray, memoryview)):
        return np.frombuffer(v, dtype=np.float32).copy()
    return np.asarray(v, dtype=np.float32)


def entity_of(r: Mapping[str, Any]) -> Entity:
    return Entity(r["id"], r["name"] if r["name"] is not None else "")


def link_of(r: Mapping[str, Any]) -> HasSense:
    return HasSense(r["entity_id"], r["sense_id"], int(r["rank"]))


def relation_of(r: Mapping[str, Any]) -> Relation:
    return Relation(r["source"], r["target"], r["type"], float(r["weight"]))


def sense_of(r: Mapping[str, Any]) -> Sense:
    return Sense(sense_id=r["sense_id"], label=r["label"] or "", gloss=r["gloss"] or "", redirect_to=r["redirect_to"],
                 media_count=int(r["media_count"]), prototype_source=r["prototype_source"])


def evidence_of(r: Mapping[str, Any]) -> Evidence:
    return Evidence(media_id=r["media_id"], sense_id=r["sense_id"], confidence=float(r["confidence"]),
                    source=r["source"], detached=bool(r["detached"]), mention=r["mention"])


def media_of(r: Mapping[str, Any]) -> Media:
    return Media(media_id=r["media_id"], uri=r["uri"] or "", modality=r["modality"], sha256=r["sha256"] or "",
                 caption=r["caption"], metadata=json.loads(r["metadata"] or "{}"),
                 embedding=vector_of(r["embedding"]), features=vector_of(r["features"]))


def prototype_of(r: Mapping[str, Any]) -> Prototype:
    return Prototype(sense_id=r["sense_id"], vector=vector_of(r["vector"]), source=r["source"],
                     media_count=int(r["media_count"] or 0), strategy=r["strategy"] or "mean",
                     confidence=float(r["confidence"] if r["confidence"] is not None else 1.0),
                     joint=vector_of(r["joint"]), weight=float(r["weight"] or 0.0),
                     norm=float(r["norm"] if r["norm"] is not None else 1.0))


def audit_of(r: Mapping[str, Any]) -> AuditEntry:
    ids = r["sense_ids"]
    return AuditEntry(audit_id=r["audit_id"], user=r["user"], at=r["at"], action=r["action"],
                      sense_ids=tuple(json.loads(ids) if isinstance(ids, str) else ids or ()),
                      before=r["before"], after=r["after"], undone=bool(r["undone"]))
