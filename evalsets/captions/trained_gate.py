"""A caption gate trained on the store's own evidence, against the parameter-free entropy gate (issue 21, option).

The entropy gate gives a captioned picture g_cap = c_cap / (c_img + c_cap), i.e. σ(x) with
x = log(c_cap / c_img) = log(ĝ_cap / ĝ_visual), read back from the stored block lengths. The trained gate
is σ(a·x + b), (a, b) fitted by logistic regression on the store's evidence: for every captioned medium m
and sense s it is linker evidence for, does s's leave-m-out caption prototype rank m above the other
captioned media better than its visual prototype does (y = 1) or worse (y = 0)? (a, b) = (1, 0) is the
entropy gate, so the fit can only move away from it where the evidence says so.

It rewrites a copy of a store built by ``run.py`` (captioned encoder) with the trained gate, rebuilds the
prototypes and runs the dev queries on both copies; test is reported only for the record.

    python evalsets/captions/trained_gate.py STORE_DIR --protocol captioned
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

from sensegraph import SenseGraph, fusion
from sensegraph.evaluation import load_evalset
from sensegraph.evaluation.harness import ingest_records, memoize_linking, restrict, run_queries
from sensegraph.evaluation.metrics import summarize
from sensegraph.graph.prototypes import WeightPolicy, evidence_weight

CORE = Path(__file__).resolve().parents[1] / "core"
CONFIG = {"encoder": {"name": "captioned"}, "propagation": {"auto": False}}


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-12)


def training_rows(ids, native, evidence, blocks) -> tuple[np.ndarray, np.ndarray]:
    """(x, y): x = log(ĝ_cap/ĝ_vis) per (medium, sense) row; y = 1 where the caption block's leave-one-out
    prototype ranks the medium above the other captioned media better than the visual block's does."""
    vis, cap = fusion.block_slices(blocks)
    g = np.array([fusion.block_weights(r, blocks) for r in native])
    both = np.where((g[:, 0] > 1e-6) & (g[:, 1] > 1e-6))[0]
    pos = {ids[i]: i for i in both}
    V = np.array([_unit(native[i][vis]) for i in both])
    C = np.array([_unit(native[i][cap]) for i in both])
    by_sense: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for (mid, sid), w in evidence.items():
        if mid in pos:
            by_sense[sid].append((pos[mid], w))
    xs, ys = [], []
    row_of = {i: n for n, i in enumerate(both)}
    for sid, members in by_sense.items():
        if len(members) < 2:
            continue
        total_v = sum(w * V[row_of[i]] for i, w in members)
        total_c = sum(w * C[row_of[i]] for i, w in members)
        for i, w in members:
            r = row_of[i]
            pv, pc = _unit(total_v - w * V[r]), _unit(total_c - w * C[r])
            rank_v = int((V @ pv > V[r] @ pv).sum())
            rank_c = int((C @ pc > C[r] @ pc).sum())
            if rank_v == rank_c:
                continue
            xs.append(np.log(g[i, 1] / g[i, 0]))
            ys.append(1.0 if rank_c < rank_v else 0.0)
    return np.array(xs).reshape(-1, 1), np.array(ys)


def fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    if len(set(y.tolist())) < 2:
        return 1.0, 0.0
    lr = LogisticRegression(C=1.0).fit(x, y)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def image_joint(joint: np.ndarray, caption: np.ndarray, g: np.ndarray) -> np.ndarray:
    """ê_img from a stored fused joint J = (g_i ê_i + g_c ê_c)/N (ê_i unit): N solves ‖N·J − g_c ê_c‖ = g_i."""
    gi, gc = float(g[0]), float(g[1])
    jc = float(joint @ caption)
    n = gc * jc + np.sqrt(max(gc * gc * jc * jc - gc * gc + gi * gi, 0.0))
    return _unit(n * joint - gc * caption)


