"""The naive baseline the shipped linker must beat: every noun → its first WordNet sense.

Mentions are the linker's own (nouns by part of speech, multi-word lemmas), so only the choice
of sense differs: the best-matching lemma's rank-1 sense (WordNet's most frequent), confidence 1,
every noun weighing the same. With ``backoff`` a first sense without a prototype is replaced by its
nearest (instance) hypernym that has one, as issue 18's caption measurement did (R@10 50.3 → 52.6).
Eval uses it at ingest without back-off (evidence goes to the first sense) and at query time with it.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sensegraph.linking.base import LinkedMention

if TYPE_CHECKING:
    from sensegraph.graph import GraphStore
    from sensegraph.linking.linker import EntityLinker
from sensegraph.linking.linker import clean_text

UPWARD = frozenset({"hypernym", "instance_hypernym"})
MAX_LEVELS = 12  # WordNet noun hierarchies are at most ~18 deep; the nearest ancestor with media is close


def first_sense(candidates: Sequence[Any]) -> str | None:
    """The sense of the best alias match with the lowest HAS_SENSE rank (pure; None without candidates)."""
    if not candidates:
        return None
    best = max(float(c.parts.get("alias", 0.0)) for c in candidates)
    top = [c for c in candidates if float(c.parts.get("alias", 0.0)) >= best - 1e-9]
    return min(top, key=lambda c: (c.rank, c.sense_id)).sense_id


def nearest_with_prototype(store: Any, sense_id: str, max_levels: int = MAX_LEVELS) -> str | None:
    """``sense_id`` itself or its nearest (instance) hypernym with a prototype, own or curated; None when none."""
    level = [sense_id]
    seen = {sense_id}
    for _ in range(max_levels + 1):
        have = store.get_prototypes(level)
        hit = sorted(s for s in level if s in have)
        if hit:
            return hit[0]
        parents = sorted({r.target for r in store.neighbours(level)
                          if r.type in UPWARD and r.source in level and r.target not in seen})
        if not parents:
            return None
        seen.update(parents)
        level = parents
    return None


class FirstSenseLinker:
    """Links like ``inner`` (the store's ``EntityLinker``) finds mentions, but picks each noun's first sense."""

    def __init__(self, inner: EntityLinker, store: GraphStore, *, backoff: bool = False) -> None:
        self.inner, self.store, self.backoff = inner, store, backoff

    def link(self, text: str) -> list[LinkedMention]:
        return self.link_many([text])[0]

    def link_many(self, texts: Sequence[str]) -> list[list[LinkedMention]]:
        """First-sense mentions of each text; with ``backoff``, moved up to the nearest sense with media."""
        out = []
        cleaned = [clean_text(t, self.inner.config.max_text_chars) for t in texts]
        for text, mentions, cands in (self.inner._with_candidates(t, self.inner.detector.detect(t) if t.strip() else [])
                                      for t in cleaned):
            row = []
            for m, cl in zip(mentions, cands):
                sid = first_sense(cl)
                if sid is not None and self.backoff:
                    sid = nearest_with_prototype(self.store, sid) or sid
                row.append(LinkedMention(m.start, m.end, m.text, sid, 1.0 if sid else 0.0, [], 1.0))  # no runner-up to hand on to
            out.append(row)
        return out

    def add_aliases(self, entries: Any) -> int:
        """Mentions are the inner linker's: it learns the new aliases."""
        return self.inner.add_aliases(entries)

    def forget_senses(self) -> None:
        """Nothing cached here; the inner linker forgets its sense records."""
        self.inner.forget_senses()
