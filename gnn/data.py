"""A store's sense graph as a ``torch_geometric.data.Data``: text features, media prototypes, relations.

Nodes are live senses (merge redirects skipped). Node attributes:

* ``x`` (N, 384): MiniLM embedding of ``"label: gloss"`` (cached on disk, keyed by text model and text);
* ``proto`` (N, D): the sense's own (media or curated) prototype in the encoder's native space, zeros
  when absent; ``has_proto`` (N,) bool; ``log_count`` (N,) ``log1p(media_count)``.

Edges are ``RELATED`` in both directions: ``edge_type = 2 * relation_index + direction`` where
direction 0 carries a message from the relation's source to its target (child → hypernym) and 1 back.
Everything is read in pages (``iter_senses`` / ``iter_relations`` / ``get_prototypes`` in chunks),
never one query per node; ``hops`` restricts the graph to the k-hop neighbourhood of evidenced senses.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from typing import Any

import numpy as np
import torch

from sensegraph.errors import StoreError, ValidationError
from sensegraph.graph.base import GraphStore
from sensegraph.limits import chunks
from sensegraph.progress import Progress, progress_for

PROGRESS_CHUNK = 256  # glosses per text-encoder call, so the gloss-embedding bar advances often
OWN_SOURCES = ("media", "curated")


@dataclass
class GraphTensors:
    """The tensor attributes of a PyG ``Data`` the non-learned methods read, without importing PyG."""

    x: torch.Tensor
    proto: torch.Tensor
    has_proto: torch.Tensor
    log_count: torch.Tensor
    edge_index: torch.Tensor
    edge_type: torch.Tensor
    num_nodes: int


@dataclass
class SenseGraphData:
    """The ``Data`` object plus what maps its rows back to the store."""

    data: Any  # torch_geometric.data.Data, or any object with the same tensor attributes (the non-learned methods)
    sense_ids: list[str]
    relation_types: list[str]
    encoder_id: str
    native_dim: int
    index: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.index = {s: i for i, s in enumerate(self.sense_ids)}

    @property
    def num_nodes(self) -> int:
        return len(self.sense_ids)

    def evidenced(self) -> torch.Tensor:
        """Row indices of senses that have an own prototype."""
        return self.data.has_proto.nonzero().view(-1)


# -- reading the store (pure except for the store calls) --------------------------------------------
def read_senses(store: GraphStore, batch_size: int = 5000) -> tuple[list[str], list[str], np.ndarray, list[bool]]:
    """Live sense ids, their "label: gloss" texts, media counts and whether they have an own prototype."""
    ids: list[str] = []
    texts: list[str] = []
    counts: list[int] = []
    own: list[bool] = []
    for batch in store.iter_senses(batch_size):
        for s in batch:
            if s.redirect_to:
                continue
            ids.append(s.sense_id)
            texts.append(sense_text(s.label, s.gloss))
            counts.append(int(s.media_count))
            own.append(s.prototype_source in OWN_SOURCES)
    return ids, texts, np.asarray(counts, dtype=np.int64), own


def sense_text(label: str, gloss: str) -> str:
    """What the text encoder sees for a sense."""
    label, gloss = (label or "").strip(), (gloss or "").strip()
    return f"{label}: {gloss}" if gloss else label


def read_relations(store: GraphStore, index: dict[str, int], batch_size: int = 5000) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(2, E) source/target rows and relation-type ids of relations between known senses; the type names."""
    types: dict[str, int] = {}
    src: list[int] = []
    dst: list[int] = []
    rel: list[int] = []
    for batch in store.iter_relations(batch_size):
        for r in batch:
            a, b = index.get(r.source), index.get(r.target)
            if a is None or b is None or a == b:
                continue
            src.append(a)
            dst.append(b)
            rel.append(types.setdefault(r.type, len(types)))
    pairs = np.asarray([src, dst], dtype=np.int64).reshape(2, -1)
    return pairs, np.asarray(rel, dtype=np.int64), list(types)


def read_prototypes(store: GraphStore, sense_ids: Sequence[str], dim: int) -> dict[str, np.ndarray]:
    """Own prototypes of ``sense_ids`` in chunks; a vector of the wrong size is a ``StoreError``."""
    out: dict[str, np.ndarray] = {}
    for part in chunks(list(sense_ids)):
        for sid, p in store.get_prototypes(part).items():
            vec = np.asarray(p.vector, dtype=np.float32).reshape(-1)
            if vec.shape[0] != dim:
                raise StoreError(f"prototype of {sid!r} has {vec.shape[0]} dims; the store's native space has {dim}")
            out[sid] = vec
    return out


