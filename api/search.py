"""The query engine: link the text, gather candidates from the store, re-score exactly, explain.

The match formula α·cos(q, ê) + β·Σ w_k·cos(p_k, f̂) is linear in a medium's two unit vectors, so
the candidates are one store query for the top-K′ by the formula itself (``GraphStore.search_match``
with ``scoring.formula_query``): a medium reachable only through its sense is found whenever its
score earns it, and one good on both similarities but best on neither is not lost, as it would be
with a union of per-similarity top-K′ lists. Both stores answer it from one index over the paired
``[joint | native]`` rows. Candidates are then re-scored from their vectors for the explanation.
"""
from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from sensegraph.config import SenseGraphConfig
from sensegraph.errors import NotFound, ValidationError
from sensegraph.graph.base import GraphStore
from sensegraph.graph.model import MODALITIES, MediaFilter, Prototype, SearchContext, SensePrototypes
from sensegraph.linking.base import LinkedMention
from sensegraph.linking.lexicon import is_cjk

from . import centring, fusion, handoff
from .matcher.hook import plan_for as matcher_plan
from .results import Hit, ModalityScore, SearchResult, SenseScore
from .scoring import cosine_rows, formula_query, match_scores, normalise_weights, rank, unrepresented_weight

MAX_QUERY_CHARS = 10_000


@dataclass(frozen=True)
class LinkedSense:
    """A sense the query links to, the prototype chosen for it and its weight before normalising."""

    sense_id: str
    confidence: float
    prototype: Prototype
    modality: str = ""  # the modality block this part of a sense's prototype covers (multimodal stores)
    trust: float = 1.0  # 1 for an own or curated prototype; a propagated one's confidence × search.propagated_weight


def sense_weights(linked: Sequence[LinkedSense], unrepresented: float = 0.0) -> np.ndarray:
    """w_k: the linked senses' weights normalised (``scoring.normalise_weights``), then each scaled by how
    far its prototype is trusted, so a guessed (propagated) prototype never takes all of β: the share it
    does not earn is left out of Σ w_k and the text decides more (docs/gnn.md, "what search does with it")."""
    w = normalise_weights([ls.confidence for ls in linked], unrepresented)
    return w * np.asarray([ls.trust for ls in linked], dtype=np.float64) if len(w) else w


def validate_query(text: str) -> str:
    if not isinstance(text, str):
        raise ValidationError(f"query must be a string, got {type(text).__name__}")
    text = text.strip()
    if not text:
        raise ValidationError("query is empty")
    if len(text) > MAX_QUERY_CHARS:
        raise ValidationError(f"query is {len(text)} characters; the limit is {MAX_QUERY_CHARS}")
    return text


def as_filter(filters: MediaFilter | Mapping[str, object] | None) -> MediaFilter | None:
    if filters is None or isinstance(filters, MediaFilter):
        return filters
    known = set(MediaFilter.__dataclass_fields__)
    unknown = set(filters) - known
    if unknown:
        raise ValidationError(f"unknown filter(s) {sorted(unknown)}; known: {sorted(known)}")
    values = dict(filters)
    if "exclude_ids" in values:
        values["exclude_ids"] = tuple(values["exclude_ids"])  # type: ignore[arg-type]
    return MediaFilter(**values)  # type: ignore[arg-type]


def with_modality(filters: MediaFilter | Mapping[str, object] | None, modality: str | None) -> MediaFilter | None:
    """``filters`` restricted to media of one ``modality`` (image, video, audio); ValidationError naming the valid ones."""
    flt = as_filter(filters)
    if modality is None:
        return flt
    if modality not in MODALITIES:
        raise ValidationError(f"unknown modality {modality!r}; valid: {', '.join(MODALITIES)}")
    return replace(flt or MediaFilter(), modality=modality)


def find_word(text: str, word: str) -> tuple[int, int] | None:
    """The first (start, end) of ``word`` in ``text`` as a whole word, ignoring case (CJK: anywhere)."""
    w = word.strip()
    before = "" if is_cjk(w[0]) else r"(?<!\w)"
    after = "" if is_cjk(w[-1]) else r"(?!\w)"
    m = re.search(before + re.escape(w) + after, text, re.IGNORECASE)
    return (m.start(), m.end()) if m else None


