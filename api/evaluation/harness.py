"""Run an eval set against a ``SenseGraph`` under the two protocols, in each mode, per query kind.

*captioned*: every medium is ingested with its caption; every query ranks the whole collection.
*cold*: ``cold_partition`` keeps a deterministic half of each sense's media captioned (the evidence
prototypes are built from); the rest are ingested without text and form the gallery. Queries rank the
gallery only, their gold cut down to gallery media; queries left without gold are dropped.

Modes: ``text-only`` (beta = 0), ``sense-aware`` (alpha, beta calibrated on the dev split, or the
store's configuration), and any mode added with ``register_mode`` (the GNN issue adds propagated
prototypes there: a ``Mode`` with ``config`` overrides, e.g. ``{"search": {"min_own_media": ...}}``).
"""
from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sensegraph.errors import ValidationError
from sensegraph.progress import Progress, Step, progress_for

from .dataset import KINDS, EvalQuery, EvalSet, cold_partition, resolve_media
from .metrics import METRICS, score_query, summarize

PROTOCOLS = ("captioned", "cold")
#: (alpha, beta) pairs tried when calibrating the sense-aware mode on the dev split
CALIBRATION_GRID: tuple[tuple[float, float], ...] = tuple(
    (round(1.0 - b, 2), b) for b in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
)


@dataclass(frozen=True)
class Mode:
    """One way of searching: fixed alpha/beta (None = store config) and optional config overrides."""

    name: str
    alpha: float | None = None
    beta: float | None = None
    calibrate: bool = False
    config: dict[str, Any] = field(default_factory=dict)
    propagate: bool = False  # run ``sg.propagate()`` first: senses without media get GNN prototypes
    linker: str = "default"  # "first-sense": the naive baseline (evaluation/naive.py), in a store of its own


TEXT_ONLY = Mode("text-only", alpha=1.0, beta=0.0)
SENSE_AWARE = Mode("sense-aware", calibrate=True)
DEFAULTS = Mode("sense-aware (defaults)")  # the shipped search.alpha, beta: what a user gets
PROPAGATED = Mode("sense-aware+propagated", calibrate=True, propagate=True)
# every noun → its first WordNet sense, at ingest and query time; a query's first sense without media
# backs off to its nearest hypernym with media; no hand-on (the back-off is the baseline's own)
NAIVE = Mode("naive first sense", calibrate=True, linker="first-sense", config={"search": {"hand_on": False}})
_MODES: dict[str, Mode] = {m.name: m for m in (TEXT_ONLY, SENSE_AWARE, DEFAULTS, PROPAGATED, NAIVE)}
LINKERS = ("default", "first-sense")


def register_mode(mode: Mode) -> None:
    """Add a mode (e.g. propagated prototypes) that every later run reports."""
    _MODES[mode.name] = mode


def modes(names: Iterable[str] | None = None) -> list[Mode]:
    if names is None:
        return list(_MODES.values())
    unknown = [n for n in names if n not in _MODES]
    if unknown:
        raise ValidationError(f"unknown mode(s) {unknown}; known: {sorted(_MODES)}")
    return [_MODES[n] for n in names]


@dataclass
class QueryOutcome:
    """One query in one mode: the ranking (gallery only) and what explains its top hits."""

    query_id: str
    text: str
    kind: str
    gold: list[str]
    ranked: list[str]
    scores: dict[str, float]
    linked: list[dict[str, Any]]
    top: list[dict[str, Any]]
    lang: str = "en"


@dataclass
class ModeReport:
    mode: str
    alpha: float | None
    beta: float | None
    by_kind: dict[str, dict[str, float]]
    outcomes: list[QueryOutcome]


@dataclass
class ProtocolReport:
    protocol: str
    split: str
    media: int
    gallery: int
    queries: int
    modes: list[ModeReport]

    def to_dict(self, *, with_queries: bool = False) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k != "modes"}
        out["modes"] = []
        for m in self.modes:
            d = {"mode": m.mode, "alpha": m.alpha, "beta": m.beta, "metrics": m.by_kind}
            if with_queries:
                d["queries"] = [asdict(o) for o in m.outcomes]
            out["modes"].append(d)
        return out