def both_directions(pairs: np.ndarray, rel: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Directed edges both ways with ``edge_type = 2 * rel + direction``."""
    ei = torch.from_numpy(pairs)
    r = torch.from_numpy(rel)
    edge_index = torch.cat([ei, ei.flip(0)], dim=1)
    edge_type = torch.cat([2 * r, 2 * r + 1])
    return edge_index, edge_type


def k_hop_nodes(num_nodes: int, pairs: np.ndarray, seeds: np.ndarray, hops: int) -> np.ndarray:
    """Sorted node indices within ``hops`` undirected steps of ``seeds`` (seeds included)."""
    keep = np.zeros(num_nodes, dtype=bool)
    keep[seeds] = True
    frontier = keep.copy()
    for _ in range(hops):
        hit = frontier[pairs[0]] | frontier[pairs[1]]
        reached = np.zeros(num_nodes, dtype=bool)
        reached[pairs[0, hit]] = True
        reached[pairs[1, hit]] = True
        frontier = reached & ~keep
        keep |= reached
        if not frontier.any():
            break
    return np.nonzero(keep)[0]


# -- text features with an on-disk cache ------------------------------------------------------------
class TextFeatureCache:
    """Text embeddings on disk, keyed by text model id and SHA-1 of each text, so re-runs embed only new glosses."""

    def __init__(self, directory: str | os.PathLike[str], model_id: str) -> None:
        safe = "".join(c if c.isalnum() or c in "-_.@" else "_" for c in model_id)
        self.path = Path(directory) / f"gloss-{safe}.npz"
        self.model_id = model_id
        self._keys: dict[str, int] = {}
        self._vecs = np.zeros((0, 0), dtype=np.float32)
        if self.path.is_file():
            with np.load(self.path, allow_pickle=False) as z:
                self._vecs = z["vectors"].astype(np.float32)
                self._keys = {k: i for i, k in enumerate(z["keys"].tolist())}

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8")).hexdigest()[:20]

    def embed(self, texts: Sequence[str], embed_fn: Callable[[list[str]], np.ndarray], *,
              batch_size: int = 2048, progress: bool | Progress = False) -> np.ndarray:
        """(n, d) vectors for ``texts``; missing ones go through ``embed_fn`` and are saved every ``batch_size``."""
        keys = [self.key(t) for t in texts]
        missing = sorted({k: t for k, t in zip(keys, texts) if k not in self._keys}.items(), key=lambda kv: len(kv[1]))
        if missing:
            with progress_for(progress).phase("gloss embedding", total=len(missing), unit="glosses") as step:
                for start in range(0, len(missing), batch_size):
                    chunk = missing[start : start + batch_size]
                    parts = []
                    for sub in range(0, len(chunk), PROGRESS_CHUNK):  # smaller calls: the bar moves
                        parts.append(np.asarray(embed_fn([t for _, t in chunk[sub : sub + PROGRESS_CHUNK]]),
                                                dtype=np.float32))
                        step(min(PROGRESS_CHUNK, len(chunk) - sub))
                    added = np.concatenate(parts)
                    base = len(self._keys)
                    self._vecs = added if base == 0 else np.concatenate([self._vecs, added])
                    for i, (k, _) in enumerate(chunk):
                        self._keys[k] = base + i
                    self._save()  # after every chunk, so an interrupted first run keeps its work
        return self._vecs[[self._keys[k] for k in keys]] if keys else np.zeros((0, self._vecs.shape[-1]), np.float32)

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp.npz")
        order = sorted(self._keys, key=self._keys.__getitem__)
        np.savez(tmp, keys=np.asarray(order), vectors=self._vecs)
        os.replace(tmp, self.path)


# -- assembling the Data object ----------------------------------------------------------------------
def store_encoder(store: GraphStore) -> tuple[str, int]:
    """The encoder id and native dimension the store is bound to; ``ValidationError`` when unbound."""
    encoder_id, native = store.get_meta("encoder_id"), store.get_meta("native_dim")
    if not encoder_id or not native:
        raise ValidationError(
            f"store {store.describe()} has no encoder bound yet: ingest media first (nothing to propagate)"
        )
    return encoder_id, int(native)


def build_sense_graph(
    store: GraphStore,
    text_cache: TextFeatureCache,
    embed_fn: Callable[[list[str]], np.ndarray],
    *,
    hops: int | None = 2,
    seeds: Sequence[str] | None = None,
    progress: bool | Progress = False,
) -> SenseGraphData:
    """Read the store into a ``SenseGraphData``; ``hops`` keeps the k-hop neighbourhood of ``seeds``.

    ``seeds`` default to the evidenced senses; ``hops=None`` keeps every sense.
    """
    encoder_id, dim = store_encoder(store)
    ids, texts, counts, own = read_senses(store)
    index = {s: i for i, s in enumerate(ids)}
    pairs, rel, rel_types = read_relations(store, index)
    own_ids = [s for s, o in zip(ids, own) if o]
    if hops is not None:
        seed_ids = own_ids if seeds is None else [s for s in seeds if s in index]
        keep = k_hop_nodes(len(ids), pairs, np.asarray([index[s] for s in seed_ids], dtype=np.int64), hops)
        remap = np.full(len(ids), -1, dtype=np.int64)
        remap[keep] = np.arange(len(keep))
        inside = (remap[pairs[0]] >= 0) & (remap[pairs[1]] >= 0)
        pairs, rel = remap[pairs[:, inside]], rel[inside]
        ids = [ids[i] for i in keep]
        texts = [texts[i] for i in keep]
        counts = counts[keep]
        kept = set(ids)
        own_ids = [s for s in own_ids if s in kept]
    protos = read_prototypes(store, own_ids, dim)
    text = text_cache.embed(texts, embed_fn, progress=progress)
    proto = np.zeros((len(ids), dim), dtype=np.float32)
    has = np.zeros(len(ids), dtype=bool)
    pos = {s: i for i, s in enumerate(ids)}
    for sid, vec in protos.items():
        proto[pos[sid]] = vec
        has[pos[sid]] = True
    from . import _pyg  # noqa: F401  PyG only where a Data object is built
    from torch_geometric.data import Data

    edge_index, edge_type = both_directions(pairs, rel)
    data = Data(
        x=torch.from_numpy(np.ascontiguousarray(text, dtype=np.float32)).reshape(len(ids), -1),
        proto=torch.from_numpy(proto),
        has_proto=torch.from_numpy(has),
        log_count=torch.from_numpy(np.log1p(counts.astype(np.float32))),
        edge_index=edge_index,
        edge_type=edge_type,
        num_nodes=len(ids),
    )
    return SenseGraphData(data, ids, rel_types, encoder_id, dim)
