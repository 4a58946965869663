"""How much a mention is what the text is about, from its place in the dependency parse.

The head noun of the root noun chunk ("cat" in "a cat sleeping", "kettle" in "an electric
kettle") and the nouns a root verb takes ("Rockets" and "Sharks" in "the Rockets beat the
Sharks") weigh 1; a noun hanging off another noun through a preposition ("keyboard" in "a mouse
next to the keyboard") halves per noun above it; a noun modifying a noun ("rocket" in "a rocket
launch") weighs ``MODIFIER``. A "noun" that takes a subject is a participle the tagger misread
("a boy diving": *boy* is the head, 1).  Search multiplies linking confidence by salience (``api/scoring.py``).
"""
from __future__ import annotations

from typing import Any

NOUN_TAGS = frozenset({"NOUN", "PROPN"})
MODIFIER_DEPS = frozenset({"compound", "amod", "nmod", "poss", "npadvmod"})
COORDINATE_DEPS = frozenset({"conj", "appos"})
MODIFIER = 0.35  # a noun modifying a noun: the head it modifies weighs ~3x as much
DECAY = 0.5  # per noun above the mention on its path to the sentence root
FLOOR = 0.2


def salience(dep: str, head_is_noun: bool, nouns_above: int) -> float:
    """Salience from the mention head's dependency label, its head's tag and the nouns above it."""
    if dep in MODIFIER_DEPS and head_is_noun:
        return MODIFIER
    return max(FLOOR, DECAY ** max(nouns_above, 0))


SUBJECT_DEPS = frozenset({"nsubj", "nsubjpass"})


def verb_like(token: Any) -> bool:
    """A token tagged as a noun that takes a subject: the tagger's misread participle ("a boy *diving*")."""
    return token.pos_ in NOUN_TAGS and any(c.dep_ in SUBJECT_DEPS for c in token.children)


def nouns_above(token: Any) -> int:
    """Nouns and proper nouns on the path from ``token`` (a spaCy token) up to its sentence root."""
    count, seen, cur = 0, {token.i}, token
    while cur.head.i != cur.i and cur.head.i not in seen:
        coordinate = cur.dep_ in COORDINATE_DEPS  # "a mouse and a bat": the bat is not under the mouse
        cur = cur.head
        seen.add(cur.i)
        count += cur.pos_ in NOUN_TAGS and not coordinate and not verb_like(cur)
    return count


def mention_salience(root: Any) -> float:
    """Salience of a mention whose span's syntactic root is the spaCy token ``root``."""
    head_is_noun = root.head.i != root.i and root.head.pos_ in NOUN_TAGS and not verb_like(root.head)
    return salience(root.dep_, head_is_noun, nouns_above(root))
