"""``calibrate``: grid-search α, β and the linker's NIL threshold on labelled dev queries (MRR).

The dev set is either an eval-set folder (its ``dev`` split; media ids as ingested from it) or a JSON
Lines file of ``{"text": ..., "gold": [media ids]}`` against the media already in the store. The best
values are written into the store's configuration, so every later search uses them.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ValidationError
from .jsonl import read_jsonl
from .evaluation.dataset import EvalQuery, load_evalset
from .evaluation.harness import CALIBRATION_GRID, run_queries

if TYPE_CHECKING:
    from .sensegraph import SenseGraph

NIL_GRID: tuple[float, ...] = (0.1, 0.25, 0.4)


@dataclass(frozen=True)
class Calibration:
    alpha: float
    beta: float
    nil_threshold: float
    mrr: float
    text_only_mrr: float
    queries: int
    grid: list[dict[str, float]]


def load_dev_queries(path: Path) -> list[EvalQuery]:
    """Dev queries from an eval-set folder (split ``dev``) or a JSON Lines file with text and gold ids."""
    if path.is_dir():
        return load_evalset(path).select("dev")
    if not path.is_file():
        raise ValidationError(f"dev set {path} does not exist")
    out = []
    for n, row in read_jsonl(path, what="dev set"):
        text, gold = row.get("text"), row.get("gold")
        if not isinstance(text, str) or not text.strip() or not isinstance(gold, list) or not gold:
            raise ValidationError(f"{path}:{n}: text must be non-empty and gold a non-empty list of media ids")
        out.append(EvalQuery(str(row.get("id", f"q{n}")), text, str(row.get("kind", "plain")), tuple(gold), "dev"))
    if not out:
        raise ValidationError(f"{path}: no queries")
    return out


def calibrate(sg: SenseGraph, queries: list[EvalQuery], *, save: bool = True) -> Calibration:
    """Try every (α, β) of the grid for each NIL threshold; keep the best mean MRR (ties: the defaults' side)."""
    gallery = {m.media_id for batch in sg.store.iter_media(vectors=False) for m in batch}
    pairs = [(q, [g for g in q.gold if g in gallery]) for q in queries]
    pairs = [(q, gold) for q, gold in pairs if gold]
    if not pairs:
        raise ValidationError("none of the dev queries' gold media are in the store; ingest them first")
    depth = len(gallery)
    text_only = _mrr(run_queries(sg, pairs, gallery, alpha=1.0, beta=0.0, depth=depth, explain=0))
    original_nil = sg.config.linker.nil_threshold
    grid: list[dict[str, float]] = []
    best: tuple[float, float, float, float] | None = None
    for nil in NIL_GRID:
        _set_nil(sg, nil)
        for a, b in CALIBRATION_GRID:
            mrr = _mrr(run_queries(sg, pairs, gallery, alpha=a, beta=b, depth=depth, explain=0))
            grid.append({"alpha": a, "beta": b, "nil_threshold": nil, "mrr": round(mrr, 6)})
            if best is None or mrr > best[0] + 1e-9:
                best = (mrr, a, b, nil)
    assert best is not None
    mrr, a, b, nil = best
    if save:
        sg.config = sg.config.merged({"search": {"alpha": a, "beta": b}, "linker": {"nil_threshold": nil}})
        sg.save_config()
    else:
        _set_nil(sg, original_nil)
    return Calibration(a, b, nil, mrr, text_only, len(pairs), grid)


def _set_nil(sg: SenseGraph, nil: float) -> None:
    """Use NIL threshold ``nil``: a new configuration, so the linker is built again with it (its lexicon from the cache)."""
    if sg.config.linker.nil_threshold != nil:
        sg.config = sg.config.merged({"linker": {"nil_threshold": nil}})


def _mrr(outcomes) -> float:
    return sum(o.scores["MRR"] for o in outcomes) / max(len(outcomes), 1)
