"""Neo4jStore bulk write rates: the WordNet 3.0 noun graph and N media with vectors (write, re-write).

    SENSEGRAPH_BENCH_NEO4J=bolt://127.0.0.1:7811 python bench/bench_neo4j_writes.py [--media 20000 --dim 384]

WIPES that database: point it at your own instance (``sensegraph neo4j start --port 7811 --data
/tmp/my-neo4j``). Prints which packstream codec the driver uses (``neo4j-rust-ext`` or pure Python).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from sensegraph.graph.importers.wordnet import build_graph, write_graph
from sensegraph.graph.model import Media
from sensegraph.graph.neo4j_store import Neo4jStore

NEO4J_ENV = "SENSEGRAPH_BENCH_NEO4J"


def media_rounds(store: Neo4jStore, n: int, dim: int, batch: int = 5000) -> tuple[float, float]:
    """Seconds to write n media with unit joint vectors, then to write the same records again."""
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(n, dim)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    records = [Media(f"m{i:07d}", f"file:///{i}", "video" if i % 2 else "image", embedding=vecs[i]) for i in range(n)]
    out = []
    for _ in range(2):
        t0 = time.perf_counter()
        for start in range(0, n, batch):
            store.upsert_media(records[start:start + batch])
        out.append(time.perf_counter() - t0)
    return out[0], out[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--media", type=int, default=20_000)
    ap.add_argument("--dim", type=int, default=384)
    args = ap.parse_args()
    uri = os.environ.get(NEO4J_ENV)
    if not uri:
        sys.exit(f"set {NEO4J_ENV}=bolt://... (a Neo4j you may wipe)")
    try:
        import neo4j._rust  # noqa: F401

        codec = "neo4j-rust-ext"
    except ImportError:
        codec = "pure Python"
    graph = build_graph()
    store = Neo4jStore(uri)
    try:
        store.wipe()
        report = write_graph(store, graph)
        store.bind_encoder("bench-writes", args.dim, args.dim)
        first, again = media_rounds(store, args.media, args.dim)
        store.wipe()
    finally:
        store.close()
    phases = list(report.phase_seconds)
    print(f"Neo4jStore writes, driver codec: {codec}, load average {os.getloadavg()[0]:.1f}")
    print(f"{'phase':<12} {'records':>9} {'seconds':>8} {'records/s':>10}")
    for p in phases:
        print(f"{p:<12} {report.counts[p]:>9,} {report.phase_seconds[p]:>8.1f} {report.rate(p):>10,.0f}")
    print(f"{'KG total':<12} {sum(report.counts.values()):>9,} {sum(report.phase_seconds.values()):>8.1f}")
    print(f"{'media':<12} {args.media:>9,} {first:>8.1f} {args.media / first:>10,.0f}   ({args.dim}-d joint vectors)")
    print(f"{'media again':<12} {args.media:>9,} {again:>8.1f} {args.media / again:>10,.0f}   (unchanged records)")


if __name__ == "__main__":
    main()