def pin_mentions(text: str, mentions: list[LinkedMention], pins: Mapping[str, str] | None) -> list[tuple[LinkedMention, bool]]:
    """The linker's mentions with ``pins`` ({word: sense_id}) applied, each with whether it is pinned.

    A pin naming a mention's text overrides its sense (confidence 1); a pinned word of the query the
    linker did not detect becomes a mention of its own, replacing those it overlaps; a pinned word
    that is not in the query is a ValidationError naming it.
    """
    if pins is not None and not isinstance(pins, Mapping):
        raise ValidationError(f"senses must map a word of the query to a sense id, got {type(pins).__name__}")
    out = [(m, False) for m in mentions]
    for word, sense_id in (pins or {}).items():
        if not isinstance(word, str) or not word.strip():
            raise ValidationError(f"a pinned word must be a non-empty string, got {word!r}")
        if not isinstance(sense_id, str) or not sense_id.strip():
            raise ValidationError(f"the sense pinned for {word!r} must be a non-empty sense id, got {sense_id!r}")
        key = word.strip().casefold()
        at = next((i for i, (m, _) in enumerate(out) if m.text.casefold() == key), None)
        if at is not None:
            out[at] = (replace(out[at][0], sense_id=sense_id, confidence=1.0), True)
            continue
        span = find_word(text, word)
        if span is None:
            found = ", ".join(repr(m.text) for m, _ in out) or "none"
            raise ValidationError(f"pinned word {word!r} is not in the query {text!r} (its mentions: {found})")
        start, end = span
        out = [(m, p) for m, p in out if m.end <= start or m.start >= end]
        out.append((LinkedMention(start, end, text[start:end], sense_id, 1.0), True))
    out.sort(key=lambda mp: mp[0].start)
    return out


def chosen_senses(mentions: Sequence[LinkedMention]) -> list[tuple[str, float]]:
    """(sense_id, weight) of the linked mentions, one per sense at its highest weight; a mention's
    weight is its linking confidence × its salience (the query's head noun outweighs a modifier)."""
    merged: dict[str, float] = {}
    for m in mentions:
        if m.sense_id is not None:
            merged[m.sense_id] = max(merged.get(m.sense_id, 0.0), float(m.weight))
    return list(merged.items())


def apply_pins(mentions: list[LinkedMention], pins: Mapping[str, str] | None, text: str = "") -> list[tuple[str, float]]:
    """``chosen_senses`` after ``pin_mentions`` (``text``: the query, where pinned words not linked are looked for)."""
    return chosen_senses([m for m, _ in pin_mentions(text, mentions, pins)])


