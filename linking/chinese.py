"""Chinese text for the linker and the text encoder: jieba nouns as mentions, and a dictionary gloss.

* ``ChineseDetector`` wraps the English mention detector: text without CJK goes to it unchanged;
  in mixed text the English detector keeps the non-CJK parts and the CJK parts are segmented by
  jieba (its own ``Tokenizer``, the dictionary it ships). A mention is a jieba noun (tags ``n…``)
  whose text is a ``zh`` alias, a run of jieba words that together form a ``zh`` alias
  (休斯顿 + 火箭队 → the user's 休斯顿火箭队), or, for a noun that is no alias, the aliases inside it
  (火箭队 → 火箭, 队). Verbs, adjectives and particles are never mentions.
* Traditional characters are folded to simplified ones first (one character for one, so offsets
  hold), through CC-CEDICT's single-character entries: 鯊魚 is matched as 鲨鱼.
* ``to_english`` glosses Chinese through CC-CEDICT's first definition per jieba word, so the
  English text encoder (MiniLM) can place a Chinese query in the joint space; ``translating``
  wraps a text-embedding function with it.
"""
from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from sensegraph.errors import ValidationError
from sensegraph.graph.model import AliasEntry

from .base import Mention, MentionDetector
from .lexicon import ZH, Lexicon, has_cjk

MAX_CHARS = 200_000  # jieba is linear but slow (~0.5 MB/s): longer input is refused, never hung on
MAX_ALIAS_WORDS = 4  # jieba words an alias may span (休斯顿 + 火箭 + 队)
NOUN_TAGS = ("n",)  # jieba noun tags all start with n: n nr ns nt nz ng nrt nrfg
PLACE_TAG = "s"  # 桌上, 海里: a noun and a locative
LOCATIVES = frozenset("上下里内外中前后边旁间")
SKIP_TAGS = ("u", "x", "y", "e", "o", "w", "m", "q", "p", "c", "r")  # particles, punctuation, numbers, …
_lock = threading.Lock()


# -- jieba and the dictionary, loaded once ------------------------------------------------------
@lru_cache(maxsize=1)
def posseg() -> Any:
    """A private jieba POS tokenizer (the global one is left to others), initialised once."""
    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    with _lock:
        tok.initialize()
    return jieba.posseg.POSTokenizer(tok)


@lru_cache(maxsize=1)
def cedict_entries() -> tuple[Any, ...]:
    """CC-CEDICT's entries (the packaged file), parsed once per process for the tables below."""
    from sensegraph.graph.importers.cedict import load_cedict

    return tuple(load_cedict())


@lru_cache(maxsize=1)
def dictionary() -> tuple[dict[str, str], dict[str, str]]:
    """(headword → first usable English definition, traditional char → simplified char) from CC-CEDICT."""
    first: dict[str, str] = {}
    t2s: dict[str, str] = {}
    for e in cedict_entries():
        if len(e.traditional) == 1 and len(e.simplified) == 1 and e.traditional != e.simplified:
            t2s.setdefault(e.traditional, e.simplified)
        for head in (e.simplified, e.traditional):
            if head in first:
                continue
            gloss = first_definition(e.definitions)
            if gloss:
                first[head] = gloss
    return first, t2s


_DROP = re.compile(r"^(CL:|variant of|old variant|see |surname |used in |abbr\. |erhua variant)", re.IGNORECASE)


def first_definition(definitions: Sequence[str]) -> str:
    """The first definition that is not a cross-reference or classifier, without parentheses or "to"."""
    for d in definitions:
        if _DROP.match(d):
            continue
        bare = " ".join(re.sub(r"\([^()]*\)", " ", d).split()).split(";")[0].strip()
        if bare.lower().startswith("to "):
            bare = bare[3:]
        if bare:
            return bare
    return ""


def simplify(text: str) -> str:
    """Traditional characters folded to simplified, one for one (same length, same offsets)."""
    t2s = dictionary()[1]
    return "".join(t2s.get(c, c) for c in text)


@dataclass(frozen=True)
class Word:
    """A jieba word with its character offsets and part-of-speech tag."""

    start: int
    end: int
    text: str
    tag: str


def check_length(text: str) -> None:
    """A clear error for Chinese text longer than ``MAX_CHARS`` (before any tokenizer sees it)."""
    if len(text) > MAX_CHARS:
        raise ValidationError(f"Chinese text is {len(text):,} characters; the limit is {MAX_CHARS:,} — split it")


