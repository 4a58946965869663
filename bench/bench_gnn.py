"""Benchmark GNN propagation on the whole WordNet noun graph: read, gloss embedding, training, inference, memory.

    python bench/bench_gnn.py --store /tmp/wn-bench          # imports WordNet there first if it is empty
    python bench/bench_gnn.py --coldstart [--end-to-end none,neighbour-mean] [--work DIR]

``--coldstart`` runs the cold-start protocol on evalsets/coldstart instead (docs/gnn.md): 5 folds over
its 367 checked senses, every medium of a fold's senses hidden from the prototypes, each method predicts
the cold senses' prototypes, and the table gives query MRR (the sense's drawings ranked among all 839 by
cosine to the prediction) on the dev and the test half of the senses (tune on dev, report test).
``--end-to-end M,…`` also runs the real search (``SenseGraph.search_many``, shipped defaults) for every
cold sense's label in a store holding the visible evidence, without propagation (``none``) and after a
full ``propagate`` with each method, and prints its MRR per split.

Evidence comes from the core eval set's real images (default encoder), so ~120 senses have media
prototypes. Prints one table: seconds per phase and the process's peak resident memory after it.
The gloss embeddings are cached beside the store: the first run pays for MiniLM over every gloss
("glosses (cold)"), later runs read them back ("glosses (warm)").
"""
from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", default="/tmp/sensegraph-bench-gnn", help="embedded store directory (WordNet imported if empty)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (the target machine has 2 cores)")
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--gloss-sample", type=int, default=0,
                    help="embed only this many glosses with MiniLM (rate measured) and use random unit vectors for the "
                         "rest, in a throwaway cache; timings of training and inference do not depend on the values")
    ap.add_argument("--coldstart", action="store_true", help="run the cold-start protocol on evalsets/coldstart")
    ap.add_argument("--work", default="/tmp/sensegraph-bench-coldstart", help="--coldstart: store, caches and fold stores")
    ap.add_argument("--methods", default="none,hypernym-backoff,neighbour-mean,gnn", help="--coldstart: methods compared")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--end-to-end", default="", help="--coldstart: comma-separated methods searched end to end (none = no "
                                                     "propagation; none-no-hand-on = that with search.hand_on off)")
    ap.add_argument("--e2e-folds", type=int, default=0, help="--end-to-end: only the first N folds (0: all)")
    ap.add_argument("--json", default="", help="--coldstart: write the prototype-ranking report here")
    ap.add_argument("--weights", default="1.0", help="--end-to-end: search.propagated_weight values, each searched on "
                                                     "the same propagated store (tune on dev)")
    args = ap.parse_args()
    if args.coldstart:
        return coldstart(args)

    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    from sensegraph.config import PrototypeConfig
    from sensegraph.encoders.factory import create_encoder
    from sensegraph.encoders.text import MiniLMTextEncoder
    from sensegraph.evaluation import load_evalset, resolve_media
    from sensegraph.gnn.data import TextFeatureCache, build_sense_graph
    from sensegraph.gnn.infer import confidences, propagated_prototypes
    from sensegraph.gnn.train import TrainConfig, full_forward, train
    from sensegraph.graph.embedded import EmbeddedStore
    from sensegraph.graph.importers import import_wordnet
    from sensegraph.graph.model import Evidence, Media
    from sensegraph.prototype_updates import PrototypeUpdater

    rows: list[tuple[str, float, str]] = []

    def phase(name: str, t0: float, note: str = "") -> None:
        rows.append((name, time.perf_counter() - t0, note))
        print(f"  {name}: {rows[-1][1]:.1f}s {note}", file=sys.stderr, flush=True)

    store = EmbeddedStore(args.store)
    if store.counts()["senses"] < 80000:
        t = time.perf_counter()
        import_wordnet(store)
        phase("import WordNet", t, f"{store.counts()['senses']} senses")
    if store.counts()["prototypes_media"] == 0:
        t = time.perf_counter()
        evalset = load_evalset(ROOT / "evalsets" / "core")
        enc = create_encoder("default")
        emb = enc.embed_media([resolve_media(m.media, evalset.root) for m in evalset.media])
        store.bind_encoder(enc.encoder_id, enc.joint_dim, enc.native_dim)
        store.upsert_media(Media(m.id, m.media, features=emb.native[i], embedding=emb.joint[i]) for i, m in enumerate(evalset.media))
        store.upsert_evidence(Evidence(m.id, s, 1.0) for m in evalset.media for s in m.senses)
        PrototypeUpdater(store, PrototypeConfig()).rebuild_all()
        phase("embed + ingest eval media", t, f"{store.counts()['prototypes_media']} prototypes")

    text = MiniLMTextEncoder()
    embed = text.embed_texts
    cache_dir = Path(args.store) / "cache"
    if args.gloss_sample:
        import tempfile

        cache_dir = Path(tempfile.mkdtemp(prefix="bench-gnn-"))
        budget = [args.gloss_sample]
        gen = np.random.default_rng(0)

        def embed(texts):  # noqa: F811 - the sampled variant
            real = min(len(texts), budget[0])
            budget[0] -= real
            fake = gen.normal(size=(len(texts) - real, 384)).astype(np.float32)
            fake /= np.linalg.norm(fake, axis=1, keepdims=True)
            t1 = time.perf_counter()
            out = np.concatenate([text.embed_texts(list(texts[:real])), fake]) if real else fake
            if real:
                rows.append((f"MiniLM on {real} glosses", time.perf_counter() - t1, f"{real / (time.perf_counter() - t1):.0f} glosses/s"))
            return out
    cache = TextFeatureCache(cache_dir, text.encoder_id)
    t = time.perf_counter()
    cold = len(cache._keys) == 0
    graph = build_sense_graph(store, cache, embed, hops=None, progress=True)
    phase(f"read graph + glosses ({'sampled' if args.gloss_sample else 'cold' if cold else 'warm'})", t,
          f"{graph.num_nodes} senses, {graph.data.edge_index.size(1)} edges")
    t = time.perf_counter()
    result = train(graph, config=TrainConfig(epochs=args.epochs), progress=True)
    phase("train (NeighborLoader)", t, f"{result.epochs_run} epochs, val cos {result.val_cosine:.3f}")
    t = time.perf_counter()
    pred = full_forward(result.model, graph, graph.data.has_proto)
    conf = confidences(graph, graph.data.has_proto, result.val_cosine)
    phase("infer whole graph", t, f"{graph.num_nodes} senses")
    t = time.perf_counter()
    protos = propagated_prototypes(graph, pred, conf, torch.arange(graph.num_nodes))
    for start in range(0, len(protos), 2000):
        store.set_prototypes(protos[start : start + 2000])
    phase("write propagated", t, f"{len(protos)} prototypes")
    store.close()

    print(f"\n{'phase':<34} {'seconds':>9}  {'peak RSS MiB':>12}  note")
    peak = peak_mib()
    for name, sec, note in rows:
        print(f"{name:<34} {sec:>9.1f}  {'':>12}  {note}")
    print(f"{'(process peak)':<34} {'':>9}  {peak:>12.0f}")
    print(f"torch threads {torch.get_num_threads()}")
    return 0