def ingest_records(evalset: EvalSet, protocol: str) -> tuple[list[dict[str, Any]], set[str]]:
    """Records to ingest under ``protocol`` and the ids that form the searched gallery."""
    if protocol not in PROTOCOLS:
        raise ValidationError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    if protocol == "captioned":
        captioned, gallery = {m.id for m in evalset.media}, {m.id for m in evalset.media}
    else:
        cap, gal = cold_partition(evalset.media)
        captioned, gallery = set(cap), set(gal)
    records = [
        {"id": m.id, "media": str(resolve_media(m.media, evalset.root)), "text": m.caption if m.id in captioned else None}
        for m in evalset.media
    ]
    return records, gallery


def restrict(queries: Sequence[EvalQuery], gallery: set[str]) -> list[tuple[EvalQuery, list[str]]]:
    """Each query with its gold cut to the gallery; queries with no gold left are dropped."""
    out = []
    for q in queries:
        gold = [g for g in q.gold if g in gallery]
        if gold:
            out.append((q, gold))
    return out


def by_kind(outcomes: Sequence[QueryOutcome]) -> dict[str, dict[str, float]]:
    """Macro-averaged metrics per query kind, plus ``all``, for English queries; other languages'
    rows follow under ``<lang>:<kind>`` (``zh:all``), so the English rows keep their meaning."""
    table: dict[str, dict[str, float]] = {}
    langs = ["en", *sorted({o.lang for o in outcomes} - {"en"})]
    for lang in langs:
        for kind in (*KINDS, "all"):
            rows = [o for o in outcomes if o.lang == lang and (kind == "all" or o.kind == kind)]
            if rows:
                table[kind if lang == "en" else f"{lang}:{kind}"] = summarize((o.ranked, o.gold) for o in rows)
    return table


def run_queries(sg: Any, pairs: Sequence[tuple[EvalQuery, list[str]]], gallery: set[str], *,
                alpha: float | None, beta: float | None, depth: int, explain: int = 3,
                step: Step | None = None) -> list[QueryOutcome]:
    """Search every query ``depth`` deep (every stored medium), keep the gallery's ranking, and score it.

    ``step`` (a progress phase's callback) is called once per query.
    """
    outcomes = []
    for q, gold in pairs:
        res = sg.search_result(q.text, k=depth, alpha=alpha, beta=beta)
        hits = [h for h in res.hits if h.media_id in gallery]
        ranked = [h.media_id for h in hits]
        top = [{"media_id": h.media_id, "match": round(h.match, 4), "sim1": round(h.sim1, 4), "sim2": round(h.sim2, 4),
                "relevant": h.media_id in gold} for h in hits[:explain]]
        linked = [_linked_summary(m, q.target_senses) for m in res.linked]
        outcomes.append(QueryOutcome(q.id, q.text, q.kind, gold, ranked, score_query(ranked, gold), linked, top,
                                     getattr(q, "lang", "en")))
        if step is not None:
            step(1)
    return outcomes


def _linked_summary(mention: dict[str, Any], targets: Sequence[str]) -> dict[str, Any]:
    """A linked mention as failure analysis needs it: sense, confidence, and whether it is a target sense."""
    out = {k: mention[k] for k in ("text", "sense_id", "confidence") if k in mention}
    out["on_target"] = mention.get("sense_id") in targets if targets else None
    return out


def calibrate(sg: Any, dev_pairs: Sequence[tuple[EvalQuery, list[str]]], gallery: set[str], depth: int,
              grid: Sequence[tuple[float, float]] = CALIBRATION_GRID, metric: str = "MRR", *,
              progress: bool | Progress = False, label: str = "calibration") -> tuple[float, float]:
    """The (alpha, beta) from ``grid`` with the best mean ``metric`` on the dev queries (ties: smaller beta)."""
    if metric not in METRICS:
        raise ValidationError(f"unknown metric {metric!r}; known: {list(METRICS)}")
    if not dev_pairs:
        raise ValidationError("no dev queries to calibrate alpha and beta on")
    best: tuple[float, float, float] | None = None
    with progress_for(progress).phase(label, total=len(grid) * len(dev_pairs), unit="searches") as step:
        for a, b in grid:
            outs = run_queries(sg, dev_pairs, gallery, alpha=a, beta=b, depth=depth, explain=0, step=step)
            score = sum(o.scores[metric] for o in outs) / len(outs)
            if best is None or score > best[0] + 1e-9:
                best = (score, a, b)
            step(0, f"best α={best[1]:g}, β={best[2]:g} ({metric} {best[0]:.3f})")
    assert best is not None
    return best[1], best[2]


