"""The linker's lexicon: the store's alias table indexed by normalised key, per script.

One ``Lexicon`` is shared by mention detection (which needs the keys and tokenizers) and
candidate generation (which needs key → alias entries and a fuzzy index). Keys are the alias's
spaCy tokens lowercased and joined by one space (``"new york"``); Chinese aliases (lang ``zh…``)
are tokenized per character by ``spacy.blank("zh")`` and joined without spaces.
"""
from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sensegraph.graph.model import AliasEntry

from .morphology import lemma_of, load_noun_exceptions

ZH = "zh"
EN = "en"


def script_of(lang: str) -> str:
    """``zh`` for Chinese aliases (character matching), ``en`` for every space-separated language."""
    return ZH if (lang or "").lower().startswith("zh") else EN


def is_cjk(ch: str) -> bool:
    """True for a CJK unified ideograph (the characters the zh matcher works on)."""
    o = ord(ch)
    return 0x3400 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x2FA1F


_CJK = re.compile("[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")  # ``is_cjk``'s ranges


def has_cjk(text: str) -> bool:
    """Whether ``text`` holds a CJK ideograph (``is_cjk``), by one regex scan: it runs over every text embedded."""
    return _CJK.search(text) is not None


def length_bounds(length: int, threshold: float) -> tuple[int, int]:
    """Lengths a string may have and still reach ``fuzz.ratio >= threshold`` against one of ``length``."""
    t = max(min(threshold / 100.0, 1.0), 1e-6)
    lo = math.ceil(length * t / (2.0 - t) - 1e-9)
    hi = math.floor(length * (2.0 - t) / t + 1e-9)
    return max(lo, 1), max(hi, length)


class Lexicon:
    """Alias entries by normalised key, the known-word set for lemmas, and a bucketed fuzzy index."""

    def __init__(self, entries: Iterable[AliasEntry] = (), *, exceptions: dict[str, str] | None = None) -> None:
        self.exceptions = load_noun_exceptions() if exceptions is None else exceptions
        self.by_key: dict[str, dict[str, list[AliasEntry]]] = {EN: {}, ZH: {}}
        self.cased: dict[str, set[str]] = defaultdict(set)  # en key -> alias texts as written
        self.known: set[str] = set()  # lowercase en tokens of all aliases (lemma targets)
        self.sense_aliases: dict[str, list[str]] = defaultdict(list)
        self._fuzzy: dict[tuple[str, int], list[str]] = defaultdict(list)
        self._nlp: dict[str, Any] = {}
        self._seen: set[tuple[str, str, str, str]] = set()
        self.add(entries)

    # -- tokenizers -----------------------------------------------------------------------------
    def nlp(self, script: str) -> Any:
        """``spacy.blank("en")`` or ``spacy.blank("zh")`` (character segmentation), built once."""
        if script not in self._nlp:
            import spacy

            self._nlp[script] = spacy.blank(ZH if script == ZH else EN)
        return self._nlp[script]

    def key(self, text: str, script: str = EN) -> str:
        """The lookup key of an alias or a span text."""
        doc = self.nlp(script).make_doc(text)
        return doc_key(doc, script)

    def lemma(self, token_lower: str) -> str:
        """A token's noun lemma when the lexicon knows it, else the token itself."""
        return lemma_of(token_lower, self.known, self.exceptions)

    # -- building -------------------------------------------------------------------------------
    def add(self, entries: Iterable[AliasEntry]) -> list[tuple[str, str]]:
        """Index ``entries``; returns the ``(script, key)`` pairs that were new (for the matchers)."""
        fresh: list[tuple[str, str]] = []
        batch: dict[str, list[AliasEntry]] = {EN: [], ZH: []}
        for e in entries:
            ident = (e.alias, e.lang, e.entity_id, e.sense_id)
            if ident in self._seen or not e.alias.strip():
                continue
            self._seen.add(ident)
            batch[script_of(e.lang)].append(e)
        for script, items in batch.items():
            if not items:
                continue
            keys = self._keys(sorted({e.alias for e in items}), script)
            table = self.by_key[script]
            for e in items:
                k = keys[e.alias]
                if not k:
                    continue
                if k not in table:
                    table[k] = []
                    fresh.append((script, k))
                    if script == EN:
                        self.known.update(k.split(" "))
                        self._fuzzy[(k[0], len(k))].append(k)
                table[k].append(e)
                if script == EN:
                    self.cased[k].add(e.alias)
                if e.alias not in self.sense_aliases[e.sense_id]:
                    self.sense_aliases[e.sense_id].append(e.alias)
        return fresh

    def _keys(self, texts: list[str], script: str) -> dict[str, str]:
        """Keys of many alias texts; plain words skip the tokenizer (same result, ~10x faster)."""
        out: dict[str, str] = {}
        slow: list[str] = []
        if script == EN:
            rules = self._special_cases()
            for t in texts:
                words = t.split(" ")
                if all(w.isascii() and w.isalpha() and w not in rules and w.lower() not in rules for w in words):
                    out[t] = t.lower()
                else:
                    slow.append(t)
        else:
            slow = texts
        for t, doc in zip(slow, self.nlp(script).tokenizer.pipe(slow)):
            out[t] = doc_key(doc, script)
        return out

    def _special_cases(self) -> frozenset[str]:
        """Strings the English tokenizer splits by exception ("cannot" → "can not")."""
        if "_rules" not in self._nlp:
            self._nlp["_rules"] = frozenset(self.nlp(EN).tokenizer.rules or ())
        return self._nlp["_rules"]

    # -- lookups --------------------------------------------------------------------------------
    def entries(self, key: str, script: str = EN) -> list[AliasEntry]:
        return self.by_key[script].get(key, [])

    def fuzzy_keys(self, key: str, threshold: float, limit: int) -> list[tuple[str, float]]:
        """Other en keys with ``fuzz.ratio >= threshold`` (same first character), best first."""
        if len(key) < 4 or limit <= 0:
            return []
        from rapidfuzz import fuzz, process

        lo, hi = length_bounds(len(key), threshold)
        pool = [k for n in range(lo, hi + 1) for k in self._fuzzy.get((key[0], n), ()) if k != key]
        if not pool:
            return []
        hits = process.extract(key, pool, scorer=fuzz.ratio, score_cutoff=threshold, limit=limit)
        return [(k, float(score)) for k, score, _ in hits]

    def __len__(self) -> int:
        return len(self._seen)


def doc_key(doc: Any, script: str) -> str:
    """Lowercased tokens joined by a space (en) or nothing (zh); whitespace tokens dropped."""
    toks = [t.lower_ for t in doc if not t.is_space]
    return ("" if script == ZH else " ").join(toks)
