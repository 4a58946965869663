"""Training pairs from the store's own evidence: captions against the media the formula ranks for them.

Each captioned medium with counting evidence is one training query (its caption). Its candidates are
the formula's top K′ among media whose senses the store knows (media without evidence have no label):

* positive: the caption's own medium (weight 1), and media whose primary sense is the caption
  medium's primary sense (``same_sense_weight``): what a query about that thing should find;
  with ``short_queries``, the caption's heaviest mention of its medium's senses ("baseball bat") is
  a query too, every medium of that primary sense a positive of weight 1 (searches are short);
* negative: media sharing no sense with the caption's medium (weight 1);
* hard negative: media of another sense of the same word (``hard_weight``): "bat" the club for a
  caption about the animal;
* media sharing only a minor sense are left out.

The caption medium's own evidence is taken out of its senses' mean prototypes (leave-one-out), so
sim2 in training is what a query gets for a medium that did not build the prototype.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from sensegraph.graph.prototypes import WeightPolicy, evidence_weight
from sensegraph.scoring import cosine_rows

from .features import FormulaParts, pair_features

if TYPE_CHECKING:  # sensegraph.search imports the matcher for its hook: importing search at load would be a cycle
    from sensegraph.search import LinkedSense


@dataclass(frozen=True)
class PairPolicy:
    """Labels and weights of training pairs."""

    same_sense_weight: float = 0.5
    hard_weight: float = 2.0
    short_queries: bool = True  # also the caption's head mention alone ("baseball bat"): searches are short


@dataclass
class Pairs:
    """Feature rows, labels, weights, the training query each row belongs to, and counts."""

    x: np.ndarray
    y: np.ndarray
    weight: np.ndarray
    query: np.ndarray
    media: list[str]
    counts: dict[str, int]


@dataclass(frozen=True)
class _Labelled:
    ids: list[str]
    joint: np.ndarray
    native: np.ndarray
    caption: dict[str, str]
    senses: dict[str, dict[str, float]]  # media id -> sense id -> counting weight
    primary: dict[str, str]


def labelled_media(store: Any, policy: WeightPolicy) -> _Labelled:
    """Media with counting evidence, their vectors, captions and sense weights."""
    senses: dict[str, dict[str, float]] = defaultdict(dict)
    for ev in store.evidence():
        w = evidence_weight(ev, policy)
        if w > 0:
            senses[ev.media_id][ev.sense_id] = max(w, senses[ev.media_id].get(ev.sense_id, 0.0))
    ids, joint, native, caption = [], [], [], {}
    for batch in store.iter_media(vectors=True):
        for m in batch:
            if m.media_id in senses and m.embedding is not None and m.features is not None:
                ids.append(m.media_id)
                joint.append(m.embedding)
                native.append(m.features)
                if m.caption:
                    caption[m.media_id] = m.caption
    primary = {mid: max(s.items(), key=lambda kv: (kv[1], kv[0]))[0] for mid, s in senses.items()}
    dim_j = store_dim(joint)
    dim_n = store_dim(native)
    return _Labelled(ids, np.asarray(joint, np.float32).reshape(-1, dim_j), np.asarray(native, np.float32).reshape(-1, dim_n),
                     caption, dict(senses), primary)


def store_dim(rows: Sequence[np.ndarray]) -> int:
    return int(len(rows[0])) if rows else 0


def same_word_senses(store: Any, sense_ids: set[str]) -> dict[str, set[str]]:
    """Sense → the other senses of any word (entity) it is a sense of, among ``sense_ids``."""
    by_entity: dict[str, set[str]] = defaultdict(set)
    for row in store.alias_table():
        if row.sense_id in sense_ids:
            by_entity[row.entity_id].add(row.sense_id)
    out: dict[str, set[str]] = defaultdict(set)
    for group in by_entity.values():
        for s in group:
            out[s] |= group - {s}
    return dict(out)


def leave_one_out(ls: LinkedSense, features: np.ndarray, weight: float) -> LinkedSense | None:
    """``ls`` with one medium's evidence taken out of its mean prototype (None: nothing left)."""
    p = ls.prototype
    if weight <= 0 or p.source != "media" or p.strategy != "mean" or p.weight <= 0:
        return ls
    rest = p.weight - weight
    if rest <= 1e-9 or p.media_count <= 1:
        return None
    total = np.asarray(p.vector, np.float64) * p.norm * p.weight - weight * np.asarray(features, np.float64)
    n = float(np.linalg.norm(total))
    if n <= 1e-12:
        return None
    return replace(ls, prototype=replace(p, vector=(total / n).astype(np.float32), media_count=p.media_count - 1, weight=rest))


def query_senses(engine: Any, mentions: Sequence[Any]) -> tuple[list[LinkedSense], float]:
    """The linked senses and the unrepresented weight ``SearchEngine.search`` derives from a caption's
    mentions (none pinned), by the engine's own ``query_senses``."""
    linked, _, _, unrep = engine.query_senses([(m, False) for m in mentions])
    return linked, unrep