NO_PROPAGATION = {"none": {}, "none-no-hand-on": {"hand_on": False}}  # end-to-end pipelines without propagate


def coldstart(args: argparse.Namespace) -> int:
    """The cold-start table (prototype ranking, and with ``--end-to-end`` the real search) on evalsets/coldstart."""
    import json
    import shutil

    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    from sensegraph.encoders.factory import create_encoder
    from sensegraph.encoders.text import MiniLMTextEncoder
    from sensegraph.evaluation import load_evalset, resolve_media
    from sensegraph.encoders.text_cache import TextCache, text_cache_dir
    from sensegraph.gnn.data import build_sense_graph
    from sensegraph.gnn.evaluate import EvalQueryTarget, MediaEvidence, evaluate_propagation, make_folds
    from sensegraph.gnn.train import TrainConfig
    from sensegraph.graph.embedded import EmbeddedStore
    from sensegraph.graph.importers import import_wordnet

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    evalset = load_evalset(ROOT / "evalsets" / "coldstart")
    enc = create_encoder("default")
    base = work / "wordnet"
    store = EmbeddedStore(base)
    if store.counts()["senses"] < 80000:
        import_wordnet(store)
    if not store.get_meta("encoder_id"):
        store.bind_encoder(enc.encoder_id, enc.joint_dim, enc.native_dim)
    emb_file = work / "media.npz"
    if not emb_file.is_file():
        paths = [resolve_media(m.media, evalset.root) for m in evalset.media]
        joint, native = [], []
        for start in range(0, len(paths), 16):
            e = enc.embed_media(paths[start : start + 16])
            joint.append(np.asarray(e.joint, np.float32))
            native.append(np.asarray(e.native, np.float32))
            print(f"  embedded {start + len(e.joint)}/{len(paths)} drawings", file=sys.stderr, flush=True)
        np.savez(emb_file, ids=np.asarray([m.id for m in evalset.media]), joint=np.concatenate(joint),
                 native=np.concatenate(native))
    z = dict(np.load(emb_file))
    row = {m: i for i, m in enumerate(z["ids"].tolist())}
    senses = sorted({s for m in evalset.media for s in m.senses})
    splits = {q.target_senses[0]: q.split for q in evalset.queries}  # the manifest's seeded dev / test halves
    text = MiniLMTextEncoder()
    gloss_cache = TextCache(text_cache_dir(), text.encoder_id, dim=text.dim)  # machine-wide, as propagate uses
    graph = build_sense_graph(store, gloss_cache, text.embed_texts, hops=2, seeds=senses, progress=True)
    gloss_cache.close()
    store.close()
    evidence = MediaEvidence({m.id: z["native"][row[m.id]] for m in evalset.media},
                             {m.id: tuple(m.senses) for m in evalset.media})
    queries = [EvalQueryTarget(q.id, tuple(q.gold), tuple(q.target_senses)) for q in evalset.queries]
    methods = [m for m in args.methods.split(",") if m]
    t = time.perf_counter()
    report = evaluate_propagation(graph, evidence, queries, folds=args.folds, seed=0, methods=methods,
                                  train_config=TrainConfig(epochs=args.epochs), splits=splits,
                                  log=lambda msg: print("  " + msg, file=sys.stderr, flush=True))
    print(f"\ncold-start, prototype ranking: {len(evalset.media)} drawings, {len(senses)} senses, {args.folds} folds, "
          f"graph {graph.num_nodes} senses ({time.perf_counter() - t:.0f}s)")
    print("query MRR pooled over the folds, and mean ± sd of the per-fold MRRs")
    print(f"{'method':<18} {'dev MRR':>8} {'(folds)':>13} {'test MRR':>9} {'(folds)':>13} {'test hit@1':>11} "
          f"{'test cosine':>12} {'coverage':>9}")
    spread = lambda xs: f"{np.mean(xs):.3f}±{np.std(xs):.3f}"  # noqa: E731
    for m in methods:
        dev, test = report.splits["dev"][m], report.splits["test"][m]
        print(f"{m:<18} {dev['query_mrr']:>8.3f} {spread(dev['query_mrr_folds']):>13} {test['query_mrr']:>9.3f} "
              f"{spread(test['query_mrr_folds']):>13} {test['query_hit@1']:>11.3f} {test['cosine']:>12.3f} "
              f"{test['coverage']:>9.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(report.to_dict(), indent=1))
    e2e = [m for m in args.end_to_end.split(",") if m]
    if not e2e:
        return 0
    import sensegraph.matcher  # noqa: F401  first, as the search module imports its hook
    from sensegraph.config import PrototypeConfig
    from sensegraph.graph.model import Evidence, Media
    from sensegraph.prototype_updates import PrototypeUpdater
    from sensegraph.sensegraph import SenseGraph

    gold = {q.target_senses[0]: set(q.gold) for q in evalset.queries}
    label = {q.target_senses[0]: q.text for q in evalset.queries}
    weights = [float(w) for w in args.weights.split(",") if w]
    rr: dict[tuple[str, str, int], list[float]] = {}  # (pipeline, split, fold) -> reciprocal ranks
    for f, cold in enumerate(make_folds(senses, args.folds, 0)[: args.e2e_folds or None]):
        held = {m.id for m in evalset.media if set(cold) & set(m.senses)}
        fold_base = work / f"fold{f}"
        if fold_base.exists():
            shutil.rmtree(fold_base)
        shutil.copytree(base, fold_base)
        st = EmbeddedStore(fold_base)
        st.upsert_media(Media(m.id, m.media, embedding=z["joint"][row[m.id]], features=z["native"][row[m.id]])
                        for m in evalset.media)
        st.upsert_evidence(Evidence(m.id, s, 1.0) for m in evalset.media if m.id not in held for s in m.senses)
        PrototypeUpdater(st, PrototypeConfig()).rebuild_all()
        st.close()
        for method in e2e:
            d = work / f"fold{f}-{method}"
            if d.exists():
                shutil.rmtree(d)
            shutil.copytree(fold_base, d)
            for w in ([1.0] if method in NO_PROPAGATION else weights):
                config = {"encoder": {"text_cache_dir": str(work / "texts")},
                          "search": {"candidates": 1000, "propagated_weight": w, **NO_PROPAGATION.get(method, {})},
                          "propagation": {"auto": False, "method": "neighbour-mean" if method in NO_PROPAGATION else method}}
                sg = SenseGraph(str(d), config=config)
                try:
                    if method not in NO_PROPAGATION and w == weights[0]:
                        sg.propagate()
                    results = sg.search_many([label[s] for s in cold], k=1000)
                finally:
                    sg.close()
                name = method if method in NO_PROPAGATION or len(weights) == 1 else f"{method} w={w:g}"
                for s, res in zip(cold, results):
                    rank = next((i + 1 for i, h in enumerate(res.hits) if h.media_id in gold[s]), None)
                    rr.setdefault((name, splits[s], f), []).append(1.0 / rank if rank else 0.0)
            shutil.rmtree(d)
            print(f"  fold {f + 1}: {method} searched", file=sys.stderr, flush=True)
        shutil.rmtree(fold_base)
    names = list(dict.fromkeys(k[0] for k in rr))
    folds_run = sorted({k[2] for k in rr})
    print(f"\ncold-start, end to end (SenseGraph.search_many, shipped search defaults, MRR@1000; "
          f"{len(folds_run)} folds: pooled mean, and mean ± sd of the per-fold means)")
    print(f"{'pipeline':<32} {'dev MRR':>8} {'(folds)':>14} {'test MRR':>9} {'(folds)':>14} {'queries':>8}")
    for name in names:
        cells = []
        for split in ("dev", "test"):
            per = [np.mean(rr[(name, split, f)]) for f in folds_run if rr.get((name, split, f))]
            pooled = [x for f in folds_run for x in rr.get((name, split, f), [])]
            cells.append((np.mean(pooled) if pooled else float("nan"), np.mean(per) if per else float("nan"),
                          np.std(per) if per else float("nan"), len(pooled)))
        label_ = {"none": "no propagation", "none-no-hand-on": "no propagation, hand_on off"}.get(name, f"propagate ({name})")
        print(f"{label_:<32} {cells[0][0]:>8.3f} {cells[0][1]:>7.3f}±{cells[0][2]:.3f} {cells[1][0]:>9.3f} "
              f"{cells[1][1]:>7.3f}±{cells[1][2]:.3f} {cells[0][3] + cells[1][3]:>8}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
