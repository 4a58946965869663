"""``sensegraph demo``: the main job on a fresh machine, on the embedded store, no server.

Imports WordNet 3.0, ingests the packaged images of an eval set under the *cold* protocol (half of
each sense's media with captions as evidence, the rest without text: the gallery), then shows, for
ambiguous queries, the text-only ranking beside the sense-aware one.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ValidationError

if TYPE_CHECKING:
    from .sensegraph import SenseGraph

#: the eval set the demo uses when run from a checkout (``--evalset`` overrides it)
DEFAULT_EVALSET = Path(__file__).resolve().parent.parent / "evalsets" / "core"


@dataclass
class DemoRow:
    query: str
    linked: list[str]
    text_only: list[tuple[str, bool]]
    sense_aware: list[tuple[str, bool]]


def find_evalset(path: Path | None) -> Path:
    p = path or DEFAULT_EVALSET
    if not (p / "media.jsonl").is_file():
        raise ValidationError(f"no eval set at {p} (run the demo from a checkout, or pass --evalset DIR)")
    return p


def prepare(sg: SenseGraph, evalset_dir: Path, *, progress: bool = True) -> tuple[object, set[str]]:
    """Import WordNet if needed, ingest the eval set (cold protocol), calibrate α, β on its dev queries.

    Returns the eval set and the gallery (the media ingested without captions). The calibrated weights
    are saved in the store's configuration, as ``sensegraph calibrate`` would.
    """
    from .evaluation.dataset import load_evalset
    from .evaluation.harness import calibrate, ensure_kg, ingest_records, restrict

    evalset = load_evalset(evalset_dir)
    ensure_kg(sg)
    records, gallery = ingest_records(evalset, "cold")
    sg.ingest(records, progress=progress)
    dev = restrict(evalset.select("dev"), gallery)
    if dev:
        depth = max(int(sg.store.counts().get("media", 0)), len(records))
        sg.config.search.alpha, sg.config.search.beta = calibrate(sg, dev, gallery, depth)
        sg.save_config()
    return evalset, gallery


def compare(sg: SenseGraph, evalset, gallery: set[str], *, kinds: tuple[str, ...], limit: int, top: int = 3) -> list[DemoRow]:
    """Text-only and sense-aware top results for queries of ``kinds`` whose gold lies in the gallery."""
    from .evaluation.harness import restrict

    depth = max(len(gallery) * 2, 50)
    rows = []
    for q, gold in restrict(evalset.select("test", kinds=kinds), gallery)[:limit]:
        def ranked(beta: float | None) -> list[tuple[str, bool]]:
            res = sg.search_result(q.text, k=depth, beta=beta)
            return [(h.media_id, h.media_id in gold) for h in res.hits if h.media_id in gallery][:top]

        res = sg.search_result(q.text, k=1)
        linked = [f"{m['text']}→{m['sense_id'] or 'NIL'}" for m in res.linked]
        rows.append(DemoRow(q.text, linked, ranked(0.0), ranked(None)))
    return rows
