"""Curator edits at the SenseGraph level: each ONE store transaction, prototypes and audit entry included.

Every operation here follows one shape, inside ``GraphStore.transaction``: validate ids (``NotFound``
/ ``ValidationError`` before anything is written), snapshot the state it is about to change, make the
change, recompute the media prototypes of the senses it touched (``PrototypeUpdater.update``) and
write an ``AuditEntry`` whose ``before`` / ``after`` JSON holds enough state to apply the inverse —
all read and written through the transaction's view, so a crash or an error at any step leaves
either all of it or none of it (tests/reliability/test_curation_crash.py). Only derived in-memory
or guessed state follows the commit: the linker's tables and the automatic propagation, both
rebuildable. ``undo`` checks the state is still the ``after`` of that entry (a later edit of the same
edges must be undone first), applies the inverse ``GraphPatch``, recomputes prototypes, marks the
entry undone and records the undo, again in one transaction. Every action is undoable: a merge
keeps a ``MergeSnapshot`` (``sensegraph.graph.undo``) of everything it changed.

Editor evidence (``source="editor"``) is the curator's word: a pinned edge always counts with
weight 1, a detached one never counts, and a re-ingest does not undo either (store contract).
"""
from __future__ import annotations

import copy
import json
import logging
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import numpy as np

from sensegraph.graph.model import (
    Alias,
    AliasEntry,
    AuditEntry,
    Entity,
    Evidence,
    GraphPatch,
    HasSense,
    Prototype,
    Sense,
)
from sensegraph.graph.undo import MergeSnapshot, capture_merge, unmerge_patch

from .errors import NotFound, SenseGraphError, ValidationError
from .prototype_updates import PrototypeUpdater

if TYPE_CHECKING:
    from .sensegraph import SenseGraph

DEFAULT_USER = "editor"
EDITOR_ENTITY_PREFIX = "editor:"
MAX_LABEL = 200
MAX_GLOSS = 5_000
MAX_ALIAS = 200
_ID_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}$")
UNDOABLE = ("attach", "detach", "move", "pin", "split", "merge", "edit")
RETRY_WINDOW = 50  # newest audit rows a re-run transaction looks through for its own entry
_log = logging.getLogger(__name__)


def now_iso() -> str:
    """UTC timestamp with microseconds, so the audit log sorts by time."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def cluster_groups(media_ids: Sequence[str], features: np.ndarray, distance: float) -> list[list[str]]:
    """A sense's media in clusters (agglomerative, cosine), largest first; ties by first media id."""
    from sensegraph.graph.prototypes import cluster_labels

    if len(media_ids) == 0:
        return []
    labels = cluster_labels(np.asarray(features, dtype=np.float32), distance)
    groups: dict[int, list[str]] = {}
    for mid, lab in zip(media_ids, labels.tolist()):
        groups.setdefault(int(lab), []).append(mid)
    return sorted((sorted(g) for g in groups.values()), key=lambda g: (-len(g), g[0]))


def _edge_state(e: Evidence | None, media_id: str, sense_id: str) -> dict[str, Any]:
    """One evidence edge as JSON; ``{"absent": true}`` when there is none."""
    if e is None:
        return {"media_id": media_id, "sense_id": sense_id, "absent": True}
    return {"media_id": e.media_id, "sense_id": e.sense_id, "confidence": float(e.confidence),
            "source": e.source, "detached": bool(e.detached), "mention": e.mention}


def _edge_patch(states: Iterable[dict[str, Any]]) -> GraphPatch:
    """The patch that puts each recorded edge state back (absent ones deleted, others written exactly)."""
    states = list(states)
    return GraphPatch(
        delete_evidence=tuple((e["media_id"], e["sense_id"]) for e in states if e.get("absent")),
        evidence=tuple(Evidence(e["media_id"], e["sense_id"], e["confidence"], e["source"], e["detached"], e["mention"])
                       for e in states if not e.get("absent")),
    )


