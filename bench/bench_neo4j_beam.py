"""Neo4j's paired index alone: recall@10 and p50 of one ``queryNodes`` call per beam (fetch) and index.

    python bench/bench_neo4j_beam.py --work DIR --neo4j bolt://127.0.0.1:7721 --fetch 100,200,300

Reuses the stores ``bench_search.py --work DIR --neo4j URI`` loaded (its embedded store and corpus in
DIR, its Neo4j at URI). The query parts ``[α·q | β·Σ w p]`` are captured from the embedded engine's
own search; the truth is the formula over the corpus's vectors (joint.npy, native.npy); what the index
returns is re-ranked exactly, as the store does. Set A is bench_search's 40 queries, set B 40 other
phrasings of the same senses (to confirm a setting chosen on A). ``--indexes`` compares other vector
indexes over a copy of ``Media.paired`` (docs/benchmarks.md, run X); ``--compare-engines`` checks
that the Neo4j engine hands its store the same query parts.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_search as bs  # noqa: E402

SET_B = [
    "a tower crane over the construction site", "a grey crane wading in shallow water",
    "a man playing bass in a band", "a fisherman holding a large bass", "a grassy bank of a stream",
    "the bank building downtown", "a computer mouse on a desk", "a small mouse in the grass",
    "a bat hanging in a cave", "a wooden bat for cricket", "a seal swimming in the sea",
    "an official seal stamped on a document", "a jaguar stalking its prey", "a pitcher on the mound",
    "a glass pitcher full of milk", "rock music played loud", "a large rock by the sea",
    "a green plant on a windowsill", "a nuclear plant by the coast", "a hot spring in the mountains",
    "a steel spring in a machine", "palm trees on the beach", "lines on the palm",
    "an archer with a bow", "the bow of the boat in the waves", "an army tank on the road",
    "a water tank on the roof", "lighting a match", "a tennis match on grass", "a puppy playing",
    "a stone bridge", "a house key", "a fountain pen", "sheep in a pen", "a horse running",
    "a cup of tea", "an old clock", "an empty glass", "a pipe organ", "a silk tie",
]


def capture(sg, text: str):
    """(joint, native) parts the engine hands its store's search_match for ``text``."""
    got = {}
    store = sg.engine.store if hasattr(sg, "engine") else sg.store
    orig = store.search_match

    def spy(joint, native, k, *, filters=None):
        got["q"] = (None if joint is None else np.array(joint), None if native is None else np.array(native), k)
        return orig(joint, native, k, filters=filters)

    store.search_match = spy
    try:
        sg.text_memo.clear()
        sg.search_result(text, 10)
    finally:
        del store.search_match
    return got["q"]


def truth(joint_all, native_all, qj, qn, k=100):
    s = joint_all @ qj if qj is not None else np.zeros(len(joint_all), np.float32)
    if qn is not None:
        s = s + native_all @ qn
    part = np.argpartition(-s, k - 1)[:k]
    return part[np.argsort(-s[part])], s


def paired_vector(neo, qj, qn):
    jd, nd = neo._dims
    v = np.zeros(jd + nd + 1, np.float32)
    if qj is not None:
        v[:jd] = qj
    if qn is not None:
        v[jd:jd + nd] = qn
    return v.tolist()


Q_INDEX = """
CALL db.index.vector.queryNodes($index, $fetch, $vector) YIELD node, score
RETURN node.media_id AS media_id, score
"""


