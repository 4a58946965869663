"""Evidence propagation, the side-effecting glue: read the store → train / infer the GNN → write prototypes.

* full run (``sensegraph propagate``): read the 2K-hop neighbourhood of every evidenced sense (K = the
  model's receptive field), retrain, save the checkpoint, write a ``propagated`` prototype for every sense
  within K hops of evidence that lacks an own prototype backed by ``min_own_media`` media;
* ``changed_only`` (``--changed``): compare each evidenced sense's prototype digest with the marker
  saved in store meta at the last run; re-infer (no retraining) only within K hops of the senses whose
  evidence changed. Nothing changed → nothing written.

Both are idempotent: the same store state gives the same writes. Propagated prototypes live in their
own slot, so media-derived and curated prototypes are never touched.

``method`` picks what predicts: ``gnn`` (the trained model; ``--changed`` needs its checkpoint) or a
non-learned method from ``sensegraph.gnn.baselines`` (``neighbour-mean``, ``hypernym-backoff``): no
training, no checkpoint, no gloss embedding. Glosses the GNN reads are embedded once per machine
(the shared text cache, ``encoders/text_cache.py``), only for the senses within 2K hops of the seeds.

**Automatic** (``propagation.auto``, on by default): after an ingest or a curator edit changed an own
prototype, ``auto_propagate`` runs the ``--changed`` path, so a sense next to new evidence ("guitar"
beside "acoustic guitar") gets a prototype without anyone running ``propagate``. It never trains: it
uses the configured method, and ``neighbour-mean`` while no GNN checkpoint exists.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sensegraph.errors import ConfigError, StoreError
from sensegraph.graph.base import GraphStore
from sensegraph.limits import chunks
from sensegraph.progress import Progress, progress_for

STATE_META_KEY = "gnn.state"  # JSON {"digests": {sense_id: digest}, "encoder_id": ...} at the last run
WRITE_BATCH = 1000
_log = logging.getLogger(__name__)
GNN = "gnn"
METHODS = (GNN, "neighbour-mean", "hypernym-backoff")  # what ``propagation.method`` may name
FALLBACK = "neighbour-mean"  # what the automatic update uses before a GNN has been trained
BASELINE_HOPS = 2  # a non-learned method writes within this many hops of its seeds (the GNN: its receptive field)
UNMEASURED_BASE = 0.5  # confidence base of a non-learned method when no held-out sense can measure it
OWN_SOURCES = ("media", "curated")  # prototypes a sense has of its own (gnn/data.py's OWN_SOURCES)
HOLDOUT_FOLDS = 3  # folds of the visible prototypes a non-learned method's confidence is measured on


@dataclass
class PropagateReport:
    """What a propagation run did (shown by the CLI, returned by ``SenseGraph.propagate``)."""

    mode: str  # "full" | "changed" | "unchanged"
    method: str = GNN
    written: int = 0
    senses_in_graph: int = 0
    evidenced: int = 0
    changed_senses: int = 0
    trained: bool = False
    val_cosine: float | None = None
    checkpoint: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def gnn_dir(store: GraphStore) -> Path:
    """Where the checkpoint and gloss cache live: the store directory, or ~/.cache/sensegraph/gnn/<uri hash>."""
    if store.local_dir is not None:
        return store.local_dir
    uri = store.describe()
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "sensegraph" / "gnn"
    return base / hashlib.sha1(uri.encode("utf-8")).hexdigest()[:16]


def checkpoint_path(store: GraphStore) -> Path:
    return gnn_dir(store) / "gnn.pt"


def prototype_digests(store: GraphStore, sense_ids: Sequence[str] | None = None) -> dict[str, str]:
    """A short digest of each own prototype (vector bytes + media count), read in chunks; of every
    sense that holds one (found through ``own_prototype_ids``, not a scan of every sense), or of
    ``sense_ids`` only."""
    ids = store.own_prototype_ids() if sense_ids is None else sense_ids
    own = [sid for sid, s in _senses(store, sorted(set(ids))).items()
           if s.prototype_source in OWN_SOURCES and not s.redirect_to]
    out: dict[str, str] = {}
    for part in chunks(own):
        for sid, p in store.get_prototypes(part).items():
            h = hashlib.sha1(np.asarray(p.vector, dtype=np.float32).round(6).tobytes())
            h.update(f"|{p.media_count}|{p.source}".encode())
            out[sid] = h.hexdigest()[:16]
    return out


def changed_senses(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Senses whose own prototype appeared, disappeared or changed."""
    return sorted(s for s in set(before) | set(after) if before.get(s) != after.get(s))


