"""Benchmark GNN propagation on the whole WordNet noun graph: read, gloss embedding, training, inference, memory.

    python bench/bench_gnn.py --store /tmp/wn-bench          # imports WordNet there first if it is empty

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
    args = ap.parse_args()

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


if __name__ == "__main__":
    raise SystemExit(main())
