"""What each editor page shows, gathered from a ``SenseGraph`` into plain dicts for the templates."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from sensegraph.errors import NotFound, SenseGraphError, ValidationError
from sensegraph.graph import sense_finder
from sensegraph.graph.model import AuditEntry, MediaFilter

from .plot import sense_plot

if TYPE_CHECKING:
    from sensegraph.sensegraph import SenseGraph

CANDIDATES = 8
GLOSS_CHARS = 70
SUGGESTIONS = 12


def fingerprint(vector: np.ndarray | None) -> str:
    """A short stable digest of a prototype, so a person (or a test) can see that it changed."""
    if vector is None:
        return "—"
    rounded = np.round(np.asarray(vector, dtype=np.float64), 5).tobytes()
    return hashlib.sha256(rounded).hexdigest()[:10]


def short_gloss(gloss: str | None, limit: int = GLOSS_CHARS) -> str:
    """The gloss cut at a word boundary to about ``limit`` characters, so a list says which sense it is."""
    text = " ".join((gloss or "").split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] or text[:limit]
    return cut.rstrip(",;:") + "…"


def sense_refs(store: Any, sense_ids: Iterable[str | None]) -> dict[str, dict[str, str]]:
    """Label and short gloss of each existing sense id, for showing an id as "label (id): gloss"."""
    ids = sorted({s for s in sense_ids if s})
    return {sid: {"label": s.label, "gloss": short_gloss(s.gloss), "redirect_to": s.redirect_to or ""}
            for sid, s in store.get_senses(ids).items()}


def touched_media(entry: AuditEntry) -> list[str]:
    """The media an audited edit touched: every ``media_id`` (and ``media_ids``) in its before/after JSON."""
    found: dict[str, None] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "media_id" and isinstance(value, str):
                    found[value] = None
                elif key == "media_ids" and isinstance(value, list):
                    found.update((v, None) for v in value if isinstance(v, str))
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for blob in (entry.before, entry.after):
        try:
            walk(json.loads(blob))
        except (TypeError, ValueError):
            continue
    return list(found)


def audit_rows(store: Any, entries: list[AuditEntry]) -> dict[str, Any]:
    """What an audit table needs beside the entries: the media each touched and every sense's name."""
    media = {e.audit_id: touched_media(e) for e in entries}
    return {"entries": entries, "media": media, "refs": sense_refs(store, (s for e in entries for s in e.sense_ids))}


def _named(sid: str, refs: dict[str, dict[str, str]]) -> str:
    label = refs.get(sid, {}).get("label")
    return f"{label} ({sid})" if label and label != sid else sid


def _edge_words(state: dict[str, Any]) -> str:
    if state.get("absent"):
        return "removed (there was no edge before)"
    how = ("detached by an editor" if state.get("detached") else
           "held back by the ingest gate" if state.get("source") == "gated" else "counting")
    return f"back to {state.get('source', '?')}, {100 * float(state.get('confidence', 0)):.0f}%, {how}"


def undo_plan(entry: AuditEntry, refs: dict[str, dict[str, str]]) -> list[str]:
    """What undoing ``entry`` will put back, in a curator's words, for the confirmation page (pure)."""
    try:
        before, after = json.loads(entry.before), json.loads(entry.after)
    except (TypeError, ValueError):
        return []
    lines = [f"{e['media_id']} · {_named(e['sense_id'], refs)}: {_edge_words(e)}"
             for e in before.get("evidence", []) if isinstance(e, dict) and "media_id" in e]
    if entry.action == "split" and len(entry.sense_ids) > 1:
        lines.append(f"{_named(entry.sense_ids[1], refs)} is retired and redirects to {_named(entry.sense_ids[0], refs)}")
    elif entry.action == "merge" and len(entry.sense_ids) > 1:
        keep, drop = entry.sense_ids[0], entry.sense_ids[1]
        lines.append(f"{_named(drop, refs)} gets its names, evidence and relations back and no longer redirects to "
                     f"{_named(keep, refs)}")
    elif entry.action == "edit":
        if before.get("label") != after.get("label"):
            lines.append(f"label back to “{before.get('label', '')}”")
        if before.get("gloss") != after.get("gloss"):
            lines.append(f"gloss back to “{short_gloss(before.get('gloss', ''))}”")
        if after.get("aliases_added"):
            lines.append("aliases removed: " + ", ".join(after["aliases_added"]))
    return lines


def audit_entry(store: Any, audit_id: str) -> AuditEntry:
    """One audit entry by id (NotFound otherwise), for the undo confirmation page."""
    for e in store.audit_log(limit=1_000_000):
        if e.audit_id == audit_id:
            return e
    raise NotFound(f"no audit entry with id {audit_id!r}")