def evaluate_protocol(evalset: EvalSet, protocol: str, *, split: str = "test", store: str | None = None,
                      mode_names: Iterable[str] | None = None, query_ids: Iterable[str] | None = None,
                      limit: int | None = None, progress: bool | Progress = False,
                      sg_factory: Callable[[str], Any] | None = None) -> ProtocolReport:
    """Ingest ``evalset`` under ``protocol`` into ``store`` (a fresh temporary one when None) and evaluate.

    Modes with another linker (the naive baseline) get a store of their own, ``<store>/<protocol>-<linker>``,
    ingested with that linker. ``progress`` shows every long phase: WordNet import, ingest, linking,
    propagation, calibration, searches.
    """
    prog = progress_for(progress)
    records, gallery = ingest_records(evalset, protocol)
    ids = list(query_ids) if query_ids is not None else None
    test_pairs = restrict(evalset.select(split, ids=ids, limit=limit), gallery)
    dev_pairs = [p for p in restrict(evalset.select("dev", ids=ids), gallery) if p[0].lang == "en"]  # α, β from English
    chosen = modes(mode_names)
    prog.note(f"{protocol} protocol: {len(records)} media ({len(gallery)} in the gallery), "
              f"{len(test_pairs)} {split} and {len(dev_pairs)} dev queries, modes {', '.join(m.name for m in chosen)}")
    by_name: dict[str, ModeReport] = {}
    shared_cache: str | None = None  # the first store's embedding cache: a second store embeds nothing again
    with tempfile.TemporaryDirectory(prefix=f"sensegraph-eval-{protocol}-") as tmp:
        for linker in LINKERS:
            group = [m for m in chosen if m.linker == linker]
            if not group:
                continue
            if linker != "default" and store is not None and "://" in store:
                prog.note(f"{', '.join(m.name for m in group)}: skipped (needs a second empty database; use a folder store)")
                continue
            where = _store_for(store, protocol if linker == "default" else f"{protocol}-{linker}", tmp)
            sg = (sg_factory or _default_factory)(where)
            cfg = getattr(sg, "config", None)
            if shared_cache and cfg is not None and cfg.encoder.cache_dir is None and sg.built_part("encoder") is None:
                sg.config = cfg.merged({"encoder": {"cache_dir": shared_cache}})
            elif shared_cache is None and hasattr(sg, "cache_dir"):
                shared_cache = str(sg.cache_dir)
            try:
                for report in _run_group(sg, group, linker, records, gallery, test_pairs, dev_pairs, protocol, split, prog):
                    by_name[report.mode] = report
            finally:
                sg.close()
    reports = [by_name[m.name] for m in chosen if m.name in by_name]
    return ProtocolReport(protocol, split, len(evalset.media), len(gallery), len(test_pairs), reports)


def _run_group(sg: Any, group: Sequence[Mode], linker: str, records: Sequence[dict[str, Any]], gallery: set[str],
               test_pairs: Sequence[tuple[EvalQuery, list[str]]], dev_pairs: Sequence[tuple[EvalQuery, list[str]]],
               protocol: str, split: str, prog: Progress) -> list[ModeReport]:
    """Ingest into ``sg`` with ``linker`` and run every mode of ``group`` on it."""
    if linker == "first-sense":
        from .naive import FirstSenseLinker

        inner = sg.linker
        sg.replace_part("linker", FirstSenseLinker(inner, sg.store))  # captions: first senses, no back-off
    memoize_linking(sg)
    ensure_kg(sg, progress=prog)
    if any(q.lang.startswith("zh") for q, _ in test_pairs):
        ensure_cedict(sg, progress=prog)
    ingest_in_steps(sg, records, prog, label=f"{protocol}{'' if linker == 'default' else '/' + linker}: ingest")
    if linker == "first-sense":
        sg.replace_part("linker", _MemoLinker(FirstSenseLinker(inner, sg.store, backoff=True)))  # queries back off
    depth = max(int(sg.store.counts().get("media", 0)), len(records))
    if isinstance(getattr(sg, "linker", None), _MemoLinker):
        sg.linker.prefill([q.text for q, _ in [*test_pairs, *dev_pairs]], progress=prog)
    reports = []
    propagated = False
    for mode in group:
        a, b = mode.alpha, mode.beta
        if mode.propagate and not propagated:
            prog.note(f"{mode.name}: propagating prototypes over the sense graph")
            sg.propagate(progress=prog)
            propagated = True
            sg.reset_part("engine")
        base = sg.config
        if mode.config:
            sg.config = sg.config.merged(mode.config)  # a new engine
        if mode.calibrate:
            a, b = (calibrate(sg, dev_pairs, gallery, depth, progress=prog,
                              label=f"{protocol}/{mode.name}: calibrating α, β")
                    if dev_pairs else (None, None))
        with prog.phase(f"{protocol}/{mode.name}: {split} queries", total=len(test_pairs),
                        unit="queries") as step:
            outs = run_queries(sg, test_pairs, gallery, alpha=a, beta=b, depth=depth, step=step)
        if a is None or b is None:
            a, b = sg.config.search.alpha, sg.config.search.beta
        reports.append(ModeReport(mode.name, a, b, by_kind(outs), outs))
        if mode.config:  # a mode's overrides apply to that mode only
            sg.config = base
    return reports