def _proto_json(p: Prototype | None) -> dict[str, Any] | None:
    """A curated or propagated prototype as JSON (the merge clears both; a media one is recomputed)."""
    if p is None:
        return None
    return {"sense_id": p.sense_id, "vector": p.vector.tolist(), "source": p.source, "media_count": p.media_count,
            "strategy": p.strategy, "confidence": p.confidence, "weight": p.weight, "norm": p.norm,
            "joint": None if p.joint is None else p.joint.tolist()}


def _proto_from(d: dict[str, Any]) -> Prototype:
    joint = d.get("joint")
    return Prototype(d["sense_id"], np.asarray(d["vector"], dtype=np.float32), d["source"], int(d["media_count"]),
                     d["strategy"], float(d["confidence"]), None if joint is None else np.asarray(joint, dtype=np.float32),
                     float(d["weight"]), float(d["norm"]))


def _same_edge(a: dict[str, Any], b: dict[str, Any]) -> bool:
    keys = ("absent", "source", "detached", "mention")
    return all(a.get(k) == b.get(k) for k in keys) and abs(a.get("confidence", 0.0) - b.get("confidence", 0.0)) < 1e-6


class Curator:
    """Curation operations over one ``SenseGraph``, attributed to ``user`` in the audit trail."""

    def __init__(self, sg: SenseGraph, user: str | None = None) -> None:
        self.sg, self.store = sg, sg.store
        self.user = (user or DEFAULT_USER).strip()[:80] or DEFAULT_USER
        self._audit_id = ""  # set per edit by ``_atomic``
        self._after: list[Callable[[], None]] = []

    # -- one transaction per edit ------------------------------------------------------------------
    def _atomic(self, edit: Callable[[Curator], AuditEntry]) -> AuditEntry:
        """Run ``edit`` on a copy of this curator whose store is one transaction's view, then the
        derived follow-ups it queued (linker refresh, propagation). A transaction re-run after a lost
        commit acknowledgement finds its own audit row and returns it instead of editing twice."""
        audit_id = uuid.uuid4().hex

        def work(tx: Any) -> tuple[AuditEntry, list[Callable[[], None]]]:
            done = [e for e in tx.audit_log(limit=RETRY_WINDOW) if e.audit_id == audit_id]
            if done:
                return done[0], []
            bound = copy.copy(self)
            bound.store, bound._audit_id, bound._after = tx, audit_id, []
            return edit(bound), bound._after

        entry, after = self.store.transaction(work)
        for follow_up in after:
            follow_up()
        return entry

    @property
    def updater(self) -> PrototypeUpdater:
        """The prototype updater over this curator's store (inside an edit: its transaction's view)."""
        return PrototypeUpdater(self.store, self.sg.config.prototypes)

    def _update_prototypes(self, sense_ids: Iterable[str]) -> None:
        """Recompute the senses' media prototypes inside the edit's transaction; propagation (guessed
        prototypes of the senses near them, ``propagation.auto``) runs after the commit."""
        report = self.updater.update(sense_ids)
        if report.created or report.changed or report.cleared:
            self._after.append(self._propagate)

    def _propagate(self) -> None:
        from .propagation import auto_propagate

        try:
            auto_propagate(self.sg)
        except SenseGraphError as exc:  # the edit and its audit entry stand; propagation can be rerun
            _log.warning("automatic propagation after an edit failed: %s; run `sensegraph propagate --changed`", exc)

    def _refresh_linker(self, entries: list[AliasEntry] | None = None) -> None:
        """After the commit, the linker sees the changed names (its tables are rebuilt from the store)."""
        self._after.append(lambda: self.sg.refresh_linker(entries))

    # -- validation and snapshots ----------------------------------------------------------------
    def _sense(self, sense_id: str, *, live: bool = True) -> Sense:
        if not isinstance(sense_id, str) or not sense_id.strip():
            raise ValidationError("sense id is empty")
        s = self.store.get_senses([sense_id]).get(sense_id)
        if s is None:
            raise NotFound(f"no sense with id {sense_id!r}")
        if live and s.redirect_to:
            raise ValidationError(f"sense {sense_id!r} was merged into {s.redirect_to!r}; edit that one instead")
        return s

    def _media(self, media_ids: Iterable[str]) -> list[str]:
        ids = list(dict.fromkeys(m for m in media_ids))
        if not ids:
            raise ValidationError("no media selected")
        for m in ids:
            if not isinstance(m, str) or not m.strip():
                raise ValidationError("a media id is empty")
        found = self.store.get_media(ids, vectors=False)
        missing = [m for m in ids if m not in found]
        if missing:
            raise NotFound(f"no medium with id {missing[0]!r}")
        return ids

    def _edges(self, pairs: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
        """The current state of each (media, sense) edge."""
        out = []
        by_media: dict[str, dict[str, Evidence]] = {}
        for mid, sid in dict.fromkeys(pairs):
            if mid not in by_media:
                by_media[mid] = {e.sense_id: e for e in self.store.evidence(media_id=mid)}
            out.append(_edge_state(by_media[mid].get(sid), mid, sid))
        return out

    def _record(self, action: str, sense_ids: Iterable[str], before: dict[str, Any], after: dict[str, Any]) -> AuditEntry:
        """Write the edit's audit row, in the edit's transaction."""
        entry = AuditEntry(
            audit_id=self._audit_id, user=self.user, at=now_iso(), action=action,
            sense_ids=tuple(dict.fromkeys(sense_ids)), before=json.dumps(before, sort_keys=True),
            after=json.dumps(after, sort_keys=True),
        )
        self.store.add_audit(entry)
        return entry

    def _evidence_edit(self, action: str, sense_ids: Sequence[str], pairs: list[tuple[str, str]],
                       write: Any, extra: dict[str, Any] | None = None) -> AuditEntry:
        """Snapshot ``pairs``, run ``write()``, recompute, record."""
        before = self._edges(pairs)
        result = write()
        after = self._edges(pairs)
        info = dict(extra or {})
        if isinstance(result, int):
            info["changed"] = result
        self._update_prototypes(sense_ids)
        return self._record(action, sense_ids, {"evidence": before, **info}, {"evidence": after, **info})

    # -- evidence edits ---------------------------------------------------------------------------
    def attach(self, media_id: str, sense_id: str) -> AuditEntry:
        """Pin a medium to a sense: an editor edge that always counts (confidence 1)."""
        return self._atomic(lambda c: c._attach(media_id, sense_id))

    def _attach(self, media_id: str, sense_id: str) -> AuditEntry:
        self._sense(sense_id)
        (mid,) = self._media([media_id])
        edge = Evidence(mid, sense_id, 1.0, "editor", False, None)
        return self._evidence_edit("attach", [sense_id], [(mid, sense_id)], lambda: self.store.upsert_evidence([edge]))

    def detach(self, media_id: str, sense_id: str) -> AuditEntry:
        """Detach a medium from a sense: an editor edge that never counts (the linker's confidence is kept)."""
        return self._atomic(lambda c: c._detach(media_id, sense_id))

    def _detach(self, media_id: str, sense_id: str) -> AuditEntry:
        self._sense(sense_id)
        (mid,) = self._media([media_id])
        old = next((e for e in self.store.evidence(media_id=mid) if e.sense_id == sense_id), None)
        edge = Evidence(mid, sense_id, old.confidence if old else 0.0, "editor", True, old.mention if old else None)
        return self._evidence_edit("detach", [sense_id], [(mid, sense_id)], lambda: self.store.upsert_evidence([edge]))

    def move_evidence(self, media_ids: Sequence[str], from_sense: str, to_sense: str) -> AuditEntry:
        """Move the media's evidence from one sense to another (one store transaction)."""
        return self._atomic(lambda c: c._move_evidence(media_ids, from_sense, to_sense))

    def _move_evidence(self, media_ids: Sequence[str], from_sense: str, to_sense: str) -> AuditEntry:
        self._sense(from_sense)
        self._sense(to_sense)
        if from_sense == to_sense:
            raise ValidationError(f"cannot move evidence from sense {from_sense!r} to itself")
        ids = self._media(media_ids)
        pairs = [(m, s) for m in ids for s in (from_sense, to_sense)]
        return self._evidence_edit("move", [from_sense, to_sense], pairs,
                                   lambda: self.store.move_evidence(ids, from_sense, to_sense),
                                   {"from": from_sense, "to": to_sense})

    def pin_mention(self, media_id: str, mention: str, sense_id: str) -> AuditEntry:
        """Pin the sense of a mention in a medium's caption, overriding the linker for that medium.

        Writes an editor-pinned edge to ``sense_id`` and detaches the medium's other edges that the
        linker drew from the same mention, in one ``upsert_evidence`` call.
        """
        return self._atomic(lambda c: c._pin_mention(media_id, mention, sense_id))

    def _pin_mention(self, media_id: str, mention: str, sense_id: str) -> AuditEntry:
        self._sense(sense_id)
        (mid,) = self._media([media_id])
        mention = (mention or "").strip()
        if not mention:
            raise ValidationError("mention is empty")
        caption = self.store.get_media([mid], vectors=False)[mid].caption or ""
        if mention.casefold() not in caption.casefold():
            raise ValidationError(f"mention {mention!r} does not occur in the caption of medium {mid!r}")
        key = mention.casefold()
        others = [e for e in self.store.evidence(media_id=mid)
                  if e.sense_id != sense_id and not e.detached and (e.mention or "").casefold() == key]
        edges = [Evidence(mid, sense_id, 1.0, "editor", False, mention)]
        edges += [Evidence(mid, e.sense_id, e.confidence, "editor", True, e.mention) for e in others]
        senses = [sense_id] + [e.sense_id for e in others]
        return self._evidence_edit("pin", senses, [(mid, s) for s in senses],
                                   lambda: self.store.upsert_evidence(edges), {"mention": mention, "media_id": mid})

    # -- sense edits ------------------------------------------------------------------------------
    def split_sense(self, sense_id: str, new_id: str, label: str, gloss: str = "", *,
                    media_ids: Sequence[str] | None = None, cluster: int | None = None) -> AuditEntry:
        """Split selected media (or cluster ``cluster`` of the sense's media) into a new sense."""
        return self._atomic(lambda c: c._split_sense(sense_id, new_id, label, gloss, media_ids, cluster))

    def _split_sense(self, sense_id: str, new_id: str, label: str, gloss: str,
                     media_ids: Sequence[str] | None, cluster: int | None) -> AuditEntry:
        self._sense(sense_id)
        new_id = (new_id or "").strip()
        if not _ID_OK.match(new_id):
            raise ValidationError(f"new sense id {new_id!r} must be 1-128 letters, digits, '_', '.', ':' or '-'")
        if self.store.get_senses([new_id]):
            raise ValidationError(f"cannot split into {new_id!r}: that sense already exists")
        label, gloss = self._text(label, "label", MAX_LABEL, required=True), self._text(gloss, "gloss", MAX_GLOSS)
        if (media_ids is None) == (cluster is None):
            raise ValidationError("give either the media to split off or a cluster number, not both")
        if cluster is not None:
            groups = self.clusters(sense_id)
            if not 0 <= cluster < len(groups):
                raise ValidationError(f"sense {sense_id!r} has {len(groups)} cluster(s); there is no cluster {cluster}")
            media_ids = groups[cluster]
        ids = self._media(media_ids or [])
        live = {e.media_id for e in self.store.evidence(sense_id=sense_id) if not e.detached}
        stray = [m for m in ids if m not in live]
        if stray:
            raise ValidationError(f"medium {stray[0]!r} is not evidence of sense {sense_id!r}")
        pairs = [(m, s) for m in ids for s in (sense_id, new_id)]
        before = self._edges(pairs)
        self.store.split_sense(sense_id, ids, Sense(new_id, label, gloss))
        after = self._edges(pairs)
        info = {"from": sense_id, "new_sense": {"sense_id": new_id, "label": label, "gloss": gloss}, "media_ids": ids}
        self._update_prototypes([sense_id, new_id])
        return self._record("split", [sense_id, new_id], {"evidence": before, **info}, {"evidence": after, **info})

    def merge_senses(self, keep: str, drop: str) -> AuditEntry:
        """Merge ``drop`` into ``keep``: entities, evidence and relations carried over; ``drop`` redirects."""
        return self._atomic(lambda c: c._merge_senses(keep, drop))

    def _merge_senses(self, keep: str, drop: str) -> AuditEntry:
        k, d = self._sense(keep), self._sense(drop)
        if keep == drop:
            raise ValidationError(f"cannot merge sense {keep!r} into itself")
        snap = capture_merge(self.store, keep, drop)
        own = self.store.get_prototypes([drop]).get(drop)
        protos = [_proto_json(own if own is not None and own.source == "curated" else None),
                  _proto_json(self.store.get_prototypes([drop], propagated=True).get(drop))]
        before = {
            "keep": asdict(k), "drop": asdict(d),
            "drop_evidence": [_edge_state(e, e.media_id, e.sense_id) for e in snap.drop_evidence],
            "drop_relations": [asdict(r) for r in snap.drop_relations],
            "drop_aliases": [asdict(a) for a in self.store.aliases_of(drop)],
            "snapshot": snap.to_json(), "prototypes": [p for p in protos if p is not None],
        }
        merged = self.store.merge_senses(keep, drop)
        media = sorted({e.media_id for e in snap.drop_evidence})
        after = {"keep": asdict(merged), "redirect": {drop: keep},
                 "keep_evidence": self._edges((m, keep) for m in media)}
        self._update_prototypes([keep])
        self._refresh_linker()  # drop's names now lead to keep
        return self._record("merge", [keep, drop], before, after)

    def edit_sense(self, sense_id: str, *, label: str | None = None, gloss: str | None = None,
                   add_aliases: Sequence[str] = ()) -> AuditEntry:
        """Change a sense's label and gloss and give it new aliases (the linker sees them at once)."""
        return self._atomic(lambda c: c._edit_sense(sense_id, label, gloss, add_aliases))

    def _edit_sense(self, sense_id: str, label: str | None, gloss: str | None, add_aliases: Sequence[str]) -> AuditEntry:
        s = self._sense(sense_id)
        new_label = s.label if label is None else self._text(label, "label", MAX_LABEL, required=True)
        new_gloss = s.gloss if gloss is None else self._text(gloss, "gloss", MAX_GLOSS)
        existing = {a.text.casefold() for a in self.store.aliases_of(sense_id)}
        aliases = []
        for a in add_aliases:
            text = self._text(a, "alias", MAX_ALIAS, required=True)
            if text.casefold() not in existing and text not in aliases:
                aliases.append(text)
        if new_label == s.label and new_gloss == s.gloss and not aliases:
            raise ValidationError(f"nothing to change on sense {sense_id!r}")
        eids = [EDITOR_ENTITY_PREFIX + a.casefold() for a in aliases]
        known = set(self.store.get_entities(eids)) if eids else set()
        before = {"label": s.label, "gloss": s.gloss, "aliases_added": []}
        self.store.upsert_senses([Sense(sense_id, new_label, new_gloss, redirect_to=s.redirect_to)])
        entries = self._add_aliases(sense_id, aliases) if aliases else []
        after = {"label": new_label, "gloss": new_gloss, "aliases_added": aliases,
                 "entities_created": [e for e in eids if e not in known]}
        if entries:
            self._refresh_linker(entries)  # the linker sees the new names at once
        return self._record("edit", [sense_id], before, after)

    def _add_aliases(self, sense_id: str, texts: Sequence[str]) -> list[AliasEntry]:
        """Each alias names an editor entity (``editor:<alias>``) whose sense list gains ``sense_id``;
        returns the linker's entries for them (the caller refreshes the linker after the commit)."""
        ents, links = [], []
        table = [e for e in self.store.alias_table() if e.entity_id.startswith(EDITOR_ENTITY_PREFIX)]
        for text in texts:
            eid = EDITOR_ENTITY_PREFIX + text.casefold()
            rank = 1 + max((e.rank for e in table if e.entity_id == eid), default=0)
            ents.append(Entity(eid, text))
            links.append(HasSense(eid, sense_id, rank))
        self.store.upsert_entities(ents)
        self.store.upsert_aliases([Alias(e.name, e.id, self.sg.config.linker.lang) for e in ents])
        self.store.upsert_has_sense(links)
        lang = self.sg.config.linker.lang
        return [AliasEntry(e.name, lang, e.id, sense_id, h.rank) for e, h in zip(ents, links)]

    @staticmethod
    def _text(value: Any, what: str, limit: int, *, required: bool = False) -> str:
        if not isinstance(value, str):
            raise ValidationError(f"{what} must be text")
        value = value.strip()
        if required and not value:
            raise ValidationError(f"{what} is empty")
        if len(value) > limit:
            raise ValidationError(f"{what} is {len(value)} characters; the limit is {limit}")
        if any(ord(c) < 32 and c not in "\n\t" for c in value):
            raise ValidationError(f"{what} contains control characters")
        return value

    # -- clusters ---------------------------------------------------------------------------------
    def clusters(self, sense_id: str) -> list[list[str]]:
        """The sense's counting evidence media in clusters of their native features, largest first."""
        live = sorted({e.media_id for e in self.store.evidence(sense_id=sense_id) if not e.detached})
        media = self.store.get_media(live)
        ids = [m for m in live if m in media and media[m].features is not None]
        if not ids:
            return []
        feats = np.stack([media[m].features for m in ids])
        return cluster_groups(ids, feats, self.sg.config.prototypes.cluster_distance)

    # -- audit and undo ---------------------------------------------------------------------------
    def audit(self, sense_id: str | None = None, limit: int = 100) -> list[AuditEntry]:
        """Edits newest first, optionally only those touching ``sense_id``."""
        return self.store.audit_log(sense_id=sense_id, limit=limit)

    def undo(self, audit_id: str) -> AuditEntry:
        """Apply the inverse of an audited edit, mark it undone, and record the undo (one transaction)."""
        return self._atomic(lambda c: c._undo(audit_id))

    def _undo(self, audit_id: str) -> AuditEntry:
        entry = self._entry(audit_id)
        if entry.undone:
            raise ValidationError(f"edit {audit_id!r} ({entry.action}) was already undone")
        if entry.action not in UNDOABLE:
            raise ValidationError(f"a {entry.action!r} edit cannot be undone here; split the sense again to reverse it")
        before, after = json.loads(entry.before), json.loads(entry.after)
        if entry.action == "edit":
            self._undo_edit(entry, before, after)
        elif entry.action == "merge":
            self._undo_merge(entry, before, after)
        elif entry.action == "split":
            self._undo_split(entry, before, after)
        else:
            self._check_unchanged(entry, after["evidence"])
            self.store.apply_patch(_edge_patch(before["evidence"]))
        self._update_prototypes(entry.sense_ids)  # a retired id has no evidence left: its prototype is cleared
        self.store.mark_undone(entry.audit_id)
        return self._record(f"undo {entry.action}", entry.sense_ids, json.loads(entry.after) | {"undoes": entry.audit_id},
                            json.loads(entry.before) | {"undoes": entry.audit_id})

    def _entry(self, audit_id: str) -> AuditEntry:
        for e in self.store.audit_log(limit=1_000_000):
            if e.audit_id == audit_id:
                return e
        raise NotFound(f"no audit entry with id {audit_id!r}")

    def _check_unchanged(self, entry: AuditEntry, after: list[dict[str, Any]]) -> None:
        now = self._edges((e["media_id"], e["sense_id"]) for e in after)
        for want, have in zip(after, now):
            if not _same_edge(want, have):
                raise ValidationError(
                    f"cannot undo {entry.action} {entry.audit_id}: the edge {have['media_id']} -> {have['sense_id']} "
                    "changed since; undo the later edit first")

    def _undo_split(self, entry: AuditEntry, before: dict[str, Any], after: dict[str, Any]) -> None:
        """Move the evidence back and retire the split-off sense: its links and relation go, its id redirects."""
        old, new_id = after["from"], after["new_sense"]["sense_id"]
        self._check_unchanged(entry, after["evidence"])
        moved = {(e["media_id"], e["sense_id"]) for e in after["evidence"]}
        later = [e.media_id for e in self.store.evidence(sense_id=new_id) if (e.media_id, new_id) not in moved]
        if later:
            raise ValidationError(f"sense {new_id!r} has evidence added after the split ({later[0]!r}); move it first")
        rels = self.store.neighbours([new_id])
        extra = [r for r in rels if (r.source, r.target, r.type) != (new_id, old, "split_from")]
        if extra:
            r = extra[0]
            raise ValidationError(f"sense {new_id!r} gained a relation after the split ({r.source} -{r.type}-> "
                                  f"{r.target}); undo that first")
        old_entities = {h.entity_id for h in self.store.has_sense_of([old])}
        links = self.store.has_sense_of([new_id])
        foreign = [h.entity_id for h in links if h.entity_id not in old_entities]
        if foreign:
            raise ValidationError(f"sense {new_id!r} gained the name {foreign[0]!r} after the split; undo that edit first")
        patch = _edge_patch(before["evidence"])
        self.store.apply_patch(GraphPatch(
            delete_evidence=patch.delete_evidence, evidence=patch.evidence,
            delete_has_sense=tuple((h.entity_id, new_id) for h in links),
            delete_relations=tuple(rels), redirects=((new_id, old),),
        ))
        self._refresh_linker()

    def _undo_merge(self, entry: AuditEntry, before: dict[str, Any], after: dict[str, Any]) -> None:
        """Put drop's links, evidence and relations back and keep's as they were, in one transaction."""
        if "snapshot" not in before:
            raise ValidationError(f"merge {entry.audit_id} was recorded without a snapshot; it cannot be undone")
        snap = MergeSnapshot.from_json(before["snapshot"])
        drop = self.store.get_senses([snap.drop]).get(snap.drop)
        if drop is None or drop.redirect_to != snap.keep:
            raise ValidationError(f"cannot undo merge {entry.audit_id}: sense {snap.drop!r} no longer redirects "
                                  f"to {snap.keep!r}; undo the later edit first")
        self._sense(snap.keep)  # still live (not merged further)
        self._check_unchanged(entry, after["keep_evidence"])
        self.store.apply_patch(unmerge_patch(snap))
        protos = [_proto_from(p) for p in before.get("prototypes", [])]
        if protos:
            self.store.set_prototypes(protos)
        self._refresh_linker()

    def _undo_edit(self, entry: AuditEntry, before: dict[str, Any], after: dict[str, Any]) -> None:
        (sid,) = entry.sense_ids
        s = self._sense(sid)
        if (s.label, s.gloss) != (after["label"], after["gloss"]):
            raise ValidationError(f"cannot undo edit {entry.audit_id}: sense {sid!r} was edited since; undo that first")
        added = [EDITOR_ENTITY_PREFIX + a.casefold() for a in after.get("aliases_added", [])]
        created = set(after.get("entities_created", []))
        if created:  # an editor entity this edit created goes with it, unless another sense took its name since
            shared = {e.entity_id for e in self.store.alias_table()
                      if e.entity_id in created and e.sense_id != sid}
            created -= shared
        self.store.apply_patch(GraphPatch(
            delete_entities=tuple(sorted(created)),
            delete_has_sense=tuple((e, sid) for e in added if e not in created),
            senses=(Sense(sid, before["label"], before["gloss"]),),
        ))
        if added:
            self._refresh_linker()
