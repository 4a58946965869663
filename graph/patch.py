"""Validation shared by both stores' ``apply_patch``: checked fields and the ids that must exist.

Pure functions: ``check_patch`` returns the patch with every field a tuple of validated records
(``ValidationError`` naming the bad field otherwise); ``required_ids`` lists the entities, senses
and media a patch names, which the store checks inside its transaction before writing anything.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sensegraph.errors import ValidationError

from .model import Alias, Evidence, GraphPatch, HasSense, Relation, Sense
from .records import alias_row, evidence_row, has_sense_row, need, relation_row


def _pairs(pairs: Iterable[tuple[str, str]], what: str) -> tuple[tuple[str, str], ...]:
    out = []
    for pair in pairs:
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValidationError(f"{what}: expected (id, id) pairs, got {pair!r}")
        out.append((need(pair[0], f"{what} first id"), need(pair[1], f"{what} second id")))
    return tuple(dict.fromkeys(out))


def _records(items: Iterable[object], kind: type, what: str) -> tuple:
    """``items`` as a tuple, each checked to be a ``kind`` record."""
    items = tuple(items)
    for x in items:
        if not isinstance(x, kind):
            raise ValidationError(f"patch {what}: expected {kind.__name__} records, got {type(x).__name__}")
    return items


def check_patch(patch: GraphPatch) -> GraphPatch:
    """Every field validated and made a tuple (duplicate keys: the last record wins)."""
    if not isinstance(patch, GraphPatch):
        raise ValidationError(f"expected a GraphPatch, got {type(patch).__name__}")
    aliases = _records(patch.delete_aliases, Alias, "delete_aliases")
    for a in aliases:
        alias_row(a)
    has_sense = _records(patch.has_sense, HasSense, "has_sense")
    for h in has_sense:
        has_sense_row(h)
    senses = _records(patch.senses, Sense, "senses")
    for s in senses:
        need(s.sense_id, "sense_id")
    evidence = _records(patch.evidence, Evidence, "evidence")
    for e in evidence:
        evidence_row(e)
    deleted_relations = _records(patch.delete_relations, Relation, "delete_relations")
    relations = _records(patch.relations, Relation, "relations")
    for r in (*deleted_relations, *relations):
        relation_row(r, "patch relation")
    redirects: dict[str, str | None] = {}
    for pair in patch.redirects:
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValidationError(f"patch redirect: expected (sense_id, target or None) pairs, got {pair!r}")
        sid, target = need(pair[0], "redirect sense_id"), pair[1]
        if target is not None and need(target, "redirect target") == sid:
            raise ValidationError(f"sense {sid!r} cannot redirect to itself")
        redirects[sid] = target
    deleted = tuple(dict.fromkeys(need(e, "entity id to delete") for e in patch.delete_entities))
    reused = {h.entity_id for h in has_sense} & set(deleted)
    if reused:
        raise ValidationError(f"entity {sorted(reused)[0]!r} is both deleted and linked by the same patch")
    return GraphPatch(
        delete_entities=deleted,
        delete_aliases=aliases,
        delete_has_sense=_pairs(patch.delete_has_sense, "patch delete_has_sense"),
        delete_relations=deleted_relations,
        delete_evidence=_pairs(patch.delete_evidence, "patch delete_evidence"),
        has_sense=has_sense,
        relations=relations,
        evidence=evidence,
        senses=senses,
        redirects=tuple(redirects.items()),
    )


@dataclass(frozen=True)
class PatchIds:
    """The ids a patch names that must exist before it is applied."""

    entities: tuple[str, ...]
    senses: tuple[str, ...]
    media: tuple[str, ...]


def required_ids(patch: GraphPatch) -> PatchIds:
    """Entities, senses and media that puts, redirects and edge deletes name (not ``delete_entities``)."""
    entities = [a.entity_id for a in patch.delete_aliases] + [e for e, _ in patch.delete_has_sense]
    entities += [h.entity_id for h in patch.has_sense]
    senses = [s for _, s in patch.delete_has_sense] + [h.sense_id for h in patch.has_sense]
    senses += [x for r in (*patch.delete_relations, *patch.relations) for x in (r.source, r.target)]
    senses += [s for _, s in patch.delete_evidence] + [e.sense_id for e in patch.evidence]
    senses += [s.sense_id for s in patch.senses]
    senses += [x for s, t in patch.redirects for x in (s, t) if x is not None]
    media = [m for m, _ in patch.delete_evidence] + [e.media_id for e in patch.evidence]
    return PatchIds(tuple(dict.fromkeys(entities)), tuple(dict.fromkeys(senses)), tuple(dict.fromkeys(media)))


class PatchOps:
    """The single-purpose inverse edits, each a one-field ``GraphPatch`` through the store's ``_patch``.

    A store implements ``_patch(patch) -> {field: rows changed}`` (one transaction); these follow.
    """

    def _patch(self, patch: GraphPatch) -> dict[str, int]:  # pragma: no cover - implemented by stores
        raise NotImplementedError

    def set_redirect(self, sense_id: str, target: str | None) -> None:
        """Point ``sense_id`` at ``target`` or clear its redirect (``None``)."""
        self._patch(GraphPatch(redirects=((sense_id, target),)))

    def delete_has_sense(self, pairs: Iterable[tuple[str, str]]) -> int:
        return self._patch(GraphPatch(delete_has_sense=tuple(pairs)))["delete_has_sense"]

    def delete_relations(self, relations: Iterable[Relation]) -> int:
        return self._patch(GraphPatch(delete_relations=tuple(relations)))["delete_relations"]

    def delete_aliases(self, aliases: Iterable[Alias]) -> int:
        return self._patch(GraphPatch(delete_aliases=tuple(aliases)))["delete_aliases"]

    def apply_patch(self, patch: GraphPatch) -> None:
        """Put every key of ``patch`` in its given state in one transaction (see ``GraphPatch``)."""
        self._patch(patch)
