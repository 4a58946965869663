"""Keep sense prototypes in step with their evidence: incrementally after an ingest or edit, or all at once.

The arithmetic lives in ``sensegraph.graph.prototypes`` (pure); this module reads evidence and
features from the store and writes the results back. An incremental ``mean`` update is an exact
running mean, taken only when the stored prototype is known to cover exactly the older evidence;
otherwise the sense is recomputed from its evidence, so re-running an interrupted ingest converges.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from sensegraph.config import PrototypeConfig
from sensegraph.graph.base import GraphStore
from sensegraph.graph.model import Prototype
from sensegraph.graph.prototypes import WeightPolicy, build_prototype, counting_weights, update_mean


@dataclass
class UpdateReport:
    created: int = 0
    changed: int = 0
    cleared: int = 0


class PrototypeUpdater:
    """Recomputes the media prototypes of the senses an ingest or an edit touched."""

    def __init__(self, store: GraphStore, config: PrototypeConfig) -> None:
        self.store, self.config = store, config
        self.policy = WeightPolicy(config.classifier_weight, config.min_confidence, config.gated_weight)

    #: how often a sense is recomputed when its evidence changed while it was being computed
    MAX_ATTEMPTS = 8

    def update(self, sense_ids: Iterable[str], added: Mapping[str, Sequence[str]] | None = None) -> UpdateReport:
        """Update ``sense_ids``; ``added[s]`` names media whose evidence edge to ``s`` is new.

        Optimistic concurrency: after writing, each sense's evidence is read again, and a sense whose
        evidence changed meanwhile (a concurrent ingest or edit) is recomputed, so the last writer
        never leaves a prototype built from evidence that is no longer there.
        """
        report = UpdateReport()
        todo, added = sorted(set(sense_ids)), dict(added or {})
        for _ in range(self.MAX_ATTEMPTS):
            used = self._update_once(todo, added, report)
            todo = [sid for sid, key in used.items() if self._evidence_key(sid)[0] != key]
            if not todo:
                break
            added = {}  # a re-run recomputes from the evidence as it now is
        return report

    def _update_once(self, ids: list[str], added: Mapping[str, Sequence[str]], report: UpdateReport) -> dict[str, frozenset]:
        """One read-compute-write pass; returns the evidence each sense was computed from."""
        old = self.store.get_prototypes(ids)
        out: list[Prototype] = []
        used: dict[str, frozenset] = {}
        for sid in ids:
            prev = old.get(sid)
            proto, used[sid] = self._recompute(sid, prev, list(added.get(sid, ())))
            if prev is not None and prev.source == "curated":
                continue
            if proto is None:
                if prev is not None:
                    self.store.clear_prototype(sid)
                    report.cleared += 1
                continue
            out.append(proto)
            if prev is None:
                report.created += 1
            elif not np.allclose(prev.vector, proto.vector, atol=1e-6) or prev.media_count != proto.media_count:
                report.changed += 1
        if out:
            self.store.set_prototypes(out)
        return used

    def rebuild_all(self, *, progress: bool = False) -> int:
        """Recompute every sense that has evidence or a media prototype; returns prototypes written."""
        todo = [
            s.sense_id for batch in self.store.iter_senses() for s in batch
            if s.media_count > 0 or s.prototype_source == "media"
        ]
        written = 0
        from tqdm import tqdm

        for start in tqdm(range(0, len(todo), 256), disable=not progress, desc="prototypes", unit="batch"):
            rep = self.update(todo[start:start + 256])  # no `added`: every sense is fully recomputed
            written += rep.created + rep.changed
        return written

    # -- internals -----------------------------------------------------------------------------
    def _evidence_key(self, sid: str) -> tuple[frozenset, dict[str, float]]:
        """The sense's counting evidence as (a comparable key, media id → weight)."""
        counting = counting_weights(self.store.evidence(sense_id=sid), self.policy)
        return frozenset((m, round(w, 9)) for m, w in counting.items()), counting

    def _recompute(self, sid: str, prev: Prototype | None, added: list[str]) -> tuple[Prototype | None, frozenset]:
        key, weights = self._evidence_key(sid)
        counting = set(weights)
        strategy = self.config.strategy
        if (
            strategy == "mean" and prev is not None and prev.source == "media" and prev.strategy == "mean"
            and added and set(added) <= counting and prev.weight > 0
            and len(counting) == prev.media_count + len(added)
        ):
            feats = self._features(added)
            if all(m in feats for m in added):
                return update_mean(prev, np.stack([feats[m] for m in added]), np.array([weights[m] for m in added])), key
        media_ids = sorted(counting)
        feats = self._features(media_ids)
        media_ids = [m for m in media_ids if m in feats]
        if not media_ids:
            return None, key
        proto = build_prototype(
            sid, np.stack([feats[m] for m in media_ids]), np.array([weights[m] for m in media_ids]),
            strategy, distance_threshold=self.config.cluster_distance,
        )
        return proto, key

    def _features(self, media_ids: Sequence[str]) -> dict[str, np.ndarray]:
        media = self.store.get_media(list(media_ids))
        return {m: media[m].features for m in media_ids if m in media and media[m].features is not None}
