"""Candidate generation: exact alias hits, lemma hits, and rapidfuzz fuzzy hits, capped per mention.

A candidate's ``alias`` part is 1.0 for an exact or lemma hit and ``fuzz.ratio / 100`` for a
fuzzy one ("Rocket" ~ "Rockets" = 0.92, "jagaur" ~ "jaguar" = 0.83), so a typo costs something in
the combined score and the reason stays visible. A lower-case mention that matched a WordNet
sense only through a name WordNet writes capitalised ("ram" → RAM, Ram) gets ``CASE_FOLDED``
(linking/casing.py). Candidates are ordered by alias similarity, then by HAS_SENSE rank, and
capped at ``max_candidates``.
"""
from __future__ import annotations

from typing import Any

from sensegraph.errors import ConfigError
from sensegraph.graph.model import AliasEntry
from sensegraph.registry import register

from .base import Candidate, Mention
from .casing import capitalised_senses, case_mismatch, is_wordnet_id
from .lexicon import EN, ZH, Lexicon

_CACHE_LIMIT = 50_000
FUZZY_KEYS = 8  # other alias keys a fuzzy lookup may add (exact and lemma hits are not limited by it)
CASE_FOLDED = 0.9  # alias similarity of a case-folded hit; dev: 0.95 to 0.0 all fix the same items, none breaks


def merge_hits(hits: list[tuple[AliasEntry, float]], cap: int) -> list[Candidate]:
    """One candidate per sense (best alias similarity, then best rank), best first, at most ``cap``."""
    best: dict[str, tuple[float, int, str]] = {}
    for entry, sim in hits:
        cur = best.get(entry.sense_id)
        cand = (sim, entry.rank, entry.alias)
        if cur is None or (cand[0], -cand[1]) > (cur[0], -cur[1]):
            best[entry.sense_id] = cand
    ordered = sorted(best.items(), key=lambda kv: (-kv[1][0], kv[1][1], kv[0]))[:cap]
    return [
        Candidate(sense_id=sid, parts={"alias": sim}, alias=alias, rank=rank)
        for sid, (sim, rank, alias) in ordered
    ]


class AliasCandidateGenerator:
    """Mention → candidate senses from the lexicon (exact, lemma and fuzzy alias hits)."""

    def __init__(self, lexicon: Lexicon, *, fuzzy_threshold: float = 88.0, max_candidates: int = 8) -> None:
        if not 0.0 <= fuzzy_threshold <= 100.0:
            raise ConfigError(f"fuzzy_threshold must be within [0, 100], got {fuzzy_threshold}")
        if max_candidates < 1:
            raise ConfigError(f"max_candidates must be >= 1, got {max_candidates}")
        self.lexicon = lexicon
        self.fuzzy_threshold = fuzzy_threshold
        self.max_candidates = max_candidates
        self._cache: dict[tuple[str, str], list[Candidate]] = {}

    def candidates(self, mention: Mention) -> list[Candidate]:
        """Scored-later candidates of ``mention`` (fresh objects; the caller may mutate them)."""
        script = ZH if mention.lang.startswith("zh") else EN
        key = mention.key or self.lexicon.key(mention.text, script)
        cached = self._cache.get((script, key))
        if cached is None:
            cached = self._generate(key, script)
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[(script, key)] = cached
        out = [Candidate(c.sense_id, 0.0, dict(c.parts), c.alias, c.rank) for c in cached]
        if script == EN and mention.text == mention.text.lower() and any(is_wordnet_id(c.sense_id) for c in out):
            capitalised = capitalised_senses()
            for c in out:
                if case_mismatch(mention.text, c.alias, capitalised.get(c.sense_id, frozenset())):
                    c.parts["alias"] = min(c.parts["alias"], CASE_FOLDED)
        return out

    def invalidate(self) -> None:
        """Forget cached candidate lists (after the lexicon grew)."""
        self._cache.clear()

    def _generate(self, key: str, script: str) -> list[Candidate]:
        if not key:
            return []
        lex = self.lexicon
        hits = [(e, 1.0) for e in lex.entries(key, script)]
        if script == EN:
            lemma_key = " ".join(lex.lemma(t) for t in key.split(" "))
            if lemma_key != key:
                hits.extend((e, 1.0) for e in lex.entries(lemma_key, EN))
            for other, score in lex.fuzzy_keys(key, self.fuzzy_threshold, min(self.max_candidates, FUZZY_KEYS)):
                hits.extend((e, score / 100.0) for e in lex.entries(other, EN))
        return merge_hits(hits, self.max_candidates)


@register("linker.candidates", "alias_fuzzy")
def alias_candidate_generator(lexicon: Lexicon, **options: Any) -> AliasCandidateGenerator:
    """Default candidate generator."""
    return AliasCandidateGenerator(lexicon, **options)