def run_index(neo, index, vec, fetch):
    """Media rows the index returns for one query with beam ``fetch``."""
    recs = neo._run(Q_INDEX, {"index": index, "fetch": fetch, "vector": vec})
    pairs = sorted(((r["media_id"], float(r["score"])) for r in recs), key=lambda p: (-p[1], p[0]))
    return [int(m[1:]) for m, _ in pairs]


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", required=True, help="bench_search.py's --work directory")
    ap.add_argument("--neo4j", required=True, help="bolt:// URI of the Neo4j it loaded")
    ap.add_argument("--fetch", default="100,150,200,300,400")
    ap.add_argument("--indexes", default="sg_media_paired")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--sets", default="A,B")
    ap.add_argument("--compare-engines", action="store_true")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    from sensegraph import SenseGraph
    from sensegraph.graph.embedded import EmbeddedStore
    from sensegraph.graph.neo4j_store import Neo4jStore

    work = Path(args.work)
    enc = bs.BenchEncoder(128)
    store = EmbeddedStore(work / "embedded")
    sg = SenseGraph(store, encoder=enc)
    neo = Neo4jStore(args.neo4j)
    n = neo.counts()["media"]
    joint_all = np.load(work / "joint.npy", mmap_mode="r")[:n]
    native_all = np.load(work / "native.npy", mmap_mode="r")[:n]
    joint_all, native_all = np.array(joint_all), np.array(native_all)
    sets = {"A": bs.QUERIES, "B": SET_B}
    qs = {name: [capture(sg, t) for t in sets[name]] for name in args.sets.split(",")}
    if args.compare_engines:
        nsg = SenseGraph(neo, encoder=enc)
        for name in qs:
            diffs = []
            for t, (qj, qn, _) in zip(sets[name], qs[name]):
                mj, mn, _ = capture(nsg, t)
                dj = float(np.abs(qj - mj).max())
                dn = (float(np.abs(qn - mn).max()) if qn is not None and mn is not None
                      else (0.0 if qn is None and mn is None else float("inf")))
                diffs.append((dj, dn))
            bad = [(t, d) for t, d in zip(sets[name], diffs) if max(d) > 1e-4]
            print(f"set {name}: engines' query parts differ on {len(bad)} of {len(diffs)} queries: {bad[:5]}", flush=True)
    truths = {name: [truth(joint_all, native_all, qj, qn) for qj, qn, _ in qs[name]] for name in qs}
    fetches = [int(f) for f in args.fetch.split(",")]
    combos = [(index, fetch) for index in args.indexes.split(",") for fetch in fetches]
    rows = []
    for name in qs:
        vecs = [paired_vector(neo, qj, qn) for qj, qn, _ in qs[name]]
        secs = {c: [] for c in combos}
        rec10 = {c: [] for c in combos}
        rec100 = {c: [] for c in combos}
        for r in range(args.repeat):
            for i, vec in enumerate(vecs):  # every setting on query i in turn: load bursts hit all alike
                for c in combos:
                    t0 = time.perf_counter()
                    got = run_index(neo, c[0], vec, c[1])
                    secs[c].append(time.perf_counter() - t0)
                    if r == 0:
                        top, s = truths[name][i]
                        got_sorted = sorted(got, key=lambda j: -s[j])  # the store re-scores exactly
                        rec10[c].append(len(set(got_sorted[:10]) & set(top[:10].tolist())) / 10)
                        rec100[c].append(len(set(got_sorted[:100]) & set(top[:100].tolist())) / 100)
        for c in combos:
            p50, p95 = bs.pct(secs[c])
            row = {"index": c[0], "set": name, "fetch": c[1], "p50": p50, "p95": p95,
                   "rec10": float(np.mean(rec10[c])), "rec100": float(np.mean(rec100[c])),
                   "misses10": int(round(10 * len(rec10[c]) - 10 * sum(rec10[c]))), "load": bs.load()}
            rows.append(row)
            print(f"{c[0]:>22} set {name} fetch {c[1]:>4}: p50 {p50:6.2f} p95 {p95:6.2f} ms  rec@10 {row['rec10']:.4f} "
                  f"({row['misses10']} missed of {10 * len(rec10[c])})  rec@100 {row['rec100']:.4f}  load {row['load']}", flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1))
    neo.close()
    store.close()


if __name__ == "__main__":
    main()
