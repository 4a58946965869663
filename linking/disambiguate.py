"""Disambiguation: score every candidate on context, prior and coherence; softmax; NIL below threshold.

For candidate sense ``s`` of a mention ``m``:

    score(s) = w_context · cos(embed(window(m)), embed(text(s))) · (1 − strength)
             + w_prior   · prior(s)                  ((SemCor count + 1/rank), normalised over m's candidates,
                                                       × max(strength, prior_floor); strength =
                                                       1/(1 + 2·content words of context))
             + w_coherence · coherence(s)             (mean over nearby other mentions of max relatedness)
             + w_visual  · visual(s)                  (1 for a sense people photograph: ImageNet-12k, linking/visual.py)
             − w_alias   · (1 − alias(s))             (fuzzy alias similarity; 1 for exact/lemma hits)
    confidence(s) = softmax(score / temperature) over m's candidates

The context part shrinks as the prior's strength grows: for a bare noun ("A hand.", "a bat") the
cosine compares only the word with each sense text's wording, so the SemCor prior decides alone.
The prior's own say never falls below ``prior_floor`` (0.2 by default): in a short caption of a
picture ("small red cartoon car") three content words would leave it a seventh, and a rare sense
(an airship's gondola) then won by a few hundredths of cosine over the common one.
The mention is NIL when no candidate's alias matches it exactly (or by lemma) and the best
confidence is below ``nil_threshold``: NIL means "no sense fits", not "little context". The prior
reads WordNet's SemCor tag counts (imported with WordNet); evidence counts are not part of it, so
linking does not depend on what was ingested before (docs/linking.md). Relatedness of two
senses is the larger of Milne–Witten over closed neighbour sets (Milne & Witten 2008,
https://www.aaai.org/Papers/Workshops/2008/WS-08-15/WS08-15-005.pdf) and 1/(1 + d) for the
shortest path d through a shared hypernym ancestor within two hops each. The functions at the
top are pure; ``ContextDisambiguator`` gathers their inputs from ``SenseKnowledge`` and the
text embedder.
"""
from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from sensegraph.registry import register

from .base import NIL, Candidate, LinkedMention, Mention
from .knowledge import SenseKnowledge
from .visual import picturable_senses

EmbedTexts = Callable[[Sequence[str]], np.ndarray]
PART_NAMES = ("context", "prior", "coherence", "visual", "alias")
COHERENCE_WINDOW = 4  # other mentions considered on each side
SHARED_WINDOW_TOKENS = 48  # neighbouring mentions share one context window up to this many tokens
ANCESTOR_HOPS = 2
_TOKEN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|[^\s\u3400-\u9fff\uf900-\ufaff]+")


# -- pure scoring ------------------------------------------------------------------------------
def token_bounds(text: str) -> tuple[list[int], list[int]]:
    """Start and end offsets of the tokens ``context_window`` counts, computed once per text."""
    starts, ends = [], []
    for m in _TOKEN.finditer(text):
        starts.append(m.start())
        ends.append(m.end())
    return starts, ends


Bounds = tuple[list[int], list[int]]
_SENTENCE_END = re.compile(r"[.!?\u3002\uff01\uff1f\u2026]+[\"'\u201d\u2019)\]]*$")
_CJK_END = "\u3002\uff01\uff1f"  # 。！？ end a sentence whatever follows
_OPENERS = "\"'\u201c\u2018(["
_NOT_AN_END = frozenset({"mr.", "mrs.", "ms.", "dr.", "st.", "prof.", "sr.", "jr.", "vs.", "no.", "mt.", "ft."})