class SearchEngine:
    """Ranks media for a text by the match formula over one store, encoder and linker."""

    def __init__(self, store: GraphStore, encoder, linker, config: SenseGraphConfig, *, embed_texts=None) -> None:
        self.store, self.encoder, self.linker, self.config = store, encoder, linker, config
        self._embed_texts = embed_texts
        self._head: Any = None
        self._head_loaded = False

    def match_head(self) -> Any:
        """The store's saved match head for this encoder (read once per engine), None without one."""
        if not self._head_loaded:
            from sensegraph.matcher.saved import load_head

            self._head, self._head_loaded = load_head(self.store, self.encoder.encoder_id), True
        return self._head

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Joint-space text vectors through the function the linker embeds context with (behind a
        memo, when given), so a short query the linker just embedded is not embedded again."""
        return (self._embed_texts or self.encoder.embed_texts)(texts)

    # -- public ------------------------------------------------------------------------------
    def search(
        self,
        text: str,
        k: int = 10,
        *,
        alpha: float | None = None,
        beta: float | None = None,
        filters: MediaFilter | Mapping[str, object] | None = None,
        threshold: float | str | None = None,
        senses: Mapping[str, str] | None = None,
    ) -> SearchResult:
        text = validate_query(text)
        if k < 1:
            raise ValidationError(f"k must be at least 1, got {k}")
        t0 = time.perf_counter()
        mentions = pin_mentions(text, self.linker.link(text), senses)
        t_link = time.perf_counter() - t0
        q = self.embed_texts([text])[0]
        linked, missing, handed, unrepresented = self.query_senses(mentions)
        result = self._rank(q, linked, k, alpha, beta, as_filter(filters), threshold, text, unrepresented, text_query=True)
        result.linked = [{**m.to_dict(), "pinned": pinned} for m, pinned in mentions]
        result.metadata["senses_without_prototype"] = missing
        result.metadata["weight_handed_on"] = handed
        result.metadata["text_only"] = not linked
        result.metadata["link_seconds"] = round(t_link, 6)
        result.metadata["seconds"] = round(time.perf_counter() - t0, 6)
        return result

    def recommend(self, media_id: str, k: int = 10, *, alpha: float | None = None, beta: float | None = None) -> SearchResult:
        """Media like ``media_id`` by the same formula: its joint embedding and its senses' prototypes."""
        medium = self.store.get_media([media_id]).get(media_id)
        if medium is None:
            raise NotFound(f"no medium with id {media_id!r}")
        if medium.embedding is None:
            raise ValidationError(f"medium {media_id!r} has no embedding")
        evidence = [(e.sense_id, e.confidence) for e in self.store.evidence(media_id=media_id) if not e.detached]
        linked = self.linked_senses(evidence)
        flt = MediaFilter(exclude_ids=(media_id,))
        return self._rank(medium.embedding, linked, k, alpha, beta, flt, None, f"media:{media_id}")

    def similar(self, query: str | None = None, *, media_id: str | None = None, k: int = 10) -> SearchResult:
        """Pure vector neighbours: a text in the joint space, or a medium in the native space."""
        if (query is None) == (media_id is None):
            raise ValidationError("give exactly one of a text or a media_id")
        if query is not None:
            vec, space, flt, label = self.embed_texts([validate_query(query)])[0], "joint", None, query
        else:
            medium = self.store.get_media([media_id]).get(media_id)
            if medium is None or medium.features is None:
                raise NotFound(f"no medium with native features and id {media_id!r}")
            vec, space, flt, label = medium.features, "native", MediaFilter(exclude_ids=(media_id,)), f"media:{media_id}"
        found = self.store.search_media(vec, k, space=space, filters=flt)
        media = self.store.get_media([m for m, _ in found], vectors=False)
        hits = [
            Hit(rank=i + 1, media_id=mid, uri=media[mid].uri if mid in media else "", match=s, sim1=s if space == "joint" else 0.0,
                sim2=s if space == "native" else 0.0, caption=media[mid].caption if mid in media else None)
            for i, (mid, s) in enumerate(found)
        ]
        return SearchResult(query=label, hits=hits, metadata=self._meta(space=space))

    # -- the parts ---------------------------------------------------------------------------
    def query_senses(self, mentions: Sequence[tuple[LinkedMention, bool]]
                     ) -> tuple[list[LinkedSense], list[str], dict[str, list[str]], float]:
        """From a query's ``(mention, pinned)`` pairs: the linked senses with their prototypes (represented
        candidates counted by probability, weight handed on from senses without media), the chosen senses
        without a prototype, what was handed on to whom, and the weight that stays out of β."""
        chosen = chosen_senses([m for m, _ in mentions])
        ctx = self.read_context(mentions, chosen)  # one store read for all of the below
        linked = self.linked_senses(chosen, ctx.senses)
        missing = self.without_prototype(chosen, linked, ctx.senses)
        missing_h = missing
        share = self.config.search.candidate_share
        if share > 0:  # every represented candidate counts by its linking probability (media-aware weights)
            others = handoff.candidate_weights([m for m, p in mentions if not p], self.config.linker.temperature, share)
            soft = self.linked_senses([(s, w) for s, w in others.items() if s not in dict(chosen)], ctx.senses)
            linked = handoff.merge(linked, soft)
            soft_ids = {ls.sense_id for ls in soft}
            covered = {m.sense_id for m, _ in mentions if any(c.sense_id in soft_ids for c in (m.candidates or []))}
            missing_h = [s for s in missing if s not in covered]
        extra, handed = (handoff.hand_on(self.store, [m for m, _ in mentions], missing_h, dict(chosen),
                                         lambda pairs: self.linked_senses(pairs, ctx.senses), self.config.linker.temperature,
                                         near=ctx.relatives)
                         if self.config.search.hand_on else ([], {}))
        linked = handoff.merge(linked, extra)  # a sense without media hands its weight on (docs/linking.md)
        unrepresented = unrepresented_weight([w for sid, w in chosen if sid in missing_h and sid not in handed],
                                             [ls.confidence for ls in linked])  # stays out of β
        return linked, missing, handed, unrepresented

    def read_context(self, mentions: Sequence[tuple[LinkedMention, bool]], chosen: Sequence[tuple[str, float]]) -> SearchContext:
        """The query's senses in one store read (``GraphStore.search_context``): the chosen senses and every
        candidate of its linked mentions (candidate shares, a close runner-up) with their prototypes, and for
        a chosen sense holding none, its relatives within ``handoff.HOPS`` with theirs (the hand-on)."""
        ids = [sid for sid, _ in chosen] + [c.sense_id for m, _ in mentions if m.sense_id is not None for c in (m.candidates or [])]
        expand = [sid for sid, _ in chosen] if self.config.search.hand_on else []
        return self.store.search_context(ids, expand, hops=handoff.HOPS, max_visited=handoff.MAX_VISITED)

    def linked_senses(self, chosen: Sequence[tuple[str, float]],
                      known: Mapping[str, SensePrototypes] | None = None) -> list[LinkedSense]:
        """Pick each sense's prototype: its own with enough evidence, else the propagated one (from
        ``known``, what ``read_context`` read; the store is asked only for ids not in it)."""
        if not chosen:
            return []
        found = self._prototypes([sid for sid, _ in chosen], known)
        out: list[LinkedSense] = []
        for sid, conf in chosen:
            live, p, prop = found[sid].sense_id, found[sid].own, found[sid].propagated
            if p is not None and (p.source == "curated" or p.media_count >= self.config.search.min_own_media):
                out.append(LinkedSense(live, conf, p))
            elif prop is not None:
                out.append(LinkedSense(live, conf, prop, trust=prop.confidence * self.config.search.propagated_weight))
        return out

    def without_prototype(self, chosen: Sequence[tuple[str, float]], linked: Sequence[LinkedSense],
                          known: Mapping[str, SensePrototypes] | None = None) -> list[str]:
        """The chosen senses ``linked_senses`` found no prototype for: they add nothing to sim2."""
        have = {ls.sense_id for ls in linked}
        rest = [sid for sid, _ in chosen if sid not in have]
        found = self._prototypes(rest, known)
        return [sid for sid in rest if found[sid].sense_id not in have]

    def _prototypes(self, ids: Sequence[str], known: Mapping[str, SensePrototypes] | None) -> Mapping[str, SensePrototypes]:
        """``known`` with the ``sense_prototypes`` of the ids it lacks (one read: redirects and both slots)."""
        todo = [sid for sid in dict.fromkeys(ids) if sid not in (known or {})]
        return {**(known or {}), **self.store.sense_prototypes(todo)} if todo else (known or {})

    def _rank(self, q, linked, k, alpha, beta, flt, threshold, label, unrepresented: float = 0.0, *,
              text_query: bool = False) -> SearchResult:
        a = self.config.search.alpha if alpha is None else float(alpha)
        b = self.config.search.beta if beta is None else float(beta)
        for name, value in (("alpha", a), ("beta", b)):
            if not np.isfinite(value) or value < 0:
                raise ValidationError(f"{name} must be a finite number >= 0, got {value}")
        plan = matcher_plan(self, threshold, text_query=text_query, alpha=a, beta=b)  # head re-rank, threshold="auto"
        linked = self._centre(linked) if b > 0 and not getattr(self.encoder, "native_blocks", None) else linked  # distinctive directions only (api/centring.py; per modality block in _by_modality)
        kp = max(self.config.search.candidates, k)
        weights = sense_weights(linked, unrepresented) if b > 0 else np.zeros(0)
        linked, weights = self._by_modality(linked, weights)  # one part per modality of each prototype (api/fusion.py)
        t0 = time.perf_counter()
        # records: the hits re-scored next (a head re-ranks all K'), which a server store reads with the query
        found = self.store.search_match(*formula_query(q, [ls.prototype.vector for ls in linked], weights, a, b), kp, filters=flt,
                                        records=kp if plan.head is not None else k)
        t_vec = time.perf_counter() - t0
        # the store ranked by the formula itself: only the best k need re-scoring for their explanation
        # (K' is what a store ranking from partial lists, like Neo4j's, draws from; more costs nothing here)
        ids = [m for m, _ in (found if plan.head is not None else found[:k])]  # a head re-ranks all K'
        if not ids:
            return SearchResult(query=label, hits=[], metadata=self._meta(alpha=a, beta=b, vector_seconds=t_vec, **plan.meta(0, None)))
        joint = self._rows(ids, "joint", len(q))
        sim1 = cosine_rows(joint, q)  # a medium lacking a part scores 0 there
        if b > 0 and linked:
            native = self._rows(ids, "native", len(linked[0].prototype.vector))
            per_sense = np.stack([cosine_rows(native, ls.prototype.vector) for ls in linked], axis=1)
        else:
            per_sense = np.zeros((len(ids), 0), dtype=np.float32)
        match, sim2 = match_scores(sim1, per_sense, weights, a, b)
        order, head = plan.scores(q, joint, sim1, per_sense, weights, [ls.confidence for ls in linked], match)
        top = rank(order, k, plan.threshold)
        records = self.store.get_media([ids[i] for i in top], vectors=False)  # full records for the hits only
        hits = []
        for r, idx in enumerate(top):
            m = records.get(ids[idx])
            senses = [
                SenseScore(sense_id=ls.sense_id, weight=float(weights[j]), sim=float(per_sense[idx, j]), prototype=ls.prototype.source)
                for j, ls in enumerate(linked)
            ] if per_sense.shape[1] else []
            hits.append(Hit(rank=r + 1, media_id=ids[idx], uri=m.uri if m else "", match=float(match[idx]), sim1=float(sim1[idx]),
                            sim2=float(sim2[idx]), senses=senses, caption=m.caption if m else None,
                            head=None if head is None else float(head[idx])))
        self._explain_modalities(hits, linked)
        return SearchResult(query=label, hits=hits, metadata=self._meta(alpha=a, beta=b, candidates=len(found), vector_seconds=round(t_vec, 6),
                                                                        **plan.meta(len(hits), order)))

    def _by_modality(self, linked: list[LinkedSense], weights: np.ndarray) -> tuple[list[LinkedSense], np.ndarray]:
        """Split each prototype into its modality blocks, each at unit length with the sense's weight, so
        images are scored against image evidence and sounds against sound evidence (no blocks: unchanged)."""
        blocks = getattr(self.encoder, "native_blocks", None)
        if not blocks or not len(weights):
            return linked, weights
        vecs, ws, owner = fusion.expand_by_modality([ls.prototype.vector for ls in linked], weights, blocks)
        means = self._block_means(blocks) if self.config.search.centre > 0 else {}
        vecs = [fusion.centre_part(v, m, means, self.config.search.centre, blocks) for v, (_, m) in zip(vecs, owner)]
        parts = [LinkedSense(linked[k].sense_id, linked[k].confidence, replace(linked[k].prototype, vector=v), m)
                 for v, (k, m) in zip(vecs, owner)]
        return parts, ws

    def _block_means(self, blocks) -> dict[str, np.ndarray]:
        """Each modality's mean unit feature over a sample of the store's media, refreshed as the collection's is."""
        at, means = self.__dict__.get("_block_means_cache", (-float("inf"), {}))
        if time.monotonic() - at >= centring.REFRESH_S:
            rows = []
            for batch in self.store.iter_media(batch_size=1000, vectors=True):
                rows += [m.features for m in batch if m.features is not None]
                if len(rows) >= centring.SAMPLE:
                    break
            means = fusion.block_means(rows[: centring.SAMPLE], blocks, self.config.search.centre_min_media)
            self.__dict__["_block_means_cache"] = (time.monotonic(), means)
        return means

    def _explain_modalities(self, hits: list[Hit], linked: list[LinkedSense]) -> None:
        """Each hit's modalities (multimodal stores): the gate's weight in the medium and that modality's score."""
        blocks = getattr(self.encoder, "native_blocks", None)
        if not blocks or not hits:
            return
        native = self._rows([h.media_id for h in hits], "native", sum(int(w) for _, w in blocks))
        owner = [(0, ls.modality) for ls in linked]
        for hit, row in zip(hits, native):
            for part, ls in zip(hit.senses, linked):
                part.modality = ls.modality or None
            parts = fusion.explain_modalities(row, [s.sim for s in hit.senses], [s.weight for s in hit.senses], owner, blocks)
            hit.modalities = [ModalityScore(modality=p.modality, weight=p.weight, score=p.score) for p in parts]

    def _centre(self, linked: list[LinkedSense]) -> list[LinkedSense]:
        """Prototypes less the collection's mean native feature (``search.centre`` strength; 0: as stored)."""
        cfg = self.config.search
        if cfg.centre <= 0 or not linked:
            return linked
        mean = self.__dict__.get("_collection_mean")
        if mean is None:
            mean = self.__dict__["_collection_mean"] = centring.CollectionMean(self.store, cfg.centre_min_media)
        return centring.centre_senses(linked, mean.get(), cfg.centre)

    def _rows(self, ids: list[str], space: str, dim: int) -> np.ndarray:
        """Vectors of ``ids`` in ``space``, row-aligned; a medium without one gets a zero row (scores 0)."""
        found, vectors = self.store.media_vectors(ids, space)
        rows = np.zeros((len(ids), dim), dtype=np.float32)
        if found:
            pos = {m: i for i, m in enumerate(ids)}
            rows[[pos[m] for m in found]] = vectors
        return rows

    def _meta(self, **extra: object) -> dict[str, object]:
        return {"store": self.store.name, "encoder": self.encoder.encoder_id, **extra}
