"""Noun lemmas without a model: WordNet's own plural exceptions plus morphy's suffix rules.

spaCy's lookup lemmatizer needs the ``spacy-lookups-data`` package; WordNet ships what nouns
need (``noun.exc``: "geese goose", and the detachment rules of ``morphy(7WN)``), so the lemma pass
of mention detection uses those. A rule's result counts only when it is a known word, so "bus"
stays "bus" unless "bu" is in the lexicon.
"""
from __future__ import annotations

import os
from collections.abc import Collection, Iterator
from functools import lru_cache
from pathlib import Path

# morphy(7WN) noun detachment rules, tried in order.
NOUN_SUFFIX_RULES: tuple[tuple[str, str], ...] = (
    ("ses", "s"),
    ("xes", "x"),
    ("zes", "z"),
    ("ches", "ch"),
    ("shes", "sh"),
    ("men", "man"),
    ("ies", "y"),
    ("s", ""),
)
DEFAULT_EXC_PATHS: tuple[str, ...] = ("/usr/share/wordnet/noun.exc",)
WORDNET_DIR_ENV = "SENSEGRAPH_WORDNET_DIR"


def suffix_candidates(word: str) -> Iterator[str]:
    """Base forms the detachment rules propose for a lowercase ``word`` (may be non-words)."""
    for suffix, replacement in NOUN_SUFFIX_RULES:
        if word.endswith(suffix) and len(word) > len(suffix) + 1:
            yield word[: -len(suffix)] + replacement


def lemma_of(word: str, known: Collection[str], exceptions: dict[str, str]) -> str:
    """The lowercase lemma of ``word``: an exception, else the first rule result in ``known``."""
    lower = word.lower()
    if lower in exceptions:
        return exceptions[lower]
    for base in suffix_candidates(lower):
        if base in known:
            return base
    return lower


def parse_exceptions(lines: Iterator[str] | list[str]) -> dict[str, str]:
    """``inflected base`` lines (``noun.exc``) to a dict; underscores become spaces."""
    out: dict[str, str] = {}
    for line in lines:
        parts = line.split()
        if len(parts) >= 2 and parts[0] not in out:
            out[parts[0].replace("_", " ")] = parts[1].replace("_", " ")
    return out


@lru_cache(maxsize=4)
def load_noun_exceptions(path: str | None = None) -> dict[str, str]:
    """WordNet's noun exception list when present (``$SENSEGRAPH_WORDNET_DIR`` or Debian's path), else {}."""
    paths = [path] if path else []
    env_dir = os.environ.get(WORDNET_DIR_ENV)
    if env_dir:
        paths.append(str(Path(env_dir) / "noun.exc"))
    paths.extend(DEFAULT_EXC_PATHS)
    for p in paths:
        if p and Path(p).is_file():
            with open(p, encoding="utf-8") as fh:
                return parse_exceptions(fh)
    return {}
