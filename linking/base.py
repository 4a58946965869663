"""The linking seam: detect mentions → generate candidate senses → disambiguate (or NIL).

Each step is a swappable component; ``Linker`` composes them. Every score that went into a
decision is kept on the result so a person can see why a sense was chosen.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from sensegraph.errors import ConfigError

if TYPE_CHECKING:
    from sensegraph.graph.model import AliasEntry, Sense

NIL: None = None  # the sense_id of a mention that links to nothing in the graph


@dataclass(frozen=True)
class Mention:
    """A span of the input text that names something in the alias table (or, from NER, a name)."""

    start: int
    end: int
    text: str
    lang: str = "en"
    key: str = ""  # the normalised alias key the detector matched ("" = derive from text)
    source: str = "alias"  # "alias" (lexicon match) or "ner" (statistical NER; kept even without candidates)
    salience: float = 1.0  # how central the mention is to the text (1 = its head noun; linking/salience.py)


@dataclass
class Candidate:
    """A candidate sense for a mention, its combined score and the parts it was combined from."""

    sense_id: str
    score: float = 0.0
    parts: dict[str, float] = field(default_factory=dict)
    alias: str = ""
    rank: int = 1


@dataclass
class LinkedMention:
    """A mention with its chosen sense (``None`` for NIL), confidence and all scored candidates."""

    start: int
    end: int
    text: str
    sense_id: str | None
    confidence: float
    candidates: list[Candidate] = field(default_factory=list)
    salience: float = 1.0  # from the Mention; search weighs a sense by confidence × salience

    @property
    def weight(self) -> float:
        """The mention's say in the second similarity before normalising: confidence × salience."""
        return float(self.confidence) * float(self.salience)

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "sense_id": self.sense_id,
            "confidence": round(float(self.confidence), 6),
            "candidates": [
                {"sense_id": c.sense_id, "score": round(float(c.score), 6),
                 "parts": {k: round(float(v), 6) for k, v in c.parts.items()}}
                for c in self.candidates
            ],
        }


Items = Sequence[tuple[str, Sequence[Mention], Sequence[list[Candidate]]]]  # (text, mentions, candidates per mention)


@runtime_checkable
class MentionDetector(Protocol):
    """Finds mentions; the linker also makes new aliases detectable and caches the built matchers."""

    def detect(self, text: str) -> list[Mention]: ...

    def detect_many(self, texts: Sequence[str]) -> list[list[Mention]]:
        """``detect`` for each text, in order; batched where the detector can (one tagger call)."""
        ...

    def add_aliases(self, entries: Iterable[AliasEntry]) -> int:
        """Make new alias entries detectable now; returns how many keys were new."""
        ...

    @property
    def matchers(self) -> Any:
        """What the build cache keeps of a built detector (``linking/build_cache.py``); None: nothing."""
        ...


@runtime_checkable
class CandidateGenerator(Protocol):
    def candidates(self, mention: Mention) -> list[Candidate]: ...

    def invalidate(self) -> None:
        """Forget what was cached per key: aliases were added."""
        ...


@runtime_checkable
class SenseReads(Protocol):
    """The cached sense reads a disambiguator scores from (``SenseKnowledge``)."""

    def senses(self, ids: Iterable[str]) -> dict[str, Sense]:
        """The known senses among ``ids``."""
        ...

    def forget_senses(self) -> None:
        """Drop cached sense records (their media counts feed the prior)."""
        ...


@runtime_checkable
class Disambiguator(Protocol):
    """Picks each mention's sense; the linker resolves candidates through its ``knowledge`` and
    tells that to forget its cached sense records after the graph was written."""

    knowledge: SenseReads

    def disambiguate_many(self, items: Items) -> list[list[LinkedMention]]:
        """Linked mentions of each (text, mentions, candidates) item, the embedding calls batched."""
        ...


def implements(part: Any, protocol: type, what: str) -> Any:
    """``part`` when it has every member ``protocol`` declares, else ``ConfigError`` naming them."""
    if not isinstance(part, protocol):
        names = [*getattr(protocol, "__annotations__", {}), *(n for n in vars(protocol) if not n.startswith("_"))]
        raise ConfigError(f"{what} must implement {protocol.__name__} ({', '.join(names)}), got {type(part).__name__}")
    return part


@runtime_checkable
class Linker(Protocol):
    """Text in, linked mentions out: everything ``SenseGraph``, ingest and the editor call on a linker."""

    def link(self, text: str) -> list[LinkedMention]:
        """Linked mentions of ``text`` in text order (``sense_id`` None for NIL)."""
        ...

    def link_many(self, texts: Sequence[str]) -> list[list[LinkedMention]]:
        """``link`` for several texts (one batched embedding call where the linker can)."""
        ...

    def add_aliases(self, entries: Iterable[AliasEntry]) -> int:
        """Make new alias entries linkable now, without a rebuild; returns how many keys were new."""
        ...

    def forget_senses(self) -> None:
        """Forget cached sense records so the next link reads the store again: call after the graph was
        written (the prior is SemCor's fixed counts, so evidence alone never changes a link; docs/linking.md)."""
        ...


__all__ = ["NIL", "Candidate", "LinkedMention", "Mention", "asdict"]