def sentence_starts(text: str, bounds: Bounds) -> list[int]:
    """Index of each sentence's first token: after ``.``/``!``/``?`` before a capital, digit or quote,
    after ``。！？``, and at a blank line (abbreviations such as "Mr." or "U.S." do not end one)."""
    starts, ends = bounds
    out = [0]
    for i in range(len(starts) - 1):
        tok, nxt = text[starts[i]:ends[i]], text[starts[i + 1]:ends[i + 1]]
        if text.count("\n", ends[i], starts[i + 1]) >= 2:
            out.append(i + 1)
            continue
        if not _SENTENCE_END.search(tok):
            continue
        bare = tok.rstrip("\"'\u201d\u2019)]")
        if bare[-1] in _CJK_END:
            out.append(i + 1)
        elif bare.lower() in _NOT_AN_END or "." in bare[:-1] or (len(bare) == 2 and bare[0].isalpha()):
            continue
        elif nxt[0].isupper() or nxt[0].isdigit() or nxt[0] in _OPENERS or _TOKEN.fullmatch(nxt[0]) and "\u3400" <= nxt[0]:
            out.append(i + 1)
    return out


def window_span(
    start: int, end: int, n_tokens: int, bounds: Bounds, sentences: Sequence[int] | None = None
) -> tuple[int, int, int, int]:
    """``(lo, hi, first, last)``: the characters of a mention's context window and the token indices
    they cover, kept inside the mention's sentence when ``sentences`` (``sentence_starts``) is given."""
    starts, ends = bounds
    left = bisect_right(ends, start)  # tokens ending at or before the mention
    right = bisect_left(starts, end)  # first token starting at or after the mention's end
    first = max(0, left - n_tokens)
    last = min(len(ends), right + n_tokens) - 1
    if sentences and ends:
        k = bisect_right(sentences, min(left, len(ends) - 1)) - 1
        first = max(first, sentences[k])
        if k + 1 < len(sentences):
            last = min(last, sentences[k + 1] - 1)
    lo = min(start, starts[first]) if first < left else start
    hi = max(end, ends[last]) if right <= last else end
    return lo, hi, min(first, left), max(last, right - 1)


def context_window(
    text: str, start: int, end: int, n_tokens: int, bounds: Bounds | None = None,
    sentences: Sequence[int] | None = None,
) -> str:
    """The mention plus up to ``n_tokens`` tokens each side (a CJK character counts as a token),
    within its sentence when ``sentences`` is given."""
    lo, hi, _, _ = window_span(start, end, n_tokens, bounds if bounds is not None else token_bounds(text), sentences)
    return " ".join(text[lo:hi].split())


def shared_windows(
    spans: Sequence[tuple[int, int]], n_tokens: int, bounds: Bounds, max_tokens: int,
    sentences: Sequence[int] | None = None,
) -> list[tuple[int, int]]:
    """Character range of each mention's context window, neighbours sharing one where they crowd.

    Mentions in text order join one group while they are in one sentence and the union of their own
    windows (``window_span``) spans at most ``max_tokens`` tokens; the group embeds that union once.
    Every mention keeps at least its own window, a lone mention exactly its own; ``max_tokens`` 0
    gives every mention its own window. A dense document then embeds a window or two per sentence,
    not one per mention.
    """
    own = [window_span(s, e, n_tokens, bounds, sentences) for s, e in spans]
    sentence = [bisect_right(sentences, max(own_i[2], 0)) if sentences else 0 for own_i in own]
    out: list[tuple[int, int]] = [(0, 0)] * len(spans)
    group: list[int] = []
    box = (0, 0, 0, 0)  # lo, hi, first, last of the group's union

    def flush() -> None:
        for i in group:
            out[i] = (box[0], box[1])

    for i in sorted(range(len(spans)), key=lambda k: spans[k]):
        lo, hi, first, last = own[i]
        if group:
            union = (min(box[0], lo), max(box[1], hi), min(box[2], first), max(box[3], last))
            if sentence[i] == sentence[group[0]] and union[3] - union[2] + 1 <= max_tokens:
                group.append(i)
                box = union
                continue
            flush()
        group, box = [i], (lo, hi, first, last)
    if group:
        flush()
    return out


PRIOR_SMOOTHING = 1.0  # pseudo-count at rank 1 (PRIOR_SMOOTHING / rank at rank r): no counts → 1/rank
PRIOR_CONTEXT_SCALE = 0.5  # the prior's say halves with every half content word of context
_WORD = re.compile(r"[^\W\d_]+")


