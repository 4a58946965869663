"""What disambiguation reads from the store, fetched in batches and cached per sense id.

Sense records (label, gloss, evidence count), neighbour relations, hypernym ancestors and the
text a sense is embedded from: ``"label (other aliases): definition; related: neighbour labels"``.
Usage examples are cut from glosses (``definition_only``) so an evaluation built from WordNet's
examples never sees its own sentences in the sense texts.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from sensegraph.graph.base import GraphStore
from sensegraph.graph.model import Relation, Sense

from .lexicon import Lexicon

UPWARD_TYPES = frozenset({"hypernym", "instance_hypernym", "subclass_of", "instance_of"})
MAX_RELATED_LABELS = 6
MAX_ALIASES_IN_TEXT = 4
_QUOTED = re.compile(r'(?:^|;\s*)"')


def definition_only(gloss: str) -> str:
    """The gloss up to its first quoted usage example (WordNet style ``def; "example"``)."""
    m = _QUOTED.search(gloss or "")
    head = gloss[: m.start()] if m else (gloss or "")
    return head.strip().strip(";").strip()


def sense_text(sense: Sense, aliases: Sequence[str], related: Sequence[str]) -> str:
    """The text a sense is embedded from for context scoring (no usage examples)."""
    # sorted: stores list aliases in no particular order, and the text must not depend on the store
    others = sorted((a for a in aliases if a.lower() != sense.label.lower()), key=lambda a: (a.lower(), a))
    others = others[:MAX_ALIASES_IN_TEXT]
    head = sense.label + (f" ({', '.join(others)})" if others else "")
    text = head
    definition = definition_only(sense.gloss)
    if definition:
        text += f": {definition}"
    if related:
        text += f"; related: {', '.join(related)}"
    return text


class SenseKnowledge:
    """Batched, cached reads of senses, neighbours and ancestors for one linker."""

    def __init__(self, store: GraphStore, lexicon: Lexicon) -> None:
        self.store = store
        self.lexicon = lexicon
        self._senses: dict[str, Sense | None] = {}
        self._rels: dict[str, list[Relation]] = {}
        self._texts: dict[str, str] = {}
        self._total: int | None = None
        self._tag_counts: dict[str, dict[str, int]] | None = None

    # -- senses -----------------------------------------------------------------------------------
    def senses(self, ids: Iterable[str]) -> dict[str, Sense]:
        """Known senses among ``ids`` (missing ones are remembered as missing)."""
        ids = list(dict.fromkeys(ids))
        todo = [i for i in ids if i not in self._senses]
        if todo:
            found = self.store.get_senses(todo)
            for i in todo:
                self._senses[i] = found.get(i)
        return {i: s for i in ids if (s := self._senses.get(i)) is not None}

    def forget_senses(self) -> None:
        """Drop cached sense records, so the next read sees current media counts (the prior's input)."""
        self._senses.clear()

    def tag_counts(self) -> dict[str, dict[str, int]]:
        """SemCor counts ``{lemma: {sense_id: count}}`` the WordNet importer stored (read once; {} if none)."""
        if self._tag_counts is None:
            from sensegraph.graph.importers.wordnet import read_tag_counts

            self._tag_counts = read_tag_counts(self.store)
        return self._tag_counts

    def total_senses(self) -> int:
        """Number of senses in the store (Milne–Witten's N), read once."""
        if self._total is None:
            self._total = max(int(self.store.counts().get("senses", 0)), 2)
        return self._total

    # -- relations ----------------------------------------------------------------------------------
    def relations(self, ids: Iterable[str]) -> dict[str, list[Relation]]:
        """Relations touching each id, fetched for the uncached ids in one store call."""
        ids = list(dict.fromkeys(ids))
        todo = [i for i in ids if i not in self._rels]
        if todo:
            fresh: dict[str, list[Relation]] = {i: [] for i in todo}
            for rel in self.store.neighbours(todo):
                if rel.source in fresh:
                    fresh[rel.source].append(rel)
                if rel.target in fresh and rel.target != rel.source:
                    fresh[rel.target].append(rel)
            self._rels.update(fresh)
        return {i: self._rels[i] for i in ids}

    def neighbour_sets(self, ids: Iterable[str]) -> dict[str, frozenset[str]]:
        """Closed neighbourhoods ``{id} ∪ neighbours(id)``."""
        out = {}
        for i, rels in self.relations(ids).items():
            out[i] = frozenset([i, *(r.target if r.source == i else r.source for r in rels)])
        return out

    def ancestors(self, ids: Iterable[str], hops: int = 2) -> dict[str, dict[str, int]]:
        """For each id: ancestor id -> hop distance (0 = itself) along upward relations."""
        ids = list(dict.fromkeys(ids))
        result: dict[str, dict[str, int]] = {i: {i: 0} for i in ids}
        frontier: dict[str, set[str]] = {i: {i} for i in ids}
        for depth in range(1, hops + 1):
            nodes = {n for f in frontier.values() for n in f}
            if not nodes:
                break
            rels = self.relations(nodes)
            parents = {n: {r.target for r in rels[n] if r.source == n and r.type in UPWARD_TYPES} for n in nodes}
            for i in ids:
                nxt = set()
                for n in frontier[i]:
                    for p in parents[n]:
                        if p not in result[i]:
                            result[i][p] = depth
                            nxt.add(p)
                frontier[i] = nxt
        return result

    # -- sense texts --------------------------------------------------------------------------------
    def texts(self, ids: Sequence[str]) -> dict[str, str]:
        """Embedding text for each known sense id (cached)."""
        todo = [i for i in dict.fromkeys(ids) if i not in self._texts]
        if todo:
            senses = self.senses(todo)
            rels = self.relations(list(senses))
            picked: dict[str, list[str]] = {}
            for sid, rs in rels.items():
                up = sorted(r.target for r in rs if r.source == sid and r.type in UPWARD_TYPES)
                other = sorted(  # sorted: neighbours() order is the store's, not part of the contract
                    r.target if r.source == sid else r.source
                    for r in rs
                    if not (r.source == sid and r.type in UPWARD_TYPES)
                )
                picked[sid] = list(dict.fromkeys(x for x in up + other if x != sid))[:MAX_RELATED_LABELS]
            labels = self.senses({x for xs in picked.values() for x in xs})
            for sid, sense in senses.items():
                related = [labels[x].label for x in picked.get(sid, []) if x in labels]
                self._texts[sid] = sense_text(sense, self.lexicon.sense_aliases.get(sid, []), related)
        return {i: self._texts[i] for i in ids if i in self._texts}