class _MemoLinker:
    """The store's linker with results remembered per text: every mode and grid point re-searches the same
    queries, and linking does not depend on alpha or beta."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self._memo: dict[str, Any] = {}

    def link(self, text: str) -> Any:
        if text not in self._memo:
            self._memo[text] = self.inner.link(text)
        return self._memo[text]

    def prefill(self, texts: Sequence[str], *, progress: bool | Progress = False, batch: int = 32) -> None:
        """Link many texts in batches (the linker embeds each batch's contexts together)."""
        todo = [t for t in dict.fromkeys(texts) if t not in self._memo]
        if not todo:
            return
        with progress_for(progress).phase("linking queries", total=len(todo), unit="queries") as step:
            for start in range(0, len(todo), batch):
                chunk = todo[start : start + batch]
                self._memo.update(zip(chunk, self.inner.link_many(chunk)))
                step(len(chunk))

    def link_many(self, texts: Sequence[str]) -> list[Any]:
        self.prefill(texts)
        return [self._memo[t] for t in texts]

    def add_aliases(self, entries: Any) -> int:
        """New aliases change what links: the memo starts again."""
        self._memo.clear()
        return self.inner.add_aliases(entries)

    def forget_senses(self) -> None:
        """The inner linker forgets its cached sense records (the memo of links is kept)."""
        self.inner.forget_senses()


def memoize_linking(sg: Any) -> None:
    """Put a remembering linker in front of ``sg``'s (a ``SenseGraph``: cached ``linker``/``engine``)."""
    if callable(getattr(sg, "replace_part", None)):
        sg.replace_part("linker", _MemoLinker(sg.linker))


def _store_for(store: str | None, protocol: str, tmp: str) -> str:
    """Each protocol needs its own store: ``<store>/<protocol>`` for a folder, the URI itself for Neo4j."""
    if store is None:
        return str(Path(tmp) / "store")
    if "://" in store:
        return store
    return str(Path(store) / protocol)


def _default_factory(where: str) -> Any:
    from sensegraph import SenseGraph

    return SenseGraph(where)


def ensure_kg(sg: Any, *, progress: bool | Progress = False) -> None:
    """Import WordNet 3.0 nouns into a store that has no senses yet (linking needs a KG)."""
    counts = sg.store.counts()
    if counts.get("senses", 0) == 0:
        from sensegraph.graph.importers import import_wordnet

        with progress_for(progress).phase("WordNet import", unit="records") as step:
            import_wordnet(sg.store, None, progress=lambda phase, done, _total: step(done, phase))


def ensure_cedict(sg: Any, *, progress: bool | Progress = False) -> None:
    """Give the store's WordNet senses Chinese aliases (CC-CEDICT) when it has none, for Chinese queries."""
    if not any(a.lang.startswith("zh") and a.entity_id.startswith("cedict:") for a in sg.store.alias_table()):
        with progress_for(progress).phase("CC-CEDICT import", unit="records") as step:
            sg.import_kg("cedict", progress=lambda phase, done, _total: step(done, phase))


def ingest_in_steps(sg: Any, records: Sequence[dict[str, Any]], progress: bool | Progress = False, *,
                    batch: int = 16, label: str = "ingest") -> None:
    """``sg.ingest`` in batches of ``batch`` records (the ingestor's own batch size), showing progress."""
    with progress_for(progress).phase(label, total=len(records), unit="media") as step:
        for start in range(0, len(records), batch):
            chunk = records[start : start + batch]
            sg.ingest(chunk)
            step(len(chunk))