def prior_strength(context_words: int, scale: float = PRIOR_CONTEXT_SCALE) -> float:
    """``1 / (1 + n/scale)``: full for a bare noun ("A hand."), fading as the context can decide."""
    return 1.0 / (1.0 + max(context_words, 0) / scale)


def context_words(text: str, start: int, end: int, n_tokens: int, bounds: Bounds | None = None,
                  sentences: Sequence[int] | None = None) -> int:
    """Content words (not stop words) in the mention's context window, outside the mention."""
    from spacy.lang.en.stop_words import STOP_WORDS

    window = context_window(text, start, end, n_tokens, bounds, sentences)
    mention = " ".join(text[start:end].split())
    rest = window.replace(mention, " ", 1)
    return sum(1 for w in _WORD.findall(rest) if w.lower() not in STOP_WORDS)


def prior_scores(ranks: Sequence[int], tag_counts: Sequence[int]) -> list[float]:
    """``tag_count + PRIOR_SMOOTHING / rank`` normalised to sum 1 over one mention's candidates."""
    raw = [max(n, 0) + PRIOR_SMOOTHING / max(r, 1) for r, n in zip(ranks, tag_counts)]
    total = sum(raw)
    return [x / total for x in raw] if total > 0 else [0.0 for _ in raw]


def milne_witten(a: frozenset[str], b: frozenset[str], total: int) -> float:
    """Milne–Witten relatedness of two neighbour sets in a graph of ``total`` nodes, in [0, 1]."""
    common = len(a & b)
    if common == 0:
        return 0.0
    big, small = max(len(a), len(b)), min(len(a), len(b))
    denom = math.log(total) - math.log(small)
    if denom <= 0:
        return 1.0
    return max(0.0, 1.0 - (math.log(big) - math.log(common)) / denom)


def ancestor_relatedness(a: Mapping[str, int], b: Mapping[str, int]) -> float:
    """``1 / (1 + d)`` for the shortest path ``d`` through a shared ancestor; 0 when none."""
    if len(a) > len(b):
        a, b = b, a
    best = min((da + b[x] for x, da in a.items() if x in b), default=None)
    return 0.0 if best is None else 1.0 / (1.0 + best)


def relatedness(
    a: str, b: str, nbrs: Mapping[str, frozenset[str]], anc: Mapping[str, Mapping[str, int]], total: int
) -> float:
    """Graph relatedness of two senses (1.0 for the same sense)."""
    if a == b:
        return 1.0
    mw = milne_witten(nbrs.get(a, frozenset([a])), nbrs.get(b, frozenset([b])), total)
    return max(mw, ancestor_relatedness(anc.get(a, {a: 0}), anc.get(b, {b: 0})))


def coherence_scores(
    keys: Sequence[str],
    candidates: Sequence[Sequence[str]],
    rel: Callable[[str, str], float],
    window: int = COHERENCE_WINDOW,
) -> list[list[float]]:
    """Per mention, per candidate: mean over nearby mentions with another key of the best relatedness."""
    out: list[list[float]] = []
    for i, cands in enumerate(candidates):
        others = [
            j for j in range(max(0, i - window), min(len(candidates), i + window + 1))
            if j != i and keys[j] != keys[i] and candidates[j]
        ]
        if not others:
            out.append([0.0] * len(cands))
            continue
        out.append([
            sum(max(rel(c, o) for o in candidates[j]) for j in others) / len(others) for c in cands
        ])
    return out


def combine(parts: Mapping[str, float], weights: Mapping[str, float]) -> float:
    """The linear score of one candidate from its parts (see the module docstring)."""
    return (
        weights.get("context", 0.0) * parts.get("context", 0.0)
        + weights.get("prior", 0.0) * parts.get("prior", 0.0)
        + weights.get("coherence", 0.0) * parts.get("coherence", 0.0)
        + weights.get("visual", 0.0) * parts.get("visual", 0.0)
        - weights.get("alias", 0.0) * (1.0 - parts.get("alias", 1.0))
    )