def rewrite(sg: SenseGraph, a: float, b: float) -> int:
    """Every captioned medium re-fused with the trained gate σ(a·x + b); prototypes rebuilt."""
    blocks = sg.encoder.native_blocks
    vis, cap = fusion.block_slices(blocks)
    changed = []
    for batch in sg.store.iter_media(vectors=True):
        for m in batch:
            gh = fusion.block_weights(m.features, blocks)
            if gh[1] <= 1e-6 or gh[0] <= 1e-6:
                continue
            g = gh / gh.sum()
            e_cap = _unit(m.features[cap])
            e_img = image_joint(m.embedding, e_cap, g)
            gc = 1.0 / (1.0 + np.exp(-(a * np.log(gh[1] / gh[0]) + b)))
            own = np.zeros_like(m.features)
            own[vis] = m.features[vis]
            joint, native, _ = fusion.fuse_caption(e_img, own, e_cap, 1.0 - gc, gc, blocks)
            changed.append(type(m)(m.media_id, m.uri, m.modality, m.sha256, joint, native, m.caption, m.metadata))
    sg.store.upsert_media(changed)
    sg.rebuild_prototypes()
    sg.reset_part("engine")
    return len(changed)


def score(sg: SenseGraph, pairs, gallery, depth: int, alpha: float | None, beta: float | None) -> dict[str, float]:
    outs = run_queries(sg, pairs, gallery, alpha=alpha, beta=beta, depth=depth)
    s = summarize((o.ranked, o.gold) for o in outs)
    return {"hit@1": round(s["hit@1"], 3), "MRR": round(s["MRR"], 3), "n": int(s["n"])}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("store", help="the captioned encoder's store that run.py built (…/<protocol>/captioned/<protocol>)")
    ap.add_argument("--protocol", default="captioned")
    args = ap.parse_args()
    evalset = load_evalset(CORE)
    records, gallery = ingest_records(evalset, args.protocol)
    dev = [p for p in restrict(evalset.select("dev"), gallery) if p[0].lang == "en"]
    test = [p for p in restrict(evalset.select("test"), gallery) if p[0].lang == "en"]
    with tempfile.TemporaryDirectory(prefix="D-gate-") as tmp:
        copy = Path(tmp) / "store"
        shutil.copytree(args.store, copy, ignore=shutil.ignore_patterns("*.lock"))
        with SenseGraph(str(copy), config=CONFIG) as sg:
            memoize_linking(sg)
            depth = int(sg.store.counts().get("media", 0))
            ids, native, ev = [], [], {}
            pol = WeightPolicy()
            for e in sg.store.evidence():
                if e.source == "linker" and evidence_weight(e, pol) > 0:
                    ev[(e.media_id, e.sense_id)] = evidence_weight(e, pol)
            for batch in sg.store.iter_media(vectors=True):
                for m in batch:
                    ids.append(m.media_id)
                    native.append(m.features)
            x, y = training_rows(ids, np.array(native), ev, sg.encoder.native_blocks)
            a, b = fit(x, y)
            acc_trained = float(((1 / (1 + np.exp(-(a * x[:, 0] + b))) > 0.5) == (y > 0.5)).mean()) if len(y) else 0.0
            acc_entropy = float(((x[:, 0] > 0) == (y > 0.5)).mean()) if len(y) else 0.0
            print(f"rows {len(y)} (caption better in {int(y.sum())}); fitted a={a:.3f} b={b:.3f}; "
                  f"agreement with y: trained {acc_trained:.3f}, entropy gate {acc_entropy:.3f}")
            results = {}
            for gate in ("entropy", "trained"):
                if gate == "trained":
                    print(f"re-fused {rewrite(sg, a, b)} captioned media with the trained gate")
                for split, pairs in (("dev", dev), ("test", test)):
                    for mode, (al, be) in (("text-only", (1.0, 0.0)), ("sense-aware (defaults)", (None, None))):
                        results[(gate, split, mode)] = score(sg, pairs, gallery, depth, al, be)
                        print(f"{gate:8} {split:4} {mode:24} {results[(gate, split, mode)]}", flush=True)


if __name__ == "__main__":
    main()
