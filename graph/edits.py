"""Curator edits computed once for every store: each a ``GraphPatch`` built from reads of one transaction.

``move_patch``, ``split_patch`` and ``merge_patch`` read through a transaction's view (the
``GraphStore`` reads), check every id (``NotFound`` naming it, ``ValidationError`` for a refused
edit) and return the patch that makes the edit; ``EditOps`` gives a store ``move_evidence``,
``split_sense`` and ``merge_senses`` by applying them inside ``transaction``, so the reads, the checks
and the writes are one transaction and each store only implements ``apply_patch``.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sensegraph.errors import NotFound, ValidationError

from .model import Evidence, GraphPatch, HasSense, Relation, Sense

SPLIT_RELATION = "split_from"  # new sense -> the sense it was split from


def require_senses(view: Any, sense_ids: Sequence[str]) -> dict[str, Sense]:
    """The senses, or ``NotFound`` naming the first that does not exist."""
    found = view.get_senses(list(sense_ids))
    for sid in sense_ids:
        if sid not in found:
            raise NotFound(f"sense {sid!r} does not exist")
    return found


def require_media(view: Any, media_ids: Sequence[str]) -> None:
    found = view.get_media(list(media_ids), vectors=False)
    for mid in media_ids:
        if mid not in found:
            raise NotFound(f"media {mid!r} does not exist")


def move_patch(view: Any, media_ids: Sequence[str], from_sense: str, to_sense: str) -> GraphPatch:
    """Detach each medium's live edge to ``from_sense`` (an editor edge that never counts) and pin it
    to ``to_sense`` (confidence 1, the old edge's mention); media without a live edge are left alone."""
    if from_sense == to_sense:
        raise ValidationError(f"cannot move evidence from sense {from_sense!r} to itself")
    ids = list(dict.fromkeys(media_ids))
    require_senses(view, [from_sense, to_sense])
    require_media(view, ids)
    edges = []
    for mid in ids:
        mine = {e.sense_id: e for e in view.evidence(media_id=mid)}
        old, pinned = mine.get(from_sense), mine.get(to_sense)
        if old is None or old.detached:
            continue
        mention = old.mention if old.mention is not None else (pinned.mention if pinned else None)
        edges += [Evidence(mid, from_sense, old.confidence, "editor", True, old.mention),
                  Evidence(mid, to_sense, 1.0, "editor", False, mention)]
    return GraphPatch(evidence=tuple(edges))


def split_done(view: Any, sense_id: str, media_ids: Sequence[str], new_id: str) -> bool:
    """Whether ``new_id`` is already this split: split off ``sense_id`` with every medium pinned to it."""
    if (new_id, sense_id, SPLIT_RELATION) not in {(r.source, r.target, r.type) for r in view.neighbours([new_id])}:
        return False
    live = {e.media_id for e in view.evidence(sense_id=new_id) if not e.detached}
    return set(media_ids) <= live


def split_patch(view: Any, sense_id: str, media_ids: Sequence[str], new_id: str) -> GraphPatch:
    """Link ``new_id`` (which must exist) under ``sense_id``'s entities, ranked after each entity's
    senses, record it was split off, and move the media's evidence to it."""
    entities = [h.entity_id for h in view.has_sense_of([sense_id])]
    top: dict[str, int] = {}
    for h in view.entity_links(entities):
        top[h.entity_id] = max(top.get(h.entity_id, 0), int(h.rank))
    moved = move_patch(view, media_ids, sense_id, new_id)
    return GraphPatch(has_sense=tuple(HasSense(e, new_id, top.get(e, 0) + 1) for e in entities),
                      relations=(Relation(new_id, sense_id, SPLIT_RELATION, 1.0),), evidence=moved.evidence)


def merge_patch(view: Any, keep: str, drop: str) -> GraphPatch:
    """Carry ``drop``'s entities (the better rank wins), evidence (an editor edge on keep wins, else the
    higher confidence, keep's on a tie) and relations (re-pointed; no self-loops; an existing relation
    keeps its weight) over to ``keep``; ``drop`` redirects to ``keep``."""
    if keep == drop:
        raise ValidationError(f"cannot merge sense {keep!r} into itself")
    require_senses(view, [keep, drop])
    links = view.has_sense_of([keep, drop])
    keep_rank = {h.entity_id: h.rank for h in links if h.sense_id == keep}
    drop_links = [h for h in links if h.sense_id == drop]
    on_keep = {e.media_id: e for e in view.evidence(sense_id=keep)}
    drop_edges = view.evidence(sense_id=drop)
    taken = [e for e in drop_edges if (old := on_keep.get(e.media_id)) is None
             or not (old.source == "editor" or (e.source != "editor" and old.confidence >= e.confidence))]
    held = {(r.source, r.target, r.type) for r in view.neighbours([keep])}
    drop_rels = view.neighbours([drop])
    moved = {}
    for r in drop_rels:
        s, t = (keep if r.source == drop else r.source), (keep if r.target == drop else r.target)
        if s != t and (s, t, r.type) not in held:
            moved[(s, t, r.type)] = Relation(s, t, r.type, r.weight)
    return GraphPatch(
        delete_has_sense=tuple((h.entity_id, drop) for h in drop_links),
        delete_relations=tuple(drop_rels),
        delete_evidence=tuple((e.media_id, drop) for e in drop_edges),
        has_sense=tuple(HasSense(h.entity_id, keep, min(h.rank, keep_rank.get(h.entity_id, h.rank))) for h in drop_links),
        relations=tuple(moved.values()),
        evidence=tuple(Evidence(e.media_id, keep, e.confidence, e.source, e.detached, e.mention) for e in taken),
        redirects=((drop, keep),),
    )


class EditOps:
    """``move_evidence``, ``split_sense`` and ``merge_senses`` for a store with ``transaction`` and
    ``apply_patch``: each one transaction that reads, checks and writes."""

    def move_evidence(self, media_ids: Sequence[str], from_sense: str, to_sense: str) -> int:
        """Detach the media's live edges to ``from_sense``, pin them to ``to_sense``; returns how many moved."""
        def work(view: Any) -> int:
            patch = move_patch(view, media_ids, from_sense, to_sense)
            view.apply_patch(patch)
            return len(patch.evidence) // 2

        return self.transaction(work)  # type: ignore[attr-defined]

    def split_sense(self, sense_id: str, media_ids: Sequence[str], new_sense: Sense) -> Sense:
        """Create ``new_sense`` under ``sense_id``'s entities (ranked last) and move the media to it;
        the same split again (a retry whose acknowledgement was lost) is a no-op."""
        new_id = new_sense.sense_id
        if not isinstance(new_id, str) or not new_id:
            raise ValidationError(f"new sense id must be a non-empty string, got {new_id!r}")

        def work(view: Any) -> Sense:
            require_senses(view, [sense_id])
            if view.get_senses([new_id]):
                if not split_done(view, sense_id, list(dict.fromkeys(media_ids)), new_id):
                    raise ValidationError(f"cannot split into {new_id!r}: that sense already exists")
                return view.get_senses([new_id])[new_id]
            require_media(view, list(dict.fromkeys(media_ids)))
            view.upsert_senses([Sense(new_id, new_sense.label or "", new_sense.gloss or "")])
            view.apply_patch(split_patch(view, sense_id, media_ids, new_id))
            return view.get_senses([new_id])[new_id]

        return self.transaction(work)  # type: ignore[attr-defined]

    def merge_senses(self, keep: str, drop: str) -> Sense:
        """Fold ``drop`` into ``keep`` (entities, evidence, relations); ``drop`` redirects to ``keep``
        and loses its prototypes (keep's are recomputed by the caller)."""
        def work(view: Any) -> Sense:
            view.apply_patch(merge_patch(view, keep, drop))
            view.clear_prototype(drop)
            view.clear_prototype(drop, propagated=True)
            return view.get_senses([keep])[keep]

        return self.transaction(work)  # type: ignore[attr-defined]