def softmax(scores: Sequence[float], temperature: float) -> list[float]:
    """Numerically stable softmax of ``scores / temperature``."""
    if not scores:
        return []
    top = max(scores)
    exps = [math.exp((s - top) / temperature) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]


def decide(
    mention: Mention, cands: list[Candidate], weights: Mapping[str, float], temperature: float, nil_threshold: float
) -> LinkedMention:
    """Score, rank and choose (or NIL) for one mention whose candidates carry their parts."""
    for c in cands:
        c.score = combine(c.parts, weights)
    cands.sort(key=lambda c: (-c.score, c.rank, c.sense_id))
    probs = softmax([c.score for c in cands], temperature)
    best = probs[0] if probs else 0.0
    fits = bool(cands) and (cands[0].parts.get("alias", 1.0) >= 1.0 or best >= nil_threshold)
    sense = cands[0].sense_id if fits else NIL
    return LinkedMention(mention.start, mention.end, mention.text, sense, best, cands, mention.salience)


# -- the component -----------------------------------------------------------------------------
class ContextDisambiguator:
    """Fills each candidate's parts from the store and the text embedder, then ``decide``s."""

    def __init__(
        self,
        knowledge: SenseKnowledge,
        embed_texts: EmbedTexts | None,
        *,
        weights: Mapping[str, float],
        temperature: float = 0.1,
        nil_threshold: float = 0.25,
        context_window: int = 12,
        coherence_window: int = COHERENCE_WINDOW,
        shared_window_tokens: int = SHARED_WINDOW_TOKENS,
        sentence_windows: bool = True,
        prior_floor: float = 0.2,
    ) -> None:
        self.knowledge = knowledge
        self.embed_texts = embed_texts
        self.weights = dict(weights)
        self.temperature = temperature
        self.nil_threshold = nil_threshold
        self.window = context_window
        self.coherence_window = coherence_window
        self.shared_window_tokens = shared_window_tokens
        self.sentence_windows = sentence_windows
        self.prior_floor = prior_floor
        self._vectors: dict[str, np.ndarray] = {}
        self._rel_cache: dict[tuple[str, str], float] = {}

    def disambiguate(
        self, text: str, mentions: Sequence[Mention], candidates: Sequence[list[Candidate]]
    ) -> list[LinkedMention]:
        return self.disambiguate_many([(text, mentions, candidates)])[0]

    def disambiguate_many(
        self, items: Sequence[tuple[str, Sequence[Mention], Sequence[list[Candidate]]]]
    ) -> list[list[LinkedMention]]:
        """Score the candidates of several texts with one batched embedding call each way."""
        counts = self.knowledge.tag_counts()
        visual = picturable_senses() if self.weights.get("visual", 0.0) > 0 else frozenset()
        self._fill_context(items)
        if self.weights.get("coherence", 0.0) > 0:
            self._fill_coherence(items)
        out = []
        for text, mentions, cand_lists in items:
            linked = []
            bounds, sentences = self._bounds(text)
            for m, cands in zip(mentions, cand_lists):
                ranks = [c.rank for c in cands]
                tags = [counts.get(c.alias.lower(), {}).get(c.sense_id, 0) for c in cands]
                strength = prior_strength(context_words(text, m.start, m.end, self.window, bounds, sentences)) if cands else 0.0
                for c, p in zip(cands, prior_scores(ranks, tags)):
                    c.parts["prior"] = p * max(strength, self.prior_floor)
                    c.parts["context"] = c.parts.get("context", 0.0) * (1.0 - strength)
                    c.parts.setdefault("coherence", 0.0)
                    c.parts["visual"] = 1.0 if c.sense_id in visual else 0.0
                linked.append(decide(m, cands, self.weights, self.temperature, self.nil_threshold))
            out.append(linked)
        return out

    def _bounds(self, text: str) -> tuple[Bounds, list[int] | None]:
        """Token offsets of ``text`` and, with ``sentence_windows``, its sentences' first tokens."""
        bounds = token_bounds(text)
        return bounds, sentence_starts(text, bounds) if self.sentence_windows else None

    # -- parts that need the store or the embedder ------------------------------------------------
    def _fill_context(self, items: Sequence[tuple[str, Sequence[Mention], Sequence[list[Candidate]]]]) -> None:
        if self.embed_texts is None or self.weights.get("context", 0.0) == 0.0:
            return
        windows, owners = [], []
        for text, mentions, cand_lists in items:
            bounds, sentences = self._bounds(text)
            # a bare noun's context part is scaled by 1 − prior strength = 0: its sense texts need no embedding
            scored = [(m, cands) for m, cands in zip(mentions, cand_lists)
                      if cands and context_words(text, m.start, m.end, self.window, bounds, sentences) > 0]
            spans = shared_windows([(m.start, m.end) for m, _ in scored], self.window, bounds,
                                   self.shared_window_tokens, sentences)
            for (lo, hi), (_, cands) in zip(spans, scored):
                windows.append(" ".join(text[lo:hi].split()))
                owners.append(cands)
        if not windows:
            return
        ids = list(dict.fromkeys(c.sense_id for cands in owners for c in cands))
        sense_vecs = self._sense_vectors(ids)
        position = {w: i for i, w in enumerate(dict.fromkeys(windows))}  # a short text's windows are all the text
        vecs = _as_matrix(self.embed_texts(list(position)), len(position))
        ctx = vecs[[position[w] for w in windows]]
        for row, cands in zip(ctx, owners):
            for c in cands:
                v = sense_vecs.get(c.sense_id)
                c.parts["context"] = float(np.dot(row, v)) if v is not None else 0.0

    def _sense_vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Embeddings of sense texts, computed lazily and cached by sense id."""
        todo = [i for i in ids if i not in self._vectors]
        if todo:
            texts = self.knowledge.texts(todo)
            have = [i for i in todo if i in texts]
            if have:
                vecs = _as_matrix(self.embed_texts([texts[i] for i in have]), len(have))  # type: ignore[misc]
                self._vectors.update(zip(have, vecs))
        return {i: self._vectors[i] for i in ids if i in self._vectors}

    def _fill_coherence(self, items: Sequence[tuple[str, Sequence[Mention], Sequence[list[Candidate]]]]) -> None:
        ids = list(dict.fromkeys(c.sense_id for _, _, cs in items for cl in cs for c in cl))
        if not ids or all(len(cs) < 2 for _, _, cs in items):
            return
        nbrs = self.knowledge.neighbour_sets(ids)
        anc = self.knowledge.ancestors(ids, ANCESTOR_HOPS)
        total = self.knowledge.total_senses()
        cache = self._rel_cache

        def rel(a: str, b: str) -> float:
            key = (a, b) if a < b else (b, a)
            val = cache.get(key)
            if val is None:
                val = cache[key] = relatedness(a, b, nbrs, anc, total)
            return val

        for _text, mentions, cand_lists in items:
            keys = [m.key or m.text.lower() for m in mentions]
            scores = coherence_scores(keys, [[c.sense_id for c in cl] for cl in cand_lists], rel, self.coherence_window)
            for cl, row in zip(cand_lists, scores):
                for c, s in zip(cl, row):
                    c.parts["coherence"] = s
        if len(cache) > 500_000:
            cache.clear()


def _as_matrix(x: Any, n: int) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float32)
    if arr.ndim != 2 or arr.shape[0] != n:
        from sensegraph.errors import ValidationError

        raise ValidationError(f"embed_texts returned shape {arr.shape}, expected ({n}, d)")
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    return arr / np.maximum(norms, 1e-12)


@register("linker.disambiguate", "context")
def context_disambiguator(knowledge: SenseKnowledge, embed_texts: EmbedTexts | None, **options: Any) -> ContextDisambiguator:
    """Default disambiguator."""
    return ContextDisambiguator(knowledge, embed_texts, **options)
