"""``train_matcher``: build pairs from the store's evidence, fit the head, save it beside the data."""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from sensegraph.errors import ValidationError

from .head import HeadConfig, train_head
from .pairs import PairPolicy, build_pairs
from .saved import load_head, save_head

#: an incremental run replays this many old captions per new one (fixed seed), so the head keeps them
REPLAY = 2


@dataclass
class TrainReport:
    """What a training run used and produced."""

    encoder_id: str
    incremental: bool
    queries: int
    positives: int
    negatives: int
    hard_negatives: int
    text_only_queries: int
    epochs: int
    loss_first: float
    loss_last: float
    train_hit_at_1: float
    seconds: float
    config: dict[str, Any] = field(default_factory=dict)


def train_matcher(sg: Any, cfg: HeadConfig = HeadConfig(), policy: PairPolicy = PairPolicy(), *,
                  incremental: bool = False) -> TrainReport:
    """Train (or, ``incremental``, continue training) the store's match head and save it.

    Incremental: start from the saved head and train on captions added since it was trained, with
    ``REPLAY`` old captions per new one; nothing new means nothing to do (a ValidationError says so).
    """
    t0 = time.perf_counter()
    encoder_id = sg.encoder.encoder_id
    init = load_head(sg.store, encoder_id) if incremental else None
    if incremental and init is None:
        raise ValidationError("no match head to continue training in this store; run train-matcher without --incremental")
    only = None
    seen: list[str] = list(init.info.get("media", [])) if init is not None else []
    if init is not None:
        all_pairs_media = _captioned_media(sg)
        new = sorted(set(all_pairs_media) - set(seen))
        if not new:
            raise ValidationError("no captioned media were added since the match head was trained; nothing to learn")
        rng = np.random.default_rng(cfg.seed)
        old = sorted(set(all_pairs_media) & set(seen))
        replay = list(rng.permutation(old)[: REPLAY * len(new)]) if old else []
        only = set(new) | set(replay)
    pairs = build_pairs(sg, policy, only=only)
    if not len(pairs.y):
        raise ValidationError("no training pairs: ingest captioned media (evidence for at least two senses) first")
    head, losses = train_head(pairs.x, pairs.y, pairs.weight, cfg, init=init)
    media = sorted(set(seen) | set(pairs.media))
    head.info.update({"media": media, "queries": pairs.counts["queries"], "trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                      "config": asdict(cfg), "pairs": asdict(policy), "rounds": int(head.info.get("rounds", 0)) + 1})
    save_head(sg.store, head, encoder_id)
    sg.reset_part("engine")  # the next search loads the new head
    return TrainReport(encoder_id, incremental, pairs.counts["queries"], pairs.counts["positives"], pairs.counts["negatives"],
                       pairs.counts["hard_negatives"], pairs.counts["text_only_queries"], cfg.epochs, round(losses[0], 6) if losses else float("nan"),
                       round(losses[-1], 6) if losses else float("nan"), round(_train_hit_at_1(head, pairs), 6), round(time.perf_counter() - t0, 3),
                       {"head": asdict(cfg), "pairs": asdict(policy)})


def _captioned_media(sg: Any) -> list[str]:
    return [m.media_id for batch in sg.store.iter_media(vectors=False) for m in batch if m.caption]


def _train_hit_at_1(head: Any, pairs: Any) -> float:
    """Share of training captions whose best-scored candidate is a positive (a sanity figure, not a result)."""
    s = head.score(pairs.x)
    hits = []
    for q in np.unique(pairs.query):
        rows = np.flatnonzero(pairs.query == q)
        hits.append(float(pairs.y[rows[np.argmax(s[rows])]] > 0.5))
    return float(np.mean(hits)) if hits else 0.0
