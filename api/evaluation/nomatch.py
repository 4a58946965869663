"""Queries whose answer is "nothing here" (``queries.nomatch.jsonl``) and the no-match decision's scores.

Each line is ``{"id", "text", "kind": "nomatch", "gold": [], "split", "why"}``: a description of something
no medium of the eval set shows (``why`` names the nearest media and why they are not it). The split
rule is the eval set's (sha1 of the id). Precision and recall are of the decision "no match": a query
is flagged when its best gallery hit scores below the threshold chosen on dev.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from sensegraph.errors import ValidationError

from .dataset import SPLITS, EvalQuery, _read_jsonl, _str

NOMATCH_FILE = "queries.nomatch.jsonl"


def load_nomatch(folder: str | os.PathLike[str]) -> list[EvalQuery]:
    """The no-match queries of an eval-set folder (none when it has no ``queries.nomatch.jsonl``)."""
    path = Path(folder) / NOMATCH_FILE
    if not path.is_file():
        return []
    out, seen = [], set()
    for n, row in _read_jsonl(path):
        where = f"{path}:{n}"
        qid, text, split = _str(row, "id", where), _str(row, "text", where), _str(row, "split", where)
        if qid in seen:
            raise ValidationError(f"{where}: duplicate query id {qid!r}")
        seen.add(qid)
        if split not in SPLITS:
            raise ValidationError(f"{where}: split {split!r} is not one of {SPLITS}")
        if row.get("gold", []) != []:
            raise ValidationError(f"{where}: a no-match query has no gold media (gold must be [] or absent)")
        out.append(EvalQuery(qid, text, "nomatch", (), split))
    return out


def gallery_top(result, gallery: set[str], score: str) -> float:
    """The best gallery hit's score in a search result (head or formula); -inf when no hit is in the gallery."""
    for h in result.hits:
        if h.media_id in gallery:
            return float(h.head if score == "head" and h.head is not None else h.match)
    return float("-inf")


def top_scores(sg, texts: Sequence[str], gallery: set[str], *, alpha: float | None, beta: float | None,
               depth: int, score: str) -> list[float]:
    """Each text's best gallery score under ``sg``'s current ranking."""
    return [gallery_top(sg.search_result(t, k=depth, alpha=alpha, beta=beta), gallery, score) for t in texts]