class Propagator:
    """Runs the GNN over one store; the text encoder and configs are injectable for tests."""

    def __init__(
        self,
        store: GraphStore,
        *,
        min_own_media: int = 1,
        text_encoder: Any = None,
        model_overrides: dict[str, Any] | None = None,
        train_overrides: dict[str, Any] | None = None,
        directory: str | os.PathLike[str] | None = None,
        method: str = GNN,
        text_cache_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        if method not in METHODS:
            raise ConfigError(f"unknown propagation method {method!r}; choose one of {', '.join(METHODS)}")
        self.method = method
        self.text_cache_dir = text_cache_dir
        self.store = store
        self.min_own_media = int(min_own_media)
        self._text_encoder = text_encoder
        self.model_overrides = dict(model_overrides or {})
        self.train_overrides = dict(train_overrides or {})
        self.directory = Path(directory) if directory is not None else gnn_dir(store)

    @property
    def text_encoder(self) -> Any:
        if self._text_encoder is None:
            from sensegraph.encoders.text import MiniLMTextEncoder

            self._text_encoder = MiniLMTextEncoder()
        return self._text_encoder

    def _local_graph(self, hops: int, seeds: list[str], say: Callable[[str], None]):
        """The live senses within ``hops`` of ``seeds`` with their relations, cut from the store's sense
        structure (cached under its structure revision, ``gnn/structure_cache.py``); own prototypes and
        their media counts are read fresh (``log_count`` is 0 elsewhere: no non-learned method reads it
        there). No text features: for the non-learned methods."""
        from sensegraph.gnn.data import SenseGraphData, both_directions, read_prototypes, store_encoder
        from sensegraph.gnn.structure import neighbourhood
        from sensegraph.gnn.structure_cache import STRUCTURES

        say(f"reading the sense graph within {hops} hops of {len(seeds)} senses")
        encoder_id, dim = store_encoder(self.store)
        structure = STRUCTURES.get(self.store)
        rows = structure.within(structure.rows(seeds), hops)
        local = neighbourhood(structure, rows, structure.rows(self.store.own_prototype_ids()))
        own = local.ids[:local.own]
        counts = {sid: s.media_count for sid, s in _senses(self.store, own).items()}
        protos = read_prototypes(self.store, own, dim)
        return SenseGraphData(_data(local.ids, protos, [counts.get(sid, 0) for sid in local.ids], dim,
                                    *both_directions(local.pairs, local.rel)),
                              local.ids, local.types, encoder_id, dim)

    def _graph(self, hops: int, seeds: list[str] | None, progress: Progress, say: Callable[[str], None]):
        from sensegraph.gnn.data import build_sense_graph

        say(f"reading the sense graph within {hops} hops of "
                      + (f"{len(seeds)} changed senses" if seeds is not None else "the evidenced senses"))
        cache = self.text_cache()
        try:
            return build_sense_graph(self.store, cache, self.text_encoder.embed_texts, hops=hops, seeds=seeds,
                                     progress=progress)
        finally:
            cache.close()

    def text_cache(self) -> Any:
        """The machine-wide text cache for the GNN's text model (glosses embedded once per machine)."""
        from sensegraph.encoders.text_cache import TextCache, text_cache_dir

        enc = self.text_encoder
        return TextCache(text_cache_dir(self.text_cache_dir), enc.encoder_id, dim=getattr(enc, "dim", None))

    def run(self, *, changed_only: bool = False, progress: bool | Progress = False,
            log: Callable[[str], None] | None = None, touched: Sequence[str] | None = None) -> PropagateReport:
        """One run; ``progress`` shows each phase (gloss embedding, training, inference, writing), ``log`` gets notes.

        ``touched`` (changed-only, non-learned methods): the only senses whose own prototype can have
        changed since the marker (an ingest knows them), so only their digests are read, not every sense's.
        """
        import torch

        from sensegraph.gnn.data import k_hop_nodes, store_encoder

        progress = progress_for(progress)
        say = log or progress.note
        times: dict[str, float] = {}
        t = time.perf_counter()
        encoder_id, _ = store_encoder(self.store)
        if self.method != GNN and changed_only and touched is not None:
            return self._run_baseline(True, None, encoder_id, progress, say, times, t, touched=list(touched))
        digests = prototype_digests(self.store)
        ckpt_file = self.directory / "gnn.pt"
        if self.method != GNN:
            return self._run_baseline(changed_only, digests, encoder_id, progress, say, times, t)
        from sensegraph.gnn.infer import confidences, load_checkpoint, propagated_prototypes, save_checkpoint, trusted_from_below
        from sensegraph.gnn.model import ModelConfig  # the model, training and their PyG import: the GNN only
        from sensegraph.gnn.train import TrainConfig, full_forward, train

        if changed_only:
            model, ckpt = load_checkpoint(ckpt_file, encoder_id=encoder_id, text_model_id=self.text_encoder.encoder_id)
            state = self._state()
            if state.get("encoder_id") not in (None, encoder_id):
                raise StoreError("the propagation marker was written for another encoder; run a full propagate")
            seeds = changed_senses(state.get("digests", {}), digests)
            if not seeds:
                say("no evidence changed since the last run; nothing to do")
                return PropagateReport("unchanged", evidenced=len(digests), checkpoint=str(ckpt_file),
                                       seconds={"read": round(time.perf_counter() - t, 3)})
            receptive = max(model.config.layers, model.config.skip_hops)
            graph = self._graph(2 * receptive, seeds, progress, say)
            val_cos, trained = float(ckpt["val_cosine"]), False
            seed_rows = np.asarray([graph.index[s] for s in seeds if s in graph.index], dtype=np.int64)
        else:
            if not digests:
                raise ConfigError("no sense has a media or curated prototype yet: ingest media before propagating")
            model_cfg = dict(self.model_overrides)
            receptive = max(model_cfg.get("layers", ModelConfig.layers), model_cfg.get("skip_hops", ModelConfig.skip_hops))
            graph = self._graph(2 * receptive, None, progress, say)
            seeds = sorted(digests)
            seed_rows = graph.evidenced().numpy()
        times["read"] = round(time.perf_counter() - t, 3)
        say(f"sense graph: {graph.num_nodes} senses, {graph.data.edge_index.size(1)} directed edges, "
            f"{int(graph.data.has_proto.sum())} with an own prototype")
        if not changed_only:
            t = time.perf_counter()
            model_config = ModelConfig(text_dim=graph.data.x.size(1), native_dim=graph.native_dim,
                                       num_relation_types=len(graph.relation_types), **self.model_overrides)
            train_config = TrainConfig(**self.train_overrides)
            result = train(graph, model_config, train_config, progress=progress)
            model, val_cos, trained = result.model, result.val_cosine, True
            save_checkpoint(ckpt_file, result, graph, train_config, self.text_encoder.encoder_id)
            times["train"] = round(time.perf_counter() - t, 3)
            say(f"trained: validation cosine {val_cos:.4f} (best epoch {result.best_epoch + 1} of {result.epochs_run})")
        t = time.perf_counter()
        with progress.phase("inference", unit="senses") as step:
            visible = graph.data.has_proto
            pred = full_forward(model, graph, visible)
            conf = trusted_from_below(graph, visible, confidences(graph, visible, val_cos))
            pairs = graph.data.edge_index.numpy()
            rows = k_hop_nodes(graph.num_nodes, pairs, seed_rows, receptive)
            protos = propagated_prototypes(graph, pred, conf, torch.from_numpy(rows), min_own_media=self.min_own_media)
            step(len(protos))
        times["infer"] = round(time.perf_counter() - t, 3)
        t = time.perf_counter()
        written = self._write(protos, progress)
        self._mark(encoder_id, digests)
        times["write"] = round(time.perf_counter() - t, 3)
        return PropagateReport(
            "changed" if changed_only else "full", written=written, senses_in_graph=graph.num_nodes,
            evidenced=len(digests), changed_senses=len(seeds) if changed_only else 0, trained=trained,
            val_cosine=round(val_cos, 4), checkpoint=str(ckpt_file), seconds=times,
        )

    def _run_baseline(self, changed_only: bool, digests: dict[str, str] | None, encoder_id: str, progress: Progress,
                      say: Callable[[str], None], times: dict[str, float], t: float,
                      touched: list[str] | None = None) -> PropagateReport:
        """A non-learned method: no training, no checkpoint; confidence from held-out visible prototypes."""
        import torch

        from sensegraph.gnn.data import k_hop_nodes
        from sensegraph.gnn.infer import confidences, propagated_prototypes, trusted_from_below

        state = self._state() if changed_only else {}
        if state.get("encoder_id") not in (None, encoder_id):
            raise StoreError("the propagation marker was written for another encoder; run a full propagate")
        if digests is None:  # only the touched senses can have changed: the marker keeps the rest
            partial = prototype_digests(self.store, sense_ids=touched or [])
            before = dict(state.get("digests", {}))
            digests = {k: v for k, v in before.items() if k not in set(touched or [])} | partial
        seeds = changed_senses(state.get("digests", {}), digests) if changed_only else sorted(digests)
        if not seeds:
            if not changed_only:
                raise ConfigError("no sense has a media or curated prototype yet: ingest media before propagating")
            say("no evidence changed since the last run; nothing to do")
            return PropagateReport("unchanged", method=self.method, evidenced=len(digests),
                                   seconds={"read": round(time.perf_counter() - t, 3)})
        graph = self._local_graph(2 * BASELINE_HOPS, seeds, say)
        times["read"] = round(time.perf_counter() - t, 3)
        t = time.perf_counter()
        with progress.phase(f"propagating ({self.method})", unit="senses") as step, one_torch_thread():
            visible = graph.data.has_proto
            seed_rows = np.asarray([graph.index[s] for s in seeds if s in graph.index], dtype=np.int64)
            rows = k_hop_nodes(graph.num_nodes, graph.data.edge_index.numpy(), seed_rows, BASELINE_HOPS)
            pred, base = predict_with_holdout(self.method, graph, visible, at=torch.from_numpy(rows))
            conf = trusted_from_below(graph, visible, confidences(graph, visible, base))
            said = pred.norm(dim=1).numpy() > 0  # a method with nothing to say writes nothing
            keep = rows[said]
            protos = propagated_prototypes(graph, _RowsOf(keep, pred[torch.from_numpy(said)]), conf,
                                           torch.from_numpy(keep), min_own_media=self.min_own_media,
                                           strategy=self.method)
            silent = [graph.sense_ids[i] for i in sorted(set(rows.tolist()) - set(keep.tolist()))]
            step(len(protos))
        self._clear(silent)  # a sense its method has nothing left to say about keeps no stale prototype
        times["infer"] = round(time.perf_counter() - t, 3)
        t = time.perf_counter()
        written = self._write(protos, progress)
        self._mark(encoder_id, digests)
        times["write"] = round(time.perf_counter() - t, 3)
        return PropagateReport("changed" if changed_only else "full", method=self.method, written=written,
                               senses_in_graph=graph.num_nodes, evidenced=len(digests),
                               changed_senses=len(seeds) if changed_only else 0, val_cosine=round(base, 4),
                               seconds=times)

    def _clear(self, sense_ids: list[str]) -> None:
        for start in range(0, len(sense_ids), WRITE_BATCH):
            for sid in self.store.get_prototypes(sense_ids[start : start + WRITE_BATCH], propagated=True):
                self.store.clear_prototype(sid, propagated=True)

    def _mark(self, encoder_id: str, digests: dict[str, str]) -> None:
        self.store.set_meta(STATE_META_KEY, json.dumps({"encoder_id": encoder_id, "digests": digests},
                                                       separators=(",", ":"), sort_keys=True))

    def _state(self) -> dict[str, Any]:
        raw = self.store.get_meta(STATE_META_KEY)
        if not raw:
            return {}
        try:
            state = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise StoreError(f"store meta {STATE_META_KEY!r} is not JSON ({exc}); run a full propagate") from exc
        return state if isinstance(state, dict) else {}

    def _write(self, protos: list, progress: Progress) -> int:
        with progress.phase("writing prototypes", total=len(protos), unit="prototypes") as step:
            for start in range(0, len(protos), WRITE_BATCH):
                chunk = protos[start : start + WRITE_BATCH]
                self.store.set_prototypes(chunk)
                step(len(chunk))
        return len(protos)


@contextmanager
def one_torch_thread() -> Iterator[None]:
    """Torch on one intra-op thread for the block: a non-learned update runs many small tensor ops, each of
    which a second thread on a busy machine makes wait for a time slice (the update's CPU went from
    0.78 to 0.5 s after 48 captions at load 8, the same numbers to float rounding)."""
    import torch

    before = torch.get_num_threads()
    if before != 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if before != 1:
            torch.set_num_threads(before)


def _senses(store: GraphStore, ids: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in chunks(ids):
        out.update(store.get_senses(part))
    return out


def _data(ids: list[str], protos: dict[str, np.ndarray], counts: list[int], dim: int, edge_index: Any, edge_type: Any) -> Any:
    """The graph's tensors as ``build_sense_graph`` makes them, with one zero text feature per sense
    (a ``GraphTensors``, not a PyG ``Data``: the non-learned methods need no PyG import)."""
    import torch

    from sensegraph.gnn.data import GraphTensors

    # NumPy's zeros are lazy: only the memory pages of rows written get backed (and, with transparent huge
    # pages, zeroed 2 MB at a time), which is why ``_local_graph`` puts the own prototypes' rows first
    proto = np.zeros((len(ids), dim), dtype=np.float32)
    has = np.zeros(len(ids), dtype=bool)
    for i, sid in enumerate(ids):
        if sid in protos:
            proto[i], has[i] = protos[sid], True
    return GraphTensors(x=torch.zeros(len(ids), 1), proto=torch.from_numpy(proto), has_proto=torch.from_numpy(has),
                        log_count=torch.from_numpy(np.log1p(np.asarray(counts, dtype=np.float32))),
                        edge_index=edge_index, edge_type=edge_type, num_nodes=len(ids))


class _RowsOf:
    """``pred[i]`` for graph row ``i`` of ``rows``, backed by their (len(rows), D) block: what
    ``propagated_prototypes`` indexes, without an (N, D) matrix for the whole neighbourhood."""

    def __init__(self, rows: np.ndarray, block: Any) -> None:
        self._at = {int(r): j for j, r in enumerate(rows)}
        self._block = np.asarray(block)  # rows as float32 arrays (a CPU tensor is viewed, not copied)

    def __getitem__(self, i: int) -> Any:
        return self._block[self._at[i]]


def predict_with_holdout(name: str, graph: Any, visible: Any, folds: int = HOLDOUT_FOLDS,
                         at: Any = None) -> tuple[Any, float]:
    """A non-learned method's prediction and its confidence base (``holdout_cosine``); neighbour-mean gets
    both from one label propagation (``neighbour_mean_holdout``), the others propagate once per fold.
    With ``at`` (row indices) the prediction is of those rows only, in that order."""
    import torch

    from sensegraph.gnn.baselines import BASELINES, neighbour_mean_holdout

    fast = neighbour_mean_holdout(graph, visible, folds, at=at) if name == "neighbour-mean" else None
    if fast is None:
        method = BASELINES[name]
        pred = method(graph, visible)
        return pred if at is None else pred[at], holdout_cosine(method, graph, visible, folds)
    pred, sims = fast
    found = torch.cat(sims) if sims else torch.zeros(0)
    return pred, UNMEASURED_BASE if found.numel() == 0 else max(0.0, float(found.mean()))


def holdout_cosine(method: Callable[..., Any], graph: Any, visible: Any, folds: int = HOLDOUT_FOLDS) -> float:
    """Mean cosine between hidden visible prototypes and what ``method`` predicts for them without them.

    The non-learned methods' stand-in for the GNN's validation cosine (the base of every confidence):
    the visible senses are split into ``folds`` by row, each hidden in turn; only senses the method
    still says something about count. With none (e.g. a single evidenced sense): ``UNMEASURED_BASE``.
    """
    import torch

    rows = visible.nonzero().view(-1)
    sims: list[torch.Tensor] = []
    for k in range(min(folds, int(rows.numel()))):
        held = rows[k::folds]
        seen = visible.clone()
        seen[held] = False
        pred = method(graph, seen)[held]
        said = pred.norm(dim=1) > 0
        target = torch.nn.functional.normalize(graph.data.proto[held], dim=1)
        sims.append((pred[said] * target[said]).sum(dim=1))
    found = torch.cat(sims) if sims else torch.zeros(0)
    return UNMEASURED_BASE if found.numel() == 0 else max(0.0, float(found.mean()))


def propagate(store: GraphStore, *, changed_only: bool = False, progress: bool | Progress = False,
              min_own_media: int = 1, log: Callable[[str], None] | None = None,
              touched: Sequence[str] | None = None, **options: Any) -> PropagateReport:
    """One propagation run over ``store`` (see module docstring)."""
    return Propagator(store, min_own_media=min_own_media, **options).run(
        changed_only=changed_only, progress=progress, log=log, touched=touched)


def has_checkpoint(store: GraphStore) -> bool:
    return checkpoint_path(store).is_file()


def propagate_graph(sg: Any, *, changed_only: bool = False, progress: bool | Progress = False,
                    method: str | None = None, log: Callable[[str], None] | None = None,
                    touched: Sequence[str] | None = None) -> PropagateReport:
    """``propagate`` with a ``SenseGraph``'s settings: ``propagation.method``, ``search.min_own_media``, the text cache."""
    cfg = sg.config
    return propagate(sg.store, changed_only=changed_only, progress=progress, log=log, touched=touched,
                     min_own_media=cfg.search.min_own_media, method=method or cfg.propagation.method,
                     text_cache_dir=cfg.encoder.text_cache_dir)


def prepare_structure(store: GraphStore) -> None:
    """Build the sense structure the automatic update cuts its neighbourhood from (and save it beside a
    local store), so that the first ingest after an import does not read the whole graph itself."""
    from sensegraph.gnn.structure_cache import STRUCTURES

    STRUCTURES.get(store)


def auto_propagate(sg: Any, touched: Sequence[str] | None = None) -> PropagateReport | None:
    """The automatic ``--changed`` update after an ingest or an edit; None when ``propagation.auto`` is off
    or there is nothing to propagate from (no encoder bound, no own prototype). ``touched``: the senses
    an ingest wrote evidence for (only theirs can have changed); an edit passes none (a merge or undo
    also changes senses it does not name), so every digest is compared."""
    cfg = sg.config.propagation
    if not cfg.auto:
        return None
    method = cfg.method
    if method == GNN and not has_checkpoint(sg.store):
        method = FALLBACK  # never train inside an ingest: the first full `propagate` trains
    if sg.store.get_meta("encoder_id") is None:
        return None
    try:
        return propagate_graph(sg, changed_only=True, method=method, log=lambda _msg: None, touched=touched)
    except ConfigError as exc:
        if "no sense has a media" in str(exc):
            return None
        raise


def evaluate_store(
    store: str | GraphStore | None,
    evalset_dir: str | os.PathLike[str],
    *,
    folds: int = 5,
    seed: int = 0,
    methods: list[str] | None = None,
    encoder: Any = None,
    text_encoder: Any = None,
    log: Callable[[str], None] | None = None,
    **options: Any,
):
    """``sensegraph eval-propagation``: the cold-start comparison on an eval set over the store's sense graph.

    The store must hold the eval set's senses (``sensegraph import-kg wordnet``); its media are embedded
    with the store's encoder (cached). Returns ``sensegraph.gnn.evaluate.PropagationReport``.
    """
    from sensegraph.evaluation import load_evalset, resolve_media
    from sensegraph.gnn.data import build_sense_graph
    from sensegraph.gnn.evaluate import EvalQueryTarget, MediaEvidence, evaluate_propagation
    from sensegraph.gnn.model import ModelConfig

    from .sensegraph import SenseGraph

    evalset = load_evalset(evalset_dir)
    sg = SenseGraph(store, encoder=encoder)
    try:
        enc = sg.encoder  # binds the store to the encoder (EncoderMismatch when it holds another)
        senses = sorted({s for m in evalset.media for s in m.senses})
        found = sg.store.get_senses(senses)
        if not found:
            raise ConfigError(f"store {sg.store.describe()} has none of the eval set's {len(senses)} senses; "
                              f"import WordNet first: sensegraph import-kg wordnet --store {sg.store.describe()}")
        prop = Propagator(sg.store, text_encoder=text_encoder, text_cache_dir=sg.config.encoder.text_cache_dir)
        receptive = max(ModelConfig.layers, ModelConfig.skip_hops)
        cache = prop.text_cache()
        progress = progress_for(log is not None)
        graph = build_sense_graph(sg.store, cache, prop.text_encoder.embed_texts, hops=receptive,
                                  seeds=sorted(found), progress=progress)
        paths = [resolve_media(m.media, evalset.root) for m in evalset.media]
        native = _embed_native(enc, paths, progress)
        evidence = MediaEvidence(
            {m.id: np.asarray(native[i], dtype=np.float32) for i, m in enumerate(evalset.media)},
            {m.id: tuple(s for s in m.senses if s in found) for m in evalset.media},
        )
        queries = [EvalQueryTarget(q.id, tuple(q.gold), tuple(q.target_senses)) for q in evalset.queries]
        if log:
            log(f"{len(found)} of {len(senses)} eval senses in the store; graph of {graph.num_nodes} senses")
        return evaluate_propagation(graph, evidence, queries, folds=folds, seed=seed, methods=methods, log=log, **options)
    finally:
        sg.close()


def _embed_native(encoder: Any, paths: list[Any], progress: Progress, batch: int = 16) -> np.ndarray:
    """Native-space embeddings of ``paths`` in batches, so the media phase shows its progress."""
    rows = []
    with progress.phase("embedding media", total=len(paths), unit="media") as step:
        for start in range(0, len(paths), batch):
            rows.append(np.asarray(encoder.embed_media(paths[start : start + batch]).native, dtype=np.float32))
            step(len(rows[-1]))
    return np.concatenate(rows) if rows else np.zeros((0, 0), dtype=np.float32)
