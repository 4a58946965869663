"""The inverse of ``merge_senses`` as one ``GraphPatch``: snapshot before, patch after.

``capture_merge`` reads (through the ``GraphStore`` protocol) everything ``merge_senses(keep,
drop)`` may change: drop's HAS_SENSE links, evidence and relations, and keep's links, edges and
relations that the merge may create or overwrite. ``unmerge_patch`` (pure) turns that snapshot
into the patch that puts every one of those keys back: drop's records rewritten exactly, keep's
overwritten ones restored, the ones the merge created deleted, drop's redirect cleared. Applied
with ``GraphStore.apply_patch`` it is one transaction. Prototypes are not part of it: the caller
recomputes (or re-sets curated ones from ``prototypes``).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .base import GraphStore
from .model import Evidence, GraphPatch, HasSense, Relation


@dataclass(frozen=True)
class MergeSnapshot:
    """The state ``merge_senses(keep, drop)`` changes, as it was before the merge."""

    keep: str
    drop: str
    drop_redirect: str | None
    drop_links: tuple[HasSense, ...]  # (entity, drop, rank)
    keep_links: tuple[HasSense, ...]  # (entity, keep, rank) for drop's entities that already had keep
    drop_evidence: tuple[Evidence, ...]
    keep_evidence: tuple[Evidence, ...]  # keep's edges from drop's media
    drop_relations: tuple[Relation, ...]  # every relation touching drop
    keep_relations: tuple[Relation, ...]  # every relation touching keep
    prototypes: dict[str, Any] = field(default_factory=dict)  # optional, kept by the caller

    def to_json(self) -> dict[str, Any]:
        """Plain data for an audit entry."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MergeSnapshot:
        return cls(
            keep=data["keep"], drop=data["drop"], drop_redirect=data.get("drop_redirect"),
            drop_links=tuple(HasSense(**h) for h in data["drop_links"]),
            keep_links=tuple(HasSense(**h) for h in data["keep_links"]),
            drop_evidence=tuple(Evidence(**e) for e in data["drop_evidence"]),
            keep_evidence=tuple(Evidence(**e) for e in data["keep_evidence"]),
            drop_relations=tuple(Relation(**r) for r in data["drop_relations"]),
            keep_relations=tuple(Relation(**r) for r in data["keep_relations"]),
            prototypes=dict(data.get("prototypes") or {}),
        )


def capture_merge(store: GraphStore, keep: str, drop: str) -> MergeSnapshot:
    """Read what a merge of ``drop`` into ``keep`` would change (five reads, none per medium)."""
    links = store.has_sense_of([keep, drop])
    drop_links = tuple(h for h in links if h.sense_id == drop)
    entities = {h.entity_id for h in drop_links}
    drop_evidence = tuple(store.evidence(sense_id=drop))
    media = {e.media_id for e in drop_evidence}
    drop_rel = store.neighbours([drop])
    return MergeSnapshot(
        keep=keep, drop=drop, drop_redirect=store.get_senses([drop])[drop].redirect_to,
        drop_links=drop_links,
        keep_links=tuple(h for h in links if h.sense_id == keep and h.entity_id in entities),
        drop_evidence=drop_evidence,
        keep_evidence=tuple(e for e in store.evidence(sense_id=keep) if e.media_id in media),
        drop_relations=tuple(drop_rel),
        keep_relations=tuple(store.neighbours([keep])),
    )


def _repointed(r: Relation, keep: str, drop: str) -> Relation | None:
    """Where the merge moves a relation of drop (None: it became a self-loop and was dropped)."""
    s, t = (keep if r.source == drop else r.source), (keep if r.target == drop else r.target)
    return None if s == t else Relation(s, t, r.type, r.weight)


def unmerge_patch(snap: MergeSnapshot) -> GraphPatch:
    """The patch that puts back every key the merge changed (see the module docstring)."""
    keep, drop = snap.keep, snap.drop
    had_link = {h.entity_id for h in snap.keep_links}
    had_edge = {e.media_id for e in snap.keep_evidence}
    had_rel = {(r.source, r.target, r.type) for r in snap.keep_relations}
    created = {}
    for r in snap.drop_relations:
        moved = _repointed(r, keep, drop)
        if moved is not None and (moved.source, moved.target, moved.type) not in had_rel:
            created[(moved.source, moved.target, moved.type)] = moved
    return GraphPatch(
        delete_has_sense=tuple((h.entity_id, keep) for h in snap.drop_links if h.entity_id not in had_link),
        delete_relations=tuple(created.values()),
        delete_evidence=tuple((e.media_id, keep) for e in snap.drop_evidence if e.media_id not in had_edge),
        has_sense=snap.drop_links + snap.keep_links,
        relations=snap.drop_relations,
        evidence=snap.drop_evidence + snap.keep_evidence,
        redirects=((drop, snap.drop_redirect),),
    )