def formula_parts(q: np.ndarray, joint: np.ndarray, native: np.ndarray, linked: Sequence[LinkedSense],
                  unrepresented: float, beta: float, engine: Any = None) -> FormulaParts:
    """The formula's parts for rows ``joint``/``native`` (the same arithmetic as ``SearchEngine._rank``:
    with ``engine``, its centred prototypes and per-modality parts)."""
    linked = list(linked)
    blocks = getattr(getattr(engine, "encoder", None), "native_blocks", None)
    if engine is not None and beta > 0 and hasattr(engine, "_centre") and not blocks:
        linked = engine._centre(linked)  # a store with modality blocks is centred per block, in _by_modality
    from sensegraph.search import sense_weights  # lazily: search imports the matcher's hook at load

    weights = sense_weights(linked, unrepresented) if beta > 0 else np.zeros(0)
    if engine is not None and hasattr(engine, "_by_modality"):
        linked, weights = engine._by_modality(linked, weights)
    sim1 = cosine_rows(joint, q)
    if beta > 0 and linked:
        per = np.stack([cosine_rows(native, ls.prototype.vector) for ls in linked], axis=1)
    else:
        per = np.zeros((len(joint), 0), np.float32)
        weights = np.zeros(0)
    conf = np.asarray([ls.confidence for ls in linked] if per.shape[1] else [], np.float32)
    return FormulaParts(sim1.astype(np.float32), per.astype(np.float32), np.asarray(weights, np.float32), conf)


def build_pairs(sg: Any, policy: PairPolicy = PairPolicy(), *, only: set[str] | None = None) -> Pairs:
    """Training rows for every captioned medium with evidence (``only``: just those media's captions)."""
    engine = sg.engine
    cfg = sg.config
    wpol = WeightPolicy(cfg.prototypes.classifier_weight, cfg.prototypes.min_confidence, cfg.prototypes.gated_weight)
    lab = labelled_media(sg.store, wpol)
    queries = [m for m in lab.ids if m in lab.caption and (only is None or m in only)]
    counts = {"queries": 0, "positives": 0, "negatives": 0, "hard_negatives": 0, "text_only_queries": 0}
    if not queries:
        return Pairs(np.zeros((0, 0), np.float32), np.zeros(0), np.zeros(0), np.zeros(0, int), [], counts)
    related = same_word_senses(sg.store, {s for d in lab.senses.values() for s in d})
    row = {m: i for i, m in enumerate(lab.ids)}
    texts = [lab.caption[m] for m in queries]
    mentions = sg.link_many(texts)
    owners, short = list(queries), [False] * len(queries)
    if policy.short_queries:  # the caption's heaviest mention of one of its medium's senses, as a query of its own
        heads = {}
        for mid, ments in zip(queries, mentions):
            mine = [m for m in ments if m.sense_id in lab.senses[mid]]
            if mine:
                heads[mid] = max(mine, key=lambda m: (m.weight, -m.start)).text
        extra = [(mid, text) for mid, text in heads.items() if text.strip().casefold() != lab.caption[mid].strip().casefold()]
        if extra:
            owners += [mid for mid, _ in extra]
            short += [True] * len(extra)
            mentions += sg.link_many([t for _, t in extra])
            texts += [t for _, t in extra]
    queries = owners
    qvecs = engine.embed_texts(texts)
    a, b = cfg.search.alpha, cfg.search.beta
    kp = cfg.search.candidates
    xs, ys, ws, qs = [], [], [], []
    for qi, (mid, ments, q, is_short) in enumerate(zip(queries, mentions, qvecs, short)):
        linked, unrep = query_senses(engine, ments)
        own = lab.senses[mid]
        loo = [leave_one_out(ls, lab.native[row[mid]], own.get(ls.sense_id, 0.0)) for ls in linked]
        if linked and all(x is None for x in loo):
            counts["text_only_queries"] += 1  # its senses rest on this medium alone: the text must carry it
        linked = [x for x in loo if x is not None]
        parts = formula_parts(q, lab.joint, lab.native, linked, unrep, b, engine)
        match = a * parts.sim1 + b * parts.sim2
        top = np.argsort(-match, kind="stable")[:kp]
        if row[mid] not in set(top.tolist()):
            top = np.append(top, row[mid])
        mine, hard = lab.primary[mid], related.get(lab.primary[mid], set())
        labels, weights, keep = [], [], []
        for j in top:
            other = lab.ids[j]
            theirs = lab.senses[other]
            if other == mid:
                y, w = 1.0, 1.0
            elif lab.primary[other] == mine:
                y, w = 1.0, 1.0 if is_short else policy.same_sense_weight
            elif set(theirs) & set(own):
                continue
            elif set(theirs) & hard:
                y, w = 0.0, policy.hard_weight
                counts["hard_negatives"] += 1
            else:
                y, w = 0.0, 1.0
            counts["positives" if y else "negatives"] += 1
            labels.append(y)
            weights.append(w)
            keep.append(j)
        if w_zero(weights):
            continue
        keep_a = np.asarray(keep)
        sub = FormulaParts(parts.sim1[keep_a], parts.per_sense[keep_a], parts.weights, parts.confidences)
        # gaps are measured against the best of all K′ candidates, as at search time
        x = pair_features(q, lab.joint[keep_a], sub, best=(float(parts.sim1[top].max()), float(parts.sim2[top].max())))
        xs.append(x)
        ys += labels
        ws += weights
        qs += [qi] * len(keep)
        counts["queries"] += 1
    if not xs:
        return Pairs(np.zeros((0, 0), np.float32), np.zeros(0), np.zeros(0), np.zeros(0, int), queries, counts)
    return Pairs(np.concatenate(xs), np.asarray(ys, np.float32), np.asarray(ws, np.float32), np.asarray(qs), queries, counts)


def w_zero(weights: Sequence[float]) -> bool:
    return not weights or sum(weights) <= 0
