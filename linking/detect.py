"""Mention detection: spaCy ``PhraseMatcher`` passes over the lexicon's aliases, longest match wins.

Three passes share one key space with the ``Lexicon``:

* exact — ``attr="LOWER"`` over the alias keys (case-insensitive);
* lemma — ``attr="NORM"`` where each text token's norm is set to its noun lemma (``geese`` →
  ``goose``, ``Rockets`` → ``rocket``), so inflected mentions find their base alias;
* Chinese — ``spacy.blank("zh")`` character tokens against ``zh`` aliases (黄金, 大鲨鱼, 火箭),
  run only when the text holds CJK characters.

Optionally, a statistical NER pass (a spaCy pipeline package named in ``linker.ner_model``, never
required) adds named-entity spans that no alias covers, so names missing from the graph come out as
NIL mentions instead of going unseen.

Overlapping hits resolve to the longest span (then the earliest, then exact over lemma). A
single-token stop word ("a", "in", "it" — all WordNet nouns) is not a mention unless written in
capitals exactly as an alias ("US", "IT"); single Latin letters never are.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sensegraph.errors import ConfigError
from sensegraph.graph.model import AliasEntry
from sensegraph.registry import register

from .base import Mention
from .lexicon import EN, ZH, Lexicon, is_cjk


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    key: str
    script: str
    exact: bool
    source: str = "alias"


class PhraseMatcherDetector:
    """Finds alias mentions in text; ``add_aliases`` extends the matchers without a rebuild."""

    def __init__(self, lexicon: Lexicon, *, skip_stopwords: bool = True, ner_model: str | None = None) -> None:
        from spacy.lang.en.stop_words import STOP_WORDS
        from spacy.matcher import PhraseMatcher

        self.lexicon = lexicon
        self.skip_stopwords = skip_stopwords
        self._stop = frozenset(STOP_WORDS)
        en_vocab = lexicon.nlp(EN).vocab
        self._exact = PhraseMatcher(en_vocab, attr="LOWER")
        self._lemma = PhraseMatcher(en_vocab, attr="NORM")
        self._zh: Any = None
        self._ner = load_ner(ner_model) if ner_model else None
        self._add_keys([(s, k) for s in (EN, ZH) for k in lexicon.by_key[s]])

    # -- building -------------------------------------------------------------------------------
    def add_aliases(self, entries: Iterable[AliasEntry]) -> int:
        """Index new alias entries and add patterns for their new keys; returns new keys added."""
        fresh = self.lexicon.add(entries)
        self._add_keys(fresh)
        return len(fresh)

    def _add_keys(self, keys: list[tuple[str, str]]) -> None:
        from spacy.tokens import Doc

        en = [k for s, k in keys if s == EN]
        zh = [k for s, k in keys if s == ZH]
        if en:
            vocab = self.lexicon.nlp(EN).vocab
            docs = []
            for k in en:
                doc = Doc(vocab, words=k.split(" "))
                for tok in doc:
                    if tok.norm_ != tok.lower_:
                        tok.norm_ = tok.lower_
                docs.append(doc)
            self._exact.add("ALIAS", docs)
            self._lemma.add("ALIAS", docs)
        if zh:
            from spacy.matcher import PhraseMatcher

            vocab = self.lexicon.nlp(ZH).vocab
            if self._zh is None:
                self._zh = PhraseMatcher(vocab, attr="LOWER")
            self._zh.add("ALIAS", [Doc(vocab, words=list(k)) for k in zh])

    # -- detection ------------------------------------------------------------------------------
    def detect(self, text: str) -> list[Mention]:
        """Non-overlapping alias mentions of ``text``, in text order."""
        if not text or text.isspace():
            return []
        has_cjk = any(is_cjk(c) for c in text)
        hits = self._en_hits(_blank_cjk(text) if has_cjk else text)
        if self._zh is not None and has_cjk:
            hits.extend(self._zh_hits(text))
        kept = longest_non_overlapping(hits)
        if self._ner is not None:
            kept = sorted(kept + self._ner_hits(text, kept), key=lambda h: h.start)
        return [Mention(h.start, h.end, text[h.start:h.end], ZH if h.script == ZH else EN, h.key, h.source)
                for h in kept]

    def _ner_hits(self, text: str, taken: list[_Hit]) -> list[_Hit]:
        """Named entities of the NER model that overlap no alias mention (aliases stay authoritative)."""
        out = []
        for ent in self._ner(text).ents:
            if ent.label_ in NER_LABELS and not any(h.start < ent.end_char and ent.start_char < h.end for h in taken):
                out.append(_Hit(ent.start_char, ent.end_char, ent.text.lower(), EN, True, "ner"))
        return out

    def _en_hits(self, text: str) -> list[_Hit]:
        doc = self.lexicon.nlp(EN).make_doc(text)
        hits = [self._hit(doc, s, e, True) for _, s, e in self._exact(doc)]
        lemma = self.lexicon.lemma
        changed = False
        for tok in doc:
            lem = lemma(tok.lower_)
            if lem != tok.norm_:
                tok.norm_ = lem
                changed = True
        if changed:
            hits.extend(self._hit(doc, s, e, False) for _, s, e in self._lemma(doc))
        return [h for h in hits if h is not None and self._keep(text, h)]

    def _hit(self, doc: Any, start: int, end: int, exact: bool) -> _Hit | None:
        span = doc[start:end]
        toks = [t.lower_ if exact else t.norm_ for t in span if not t.is_space]
        return _Hit(span.start_char, span.end_char, " ".join(toks), EN, exact)

    def _zh_hits(self, text: str) -> list[_Hit]:
        doc = self.lexicon.nlp(ZH).make_doc(text)
        out = []
        for _, s, e in self._zh(doc):
            span = doc[s:e]
            key = "".join(t.lower_ for t in span if not t.is_space)
            out.append(_Hit(span.start_char, span.end_char, key, ZH, True))
        return out

    def _keep(self, text: str, h: _Hit) -> bool:
        """Drop single Latin letters and lower/title-case stop words (see module docstring)."""
        if " " in h.key:
            return True
        surface = text[h.start:h.end]
        if len(surface) == 1 and not is_cjk(surface):
            return False
        if self.skip_stopwords and h.key in self._stop:
            return surface.isupper() and surface in self.lexicon.cased.get(h.key, ())
        return True


NER_LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "PRODUCT", "EVENT", "WORK_OF_ART"})


def load_ner(package: str) -> Any:
    """A spaCy pipeline package with an ``ner`` component, or a ConfigError saying what to install."""
    import spacy

    if not spacy.util.is_package(package):
        raise ConfigError(f"linker.ner_model {package!r} is not an installed spaCy pipeline package "
                          f"(pip install it, or set linker.ner_model to null)")
    nlp = spacy.load(package, exclude=["lemmatizer"])
    if "ner" not in nlp.pipe_names:
        raise ConfigError(f"spaCy pipeline {package!r} has no 'ner' component")
    return nlp


def _blank_cjk(text: str) -> str:
    """CJK characters and full-width punctuation as spaces (same offsets) for the English tokenizer."""
    return "".join(
        " " if is_cjk(c) or "\u3000" <= c <= "\u303f" or "\uff00" <= c <= "\uffef" else c for c in text
    )


def longest_non_overlapping(hits: list[_Hit]) -> list[_Hit]:
    """Greedy: longest span first, then earliest, then exact before lemma; result in text order."""
    order = sorted(hits, key=lambda h: (-(h.end - h.start), h.start, not h.exact))
    taken: list[_Hit] = []
    used: dict[int, bool] = {}
    for h in order:
        if any(used.get(i) for i in range(h.start, h.end)):
            continue
        for i in range(h.start, h.end):
            used[i] = True
        taken.append(h)
    return sorted(taken, key=lambda h: h.start)


@register("linker.detect", "phrase_matcher")
def phrase_matcher_detector(lexicon: Lexicon, **options: Any) -> PhraseMatcherDetector:
    """Default mention detector."""
    return PhraseMatcherDetector(lexicon, **options)
