"""``EntityLinker``: text → detected mentions → candidate senses → disambiguated senses (or NIL).

The steps are swappable (pass instances, or register factories under ``linker.detect``,
``linker.candidates``, ``linker.disambiguate``); by default the lexicon is built from the store's
alias table on first use and cached on the linker, so a ``SenseGraph`` can create a linker cheaply;
with ``cache_dir`` the built lexicon and matchers are also kept on disk for the next process
(``linking/build_cache.py``).
"""
from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from sensegraph.config import LinkerConfig
from sensegraph.errors import ConfigError, ValidationError, describe_errors
from sensegraph.graph.base import GraphStore
from sensegraph.graph.model import AliasEntry
from sensegraph.registry import get

from . import candidates as _candidates  # noqa: F401  (registers the default)
from . import detect as _detect  # noqa: F401
from . import disambiguate as _disambiguate  # noqa: F401
from .base import Candidate, CandidateGenerator, Disambiguator, LinkedMention, Mention, MentionDetector, implements
from .chinese import with_chinese
from .disambiguate import EmbedTexts
from .knowledge import SenseKnowledge
from .lexicon import Lexicon

DETECTOR = "phrase_matcher"
CANDIDATES = "alias_fuzzy"
DISAMBIGUATOR = "context"


def clean_text(text: Any, max_chars: int) -> str:
    """Validate link input; control characters and lone surrogates become spaces (offsets kept)."""
    if not isinstance(text, str):
        raise ValidationError(f"text to link must be a string, got {type(text).__name__}")
    if len(text) > max_chars:
        raise ValidationError(
            f"text to link is {len(text):,} characters; the limit is {max_chars:,} "
            "(linker.max_text_chars) — split the document or raise the limit"
        )
    if text.isprintable():
        return text
    return "".join(
        " " if (unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\n\t") else ch for ch in text
    )


def check_config(config: LinkerConfig | Mapping[str, Any] | None) -> LinkerConfig:
    """A validated ``LinkerConfig`` (re-validated, so constructed-without-validation values are caught)."""
    if config is None:
        return LinkerConfig()
    data = config.model_dump() if isinstance(config, LinkerConfig) else dict(config)
    try:
        return LinkerConfig.model_validate(data)
    except PydanticValidationError as exc:
        details = describe_errors(exc.errors(), prefix="linker.")
        raise ConfigError(f"invalid linker configuration: {details}") from exc


class EntityLinker:
    """Links text to senses of a ``GraphStore``; every candidate's score parts stay on the result."""

    def __init__(
        self,
        store: GraphStore,
        embed_texts: EmbedTexts | None = None,
        config: LinkerConfig | Mapping[str, Any] | None = None,
        *,
        detector: MentionDetector | None = None,
        candidate_generator: CandidateGenerator | None = None,
        disambiguator: Disambiguator | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        if not isinstance(store, GraphStore):
            raise ConfigError(f"EntityLinker needs a GraphStore, got {type(store).__name__}")
        if embed_texts is not None and not callable(embed_texts):
            raise ConfigError(f"embed_texts must be callable or None, got {type(embed_texts).__name__}")
        self.store = store
        self.embed_texts = embed_texts
        self.config = check_config(config)
        for part, protocol, what in ((detector, MentionDetector, "detector"), (disambiguator, Disambiguator, "disambiguator"),
                                     (candidate_generator, CandidateGenerator, "candidate_generator")):
            if part is not None:
                implements(part, protocol, what)  # ConfigError naming what a part handed in lacks
        self._detector = detector
        self._candidates = candidate_generator
        self._disambiguator = disambiguator
        self._lexicon: Lexicon | None = None
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None  # lexicon + matchers cached there
        self._built: tuple[str, Any] | None = None  # (alias digest, cached matchers or None) of the lexicon

    # -- lazily built parts (cached on the linker) --------------------------------------------------
    @property
    def lexicon(self) -> Lexicon:
        if self._lexicon is None:
            entries = self.store.alias_table()
            if self.cache_dir is None or self._detector is not None:
                self._lexicon = Lexicon(entries)
            else:
                from . import build_cache

                digest = build_cache.alias_digest(entries)
                cached = build_cache.load(self.cache_dir, digest)
                self._lexicon = cached[0] if cached else Lexicon(entries)
                self._built = (digest, cached[1] if cached else None)
        return self._lexicon

    @property
    def detector(self) -> MentionDetector:
        if self._detector is None:
            lexicon = self.lexicon
            options: dict[str, Any] = {"ner_model": self.config.ner_model, "pos_model": self.config.pos_model}
            if self._built is not None and self._built[1] is not None:
                options["matchers"] = self._built[1]
            built = implements(get("linker.detect", DETECTOR)(lexicon, **options), MentionDetector, "linker.detect")
            if self._built is not None and self._built[1] is None and built.matchers is not None:
                from . import build_cache

                build_cache.save(self.cache_dir, self._built[0], lexicon, built.matchers)
            self._detector = with_chinese(built, self.lexicon)  # jieba for CJK (linking/chinese.py)
        return self._detector

    @property
    def candidate_generator(self) -> CandidateGenerator:
        if self._candidates is None:
            cfg = self.config
            self._candidates = implements(get("linker.candidates", CANDIDATES)(
                self.lexicon, fuzzy_threshold=cfg.fuzzy_threshold, max_candidates=cfg.max_candidates
            ), CandidateGenerator, "linker.candidates")
        return self._candidates

    @property
    def disambiguator(self) -> Disambiguator:
        if self._disambiguator is None:
            cfg = self.config
            self._disambiguator = implements(get("linker.disambiguate", DISAMBIGUATOR)(
                SenseKnowledge(self.store, self.lexicon),
                self.embed_texts,
                weights=self.weights,
                temperature=cfg.temperature,
                nil_threshold=cfg.nil_threshold,
                context_window=cfg.context_window,
                prior_floor=cfg.prior_floor,
            ), Disambiguator, "linker.disambiguate")
        return self._disambiguator

    @property
    def weights(self) -> dict[str, float]:
        cfg = self.config
        return {"context": cfg.w_context, "prior": cfg.w_prior, "coherence": cfg.w_coherence,
                "visual": cfg.w_visual, "alias": cfg.w_alias}

    # -- public API ---------------------------------------------------------------------------------
    def link(self, text: str) -> list[LinkedMention]:
        """Linked mentions of ``text`` in text order (``sense_id`` None for NIL)."""
        return self.link_many([text])[0]

    def link_many(self, texts: Sequence[str]) -> list[list[LinkedMention]]:
        """``link`` for several texts, with the embedding calls batched across them."""
        if isinstance(texts, str):
            raise ValidationError("link_many takes a list of strings, not a single string")
        cleaned = [clean_text(t, self.config.max_text_chars) for t in texts]
        found = self.detector.detect_many(cleaned)
        return self._disambiguate([self._with_candidates(t, ms) for t, ms in zip(cleaned, found)])

    def link_spans(self, text: str, spans: Sequence[tuple[int, int]]) -> list[LinkedMention]:
        """Disambiguate given character spans (gold mentions); other detected mentions give coherence."""
        return self.link_spans_many([(text, spans)])[0]

    def link_spans_many(
        self, items: Sequence[tuple[str, Sequence[tuple[int, int]]]]
    ) -> list[list[LinkedMention]]:
        """``link_spans`` for several texts at once (one batched embedding call)."""
        prepared, forced_all = [], []
        for raw, spans in items:
            text = clean_text(raw, self.config.max_text_chars)
            forced = []
            for start, end in spans:
                if not (0 <= start < end <= len(text)):
                    raise ValidationError(f"span ({start}, {end}) is outside the text of length {len(text)}")
                forced.append(Mention(start, end, text[start:end]))
            others = [
                m for m in self.detector.detect(text)
                if not any(m.start < f.end and f.start < m.end for f in forced)
            ]
            mentions = sorted(forced + others, key=lambda m: m.start)
            prepared.append(self._with_candidates(text, mentions, keep_empty=forced))
            forced_all.append(forced)
        out = []
        for linked, forced in zip(self._disambiguate(prepared), forced_all):
            by_span = {(lm.start, lm.end): lm for lm in linked}
            out.append([by_span[(f.start, f.end)] for f in forced])
        return out

    def add_aliases(self, entries: Iterable[AliasEntry]) -> int:
        """Add alias entries to the matcher and lexicon without a rebuild; returns new keys."""
        added = self.detector.add_aliases(list(entries))
        self.candidate_generator.invalidate()
        return added

    def forget_senses(self) -> None:
        """Forget the disambiguator's cached sense records, so the next link reads the store again."""
        if self._disambiguator is not None:  # none built yet: nothing cached
            self._disambiguator.knowledge.forget_senses()

    # -- steps --------------------------------------------------------------------------------------
    def _with_candidates(
        self, text: str, mentions: Sequence[Mention], keep_empty: Sequence[Mention] = ()
    ) -> tuple[str, list[Mention], list[list[Candidate]]]:
        """Candidates per mention, restricted to live senses (redirects followed)."""
        gen = self.candidate_generator
        raw = [gen.candidates(m) for m in mentions]
        live = self._live({c.sense_id for cl in raw for c in cl})
        kept_m, kept_c = [], []
        for m, cl in zip(mentions, raw):
            cands = _resolve(cl, live)
            if cands or m in keep_empty or m.source == "ner":  # a named entity not in the graph is NIL
                kept_m.append(m)
                kept_c.append(cands)
        return text, kept_m, kept_c

    def _live(self, ids: set[str]) -> dict[str, str]:
        """sense id → the live sense id it stands for (redirects followed once; unknown ids dropped)."""
        out = {}
        for sid, sense in self.disambiguator.knowledge.senses(ids).items():
            out[sid] = self.store.resolve(sid) if sense.redirect_to else sid
        return out

    def _disambiguate(self, items: list[tuple[str, list[Mention], list[list[Candidate]]]]) -> list[list[LinkedMention]]:
        return self.disambiguator.disambiguate_many(items)


def _resolve(cands: list[Candidate], live: Mapping[str, str]) -> list[Candidate]:
    """Drop candidates of unknown senses, replace redirected ones by their target (deduplicated)."""
    out: dict[str, Candidate] = {}
    for c in cands:
        target = live.get(c.sense_id)
        if target is None:
            continue
        if target in out:
            continue
        c.sense_id = target
        out[target] = c
    return list(out.values())