def finder_page(store: Any, q: str, limit: int, with_media: bool) -> dict[str, Any]:
    """The sense finder's ranked matches with their kind (exact / prefix / substring) and the counts."""
    found = sense_finder.find(store, q, limit, with_media=with_media)
    return {"found": found.senses, "total": found.total, "with_media_total": found.with_media,
            "kinds": {sid: sense_finder.KIND_NAMES[k] for sid, k in found.kinds.items()}, "media_only": with_media,
            "refs": sense_refs(store, (s.redirect_to for s in found.senses))}


def suggestions(store: Any, view: Any) -> list[dict[str, str]]:
    """Likely targets for move / merge from a sense page: other senses of its name, then its relations."""
    named = [s for s in sense_finder.find(store, view.label, SUGGESTIONS).senses if s.sense_id != view.sense_id]
    ids = [s.sense_id for s in named] + [r["sense_id"] for r in view.related]
    refs = sense_refs(store, ids)
    return [{"sense_id": sid, **refs[sid]} for sid in dict.fromkeys(ids) if sid in refs and not refs[sid]["redirect_to"]]


def pick_sense(store: Any, text: str) -> str:
    """The sense a form field names: an existing id as typed, else the one sense whose name is exactly
    the text (so a form works without the autocomplete); several or none is a clear error."""
    text = text.strip()
    if not text:
        raise ValidationError("name a sense: type its id or its name and pick one from the list")
    if text in store.get_senses([text]):
        return text
    found = sense_finder.find(store, text, 6)
    exact = [s for s in found.senses if found.kinds.get(s.sense_id) == sense_finder.EXACT and not s.redirect_to]
    if len(exact) == 1:
        return exact[0].sense_id
    options = "; ".join(f"{s.sense_id} ({s.label}: {short_gloss(s.gloss, 40)})" for s in (exact or found.senses)[:5])
    if not options:
        raise NotFound(f"no sense is named or has the id {text!r}")
    raise ValidationError(f"{text!r} is not a sense id and names {'several senses' if exact else 'none exactly'}; pick one: {options}")


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
        e["modality"] = m.modality if m else None  # a sound gets a player instead of a thumbnail
        e["cluster"] = cluster_of.get(e["media_id"])
        e["fit"] = _cos(m.features, proto.vector) if (m is not None and m.features is not None and proto is not None) else None
    counting = [e for e in evidence if not e["detached"]]
    fits = [e["fit"] for e in counting if e["fit"] is not None]

    candidates: list[dict[str, Any]] = []
    if proto is not None:
        exclude = tuple(e["media_id"] for e in evidence)
        found = store.search_media(proto.vector, CANDIDATES, space="native", filters=MediaFilter(exclude_ids=exclude))
        cmedia = store.get_media([m for m, _ in found])
        candidates = [{"media_id": m, "sim": s, "caption": cmedia[m].caption if m in cmedia else None,
                       "modality": cmedia[m].modality if m in cmedia else None} for m, s in found]
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
        "audit": audit_rows(store, store.audit_log(sense_id=sense_id, limit=50)),
        "refs": sense_refs(store, [r["sense_id"] for r in view.related] + [view.redirect_to]),
        "suggest": [] if view.redirect_to else suggestions(store, view),
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
    refs = sense_refs(sg.store, list(cand_ids) + [x.get("sense_id") for x in linked])
    for x in linked:
        for c in x["candidates"]:
            c["label"] = refs.get(c["sense_id"], {}).get("label", "")
            c["gloss"] = refs.get(c["sense_id"], {}).get("gloss", "")
    return {
        "media": m,
        "edges": [{"sense_id": e.sense_id, "label": senses[e.sense_id].label if e.sense_id in senses else "",
                   "gloss": short_gloss(senses[e.sense_id].gloss) if e.sense_id in senses else "",
                   "confidence": e.confidence, "source": e.source, "detached": e.detached, "mention": e.mention}
                  for e in sorted(edges, key=lambda e: (e.detached, -e.confidence))],
        "linked": linked,
        "link_error": link_error,
        "refs": refs,
    }


def search_page(sg: SenseGraph, q: str, k: int) -> dict[str, Any]:
    """The text-only ranking (beta = 0) beside the sense-aware one, for the same query."""
    text_only = sg.search_result(q, k, beta=0.0)
    aware = sg.search_result(q, k)
    ids = {h.media_id for h in text_only.hits} | {h.media_id for h in aware.hits}
    rank_text = {h.media_id: h.rank for h in text_only.hits}
    sense_ids = {m["sense_id"] for m in aware.linked if m.get("sense_id")}
    refs = sense_refs(sg.store, sense_ids)
    return {
        "q": q, "k": k, "text_only": text_only, "aware": aware, "rank_text": rank_text, "n_media": len(ids),
        "linked": [dict(m, label=refs.get(m.get("sense_id") or "", {}).get("label", ""),
                        gloss=refs.get(m.get("sense_id") or "", {}).get("gloss", "")) for m in aware.linked],
        "alpha": aware.metadata.get("alpha"), "beta": aware.metadata.get("beta"),
    }
