"""What each editor page shows, gathered from a ``SenseGraph`` into plain dicts for the templates."""
from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import numpy as np

from sensegraph.errors import NotFound, SenseGraphError
from sensegraph.graph.model import MediaFilter

from .plot import sense_plot

if TYPE_CHECKING:
    from sensegraph.sensegraph import SenseGraph

CANDIDATES = 8


def fingerprint(vector: np.ndarray | None) -> str:
    """A short stable digest of a prototype, so a person (or a test) can see that it changed."""
    if vector is None:
        return "—"
    rounded = np.round(np.asarray(vector, dtype=np.float64), 5).tobytes()
    return hashlib.sha256(rounded).hexdigest()[:10]


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    return float(a @ b / (na * nb)) if na > 0 and nb > 0 else 0.0


def sense_page(sg: SenseGraph, sense_id: str) -> dict[str, Any]:
    """A sense with its prototype, evidence (with fit to the prototype), candidates, clusters and plot."""
    from sensegraph.curation import Curator

    view = sg.sense(sense_id)
    store = sg.store
    own = store.get_prototypes([sense_id]).get(sense_id)
    prop = store.get_prototypes([sense_id], propagated=True).get(sense_id)
    proto = own if own is not None else prop
    evidence = sorted(view.evidence, key=lambda e: (e["detached"], -e["confidence"], e["media_id"]))
    media = store.get_media([e["media_id"] for e in evidence])
    groups = Curator(sg).clusters(sense_id) if not view.redirect_to else []
    cluster_of = {m: i for i, g in enumerate(groups) for m in g}
    for e in evidence:
        m = media.get(e["media_id"])
        e["caption"] = m.caption if m else None
        e["cluster"] = cluster_of.get(e["media_id"])
        e["fit"] = _cos(m.features, proto.vector) if (m is not None and m.features is not None and proto is not None) else None
    counting = [e for e in evidence if not e["detached"]]
    fits = [e["fit"] for e in counting if e["fit"] is not None]

    candidates: list[dict[str, Any]] = []
    if proto is not None:
        exclude = tuple(e["media_id"] for e in evidence)
        found = store.search_media(proto.vector, CANDIDATES, space="native", filters=MediaFilter(exclude_ids=exclude))
        cmedia = store.get_media([m for m, _ in found])
        candidates = [{"media_id": m, "sim": s, "caption": cmedia[m].caption if m in cmedia else None} for m, s in found]
    else:
        cmedia = {}

    plot_ids = [e["media_id"] for e in counting if e["media_id"] in cluster_of and media[e["media_id"]].features is not None]
    cand_ids = [c["media_id"] for c in candidates if c["media_id"] in cmedia and cmedia[c["media_id"]].features is not None]
    plot = sense_plot(
        plot_ids,
        np.stack([media[m].features for m in plot_ids]) if plot_ids else np.zeros((0, 1)),
        [cluster_of[m] for m in plot_ids],
        proto.vector if proto is not None else None,
        cand_ids,
        np.stack([cmedia[m].features for m in cand_ids]) if cand_ids else None,
    )
    return {
        "sense": view,
        "prototype": None if proto is None else {
            "source": proto.source, "media_count": proto.media_count, "strategy": proto.strategy,
            "confidence": proto.confidence, "fingerprint": fingerprint(proto.vector),
        },
        "propagated": prop is not None,
        "evidence": evidence,
        "counting": len(counting),
        "mean_fit": float(np.mean(fits)) if fits else None,
        "candidates": candidates,
        "clusters": groups,
        "plot": plot,
        "audit": store.audit_log(sense_id=sense_id, limit=50),
    }


def media_page(sg: SenseGraph, media_id: str) -> dict[str, Any]:
    """A medium, its evidence edges with sense labels, and the linker's reading of its caption."""
    m = sg.store.get_media([media_id], vectors=False).get(media_id)
    if m is None:
        raise NotFound(f"no medium with id {media_id!r}")
    edges = sg.store.evidence(media_id=media_id)
    senses = sg.store.get_senses([e.sense_id for e in edges])
    linked = []
    link_error = None
    if m.caption:
        try:
            linked = [x.to_dict() for x in sg.link(m.caption)]
        except SenseGraphError as exc:  # the caption still shows; pinning by hand still works
            link_error = str(exc)
    cand_ids = {c["sense_id"] for x in linked for c in x["candidates"]}
    labels = {k: v.label for k, v in sg.store.get_senses(sorted(cand_ids)).items()}
    for x in linked:
        for c in x["candidates"]:
            c["label"] = labels.get(c["sense_id"], "")
    return {
        "media": m,
        "edges": [{"sense_id": e.sense_id, "label": senses[e.sense_id].label if e.sense_id in senses else "",
                   "confidence": e.confidence, "source": e.source, "detached": e.detached, "mention": e.mention}
                  for e in sorted(edges, key=lambda e: (e.detached, -e.confidence))],
        "linked": linked,
        "link_error": link_error,
    }


def search_page(sg: SenseGraph, q: str, k: int) -> dict[str, Any]:
    """The text-only ranking (beta = 0) beside the sense-aware one, for the same query."""
    text_only = sg.search_result(q, k, beta=0.0)
    aware = sg.search_result(q, k)
    ids = {h.media_id for h in text_only.hits} | {h.media_id for h in aware.hits}
    rank_text = {h.media_id: h.rank for h in text_only.hits}
    sense_ids = {m["sense_id"] for m in aware.linked if m.get("sense_id")}
    labels = {k: v.label for k, v in sg.store.get_senses(sorted(sense_ids)).items()}
    return {
        "q": q, "k": k, "text_only": text_only, "aware": aware, "rank_text": rank_text, "n_media": len(ids),
        "linked": [dict(m, label=labels.get(m.get("sense_id") or "", "")) for m in aware.linked],
        "alpha": aware.metadata.get("alpha"), "beta": aware.metadata.get("beta"),
    }