def segment(text: str) -> list[Word]:
    """jieba words of ``text`` (traditional folded to simplified) with offsets into ``text``."""
    check_length(text)
    plain = simplify(text)
    out, pos = [], 0
    for pair in posseg().cut(plain):
        w = pair.word
        out.append(Word(pos, pos + len(w), w, pair.flag))
        pos += len(w)
    return out


# -- mention detection ----------------------------------------------------------------------------
class ChineseDetector:
    """Mentions of mixed Chinese/English text: jieba nouns against ``zh`` aliases, English by ``base``."""

    def __init__(self, base: MentionDetector, lexicon: Lexicon) -> None:
        self.base = base
        self.lexicon = lexicon

    def add_aliases(self, entries: Iterable[AliasEntry]) -> int:
        """New aliases go through the English detector, which extends the shared lexicon."""
        return self.base.add_aliases(list(entries))

    @property
    def matchers(self) -> Any:
        """The English detector's (the Chinese part builds nothing to cache)."""
        return self.base.matchers

    def detect(self, text: str) -> list[Mention]:
        """English mentions of the non-CJK parts and Chinese mentions of the CJK parts, in text order."""
        return self.detect_many([text])[0]

    def detect_many(self, texts: Sequence[str]) -> list[list[Mention]]:
        """``detect`` for several texts, the English detector's tagging batched across them."""
        cjk = [has_cjk(text) for text in texts]
        for text, c in zip(texts, cjk):
            if c:
                check_length(text)  # before any work on a text jieba would take too long over
        return [self._with_chinese(text, found) if c else found
                for text, c, found in zip(texts, cjk, self.base.detect_many(texts))]

    def _with_chinese(self, text: str, found: list[Mention]) -> list[Mention]:
        """The English detector's mentions of a CJK text's other parts merged with its Chinese ones."""
        english = [m for m in found if not m.lang.startswith(ZH) and not has_cjk(m.text)]
        chinese = self._chinese(text)
        taken = [(m.start, m.end) for m in chinese]
        english = [m for m in english if not any(s < m.end and m.start < e for s, e in taken)]
        return sorted(english + chinese, key=lambda m: m.start)

    def _table(self) -> dict[str, list[AliasEntry]]:
        return self.lexicon.by_key[ZH]

    def _key(self, surface: str, folded: str) -> str | None:
        """The alias key a span matches: as written, else its simplified form."""
        table = self._table()
        for k in ("".join(surface.split()).lower(), "".join(folded.split()).lower()):
            if k and k in table:
                return k
        return None

    def _chinese(self, text: str) -> list[Mention]:
        words = segment(text)
        folded = simplify(text)
        out: list[Mention] = []
        i = 0
        while i < len(words):
            w = words[i]
            if not has_cjk(w.text) or w.tag.startswith(SKIP_TAGS):
                i += 1
                continue
            span = self._multi(text, folded, words, i)
            if span is not None:
                j, key = span
                out.append(Mention(w.start, words[j - 1].end, text[w.start:words[j - 1].end], ZH, key))
                i = j
                continue
            if w.tag.startswith(NOUN_TAGS) or w.tag == PLACE_TAG:
                key = self._key(text[w.start:w.end], w.text)
                if key is not None and w.tag != PLACE_TAG:
                    out.append(Mention(w.start, w.end, text[w.start:w.end], ZH, key))
                else:
                    out.extend(self._inside(text, folded, w))
            i += 1
        return out

    def _multi(self, text: str, folded: str, words: list[Word], i: int) -> tuple[int, str] | None:
        """(end word index, key) of the longest alias spanning 2+ words from word ``i`` with a noun in it."""
        for j in range(min(len(words), i + MAX_ALIAS_WORDS), i + 1, -1):
            group = words[i:j]
            if not any(g.tag.startswith(NOUN_TAGS) for g in group) or not all(has_cjk(g.text) for g in group):
                continue
            key = self._key(text[group[0].start:group[-1].end], folded[group[0].start:group[-1].end])
            if key is not None:
                return j, key
        return None

    def _inside(self, text: str, folded: str, w: Word) -> list[Mention]:
        """A noun that is no alias, read as the aliases it is made of, longest first, when they cover
        it whole (火箭队 → 火箭 + 队; 圣何塞, a name, stays unread); a place word drops its locative
        (桌上 → 桌)."""
        end = w.end - 1 if w.tag == PLACE_TAG and w.text[-1] in LOCATIVES and len(w.text) > 1 else w.end
        out: list[Mention] = []
        pos = w.start
        while pos < end:
            for stop in range(end, pos, -1):
                key = self._key(text[pos:stop], folded[pos:stop])
                if key is not None:
                    out.append(Mention(pos, stop, text[pos:stop], ZH, key))
                    pos = stop
                    break
            else:
                return []
        return out


def with_chinese(base: MentionDetector, lexicon: Lexicon) -> ChineseDetector:
    """The English detector ``base`` with jieba-based Chinese mentions added (idempotent)."""
    return base if isinstance(base, ChineseDetector) else ChineseDetector(base, lexicon)


# -- translation for the text encoder --------------------------------------------------------------
def to_english(text: str) -> str:
    """Chinese words replaced by CC-CEDICT's first definition (unknown words by their characters',
    a one-character noun right after a noun by its suffix reading: 鲨鱼队 → shark team), particles and
    punctuation dropped, non-Chinese text kept: what an English text encoder can read."""
    if not has_cjk(text):
        return text
    first = dictionary()[0]
    parts: list[str] = []
    prev: Word | None = None
    for w in segment(text):
        after_noun, prev = prev is not None and prev.end == w.start and prev.tag.startswith("n"), w
        if not has_cjk(w.text):
            if any(c.isalnum() for c in w.text):
                parts.append(w.text.strip())
            continue
        if w.tag.startswith(("u", "x", "y", "e", "o", "c")):
            continue
        if w.tag.startswith("m"):  # 一只, 三个: the number, not the classifier
            parts.append("a" if w.text[0] == "一" else first.get(w.text[0], ""))
            continue
        gloss = first.get(w.text) or first.get(text[w.start:w.end])
        if gloss and after_noun and len(w.text) == 1 and w.tag.startswith("n"):
            gloss = suffix_readings().get(w.text, gloss)  # 鲨鱼 + 队: jieba split the compound
        parts.extend([gloss] if gloss else known_pieces(w.text, first))
    return " ".join(p for p in parts if p) or text


def known_pieces(word: str, first: dict[str, str]) -> list[str]:
    """Definitions of the longest dictionary words inside ``word``, left to right; a last piece of one
    character is read as a suffix (火箭队 → rocket, team: see ``suffix_readings``)."""
    pieces, pos = [], 0
    while pos < len(word):
        for stop in range(len(word), pos, -1):
            if word[pos:stop] in first:
                pieces.append(word[pos:stop])
                pos = stop
                break
        else:
            pos += 1
    out = [first[p] for p in pieces]
    if len(pieces) > 1 and len(pieces[-1]) == 1:
        out[-1] = suffix_readings().get(pieces[-1], out[-1])
    return out


def usable_definitions(definitions: Sequence[str]) -> list[str]:
    """Every definition ``first_definition`` would accept, in order, each cut the same way."""
    return list(dict.fromkeys(d for d in (first_definition([x]) for x in definitions) if d))


@lru_cache(maxsize=1)
def suffix_readings() -> dict[str, str]:
    """For a one-character word with several definitions, the one its dictionary compounds use most.

    An unknown compound ending in 队 (火箭队, 鲨鱼队) is read like the dictionary's own compounds
    ending in 队 (球队 "sports team", 篮球队 "basketball team" …): "team", not the first definition,
    "squadron". Counted over CC-CEDICT once; a character no compound settles keeps its first definition.
    """
    from collections import Counter

    entries = cedict_entries()
    options: dict[str, list[str]] = {}
    for e in entries:
        if len(e.simplified) == 1 and e.simplified not in options:
            defs = usable_definitions(e.definitions)
            if len(defs) > 1:
                options[e.simplified] = defs
    plain = {ch: [(d, f" {_plain(d)} ") for d in defs] for ch, defs in options.items()}
    counts: dict[str, Counter[str]] = {}
    for e in entries:
        last = e.simplified[-1:]
        if len(e.simplified) < 2 or last not in plain:
            continue
        text = f" {_plain(' '.join(e.definitions))} "
        for d, needle in plain[last]:
            if needle in text:
                counts.setdefault(last, Counter())[d] += 1
    return {ch: c.most_common(1)[0][0] for ch, c in counts.items()}


_NON_LETTERS = re.compile(r"[^a-z]+")


def _plain(text: str) -> str:
    """Lowercase letters only, single-spaced: definitions compared word by word."""
    return " ".join(_NON_LETTERS.sub(" ", text.lower()).split())


EmbedTexts = Callable[[Sequence[str]], np.ndarray]


def translating(embed: EmbedTexts) -> EmbedTexts:
    """``embed`` that sees CJK texts through ``to_english`` (English texts untouched)."""

    def embed_translated(texts: Sequence[str]) -> np.ndarray:
        items = list(texts)
        return embed([to_english(t) if isinstance(t, str) and has_cjk(t) else t for t in items])

    embed_translated.__wrapped__ = embed  # type: ignore[attr-defined]
    return embed_translated
