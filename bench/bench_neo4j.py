"""Local Neo4j lifecycle and Neo4jStore vector search: start/stop seconds, write rate, latency, recall.

    python bench/bench_neo4j.py                          # 2 start/stop rounds, 20k media, dim 384
    python bench/bench_neo4j.py --rounds 3 --media 50000 --dim 512 --queries 100

Starts its own Neo4j (``sensegraph.neo4j_server``) on a free port in a temporary directory:
a cold start (empty data directory), then restarts on the same data. Then writes random unit
vectors through ``Neo4jStore.upsert_media`` and compares ``search_media`` (HNSW vector index,
exact re-scoring) with exact numpy top-10: unfiltered, a modality filter (half the media), a
sense filter (a tenth, exact scan over the sense's evidence) and an exclusion list of 200 ids.
"""
from __future__ import annotations

import argparse
import socket
import tempfile
import time
from pathlib import Path

import numpy as np

from sensegraph import neo4j_server as srv
from sensegraph.graph.model import Evidence, Media, MediaFilter, Sense


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def lifecycle(data: Path, port: int, rounds: int) -> list[tuple[str, float]]:
    """(label, seconds) of each start (until Bolt answers) and stop (until the process exits)."""
    rows = []
    for i in range(rounds):
        t0 = time.perf_counter()
        srv.start(data, port)
        rows.append((f"start {'cold' if i == 0 else 'warm'} #{i + 1}", time.perf_counter() - t0))
        t0 = time.perf_counter()
        srv.stop(data)
        rows.append((f"stop #{i + 1}", time.perf_counter() - t0))
    return rows


def search_bench(uri: str, n: int, dim: int, queries: int, rng: np.random.Generator) -> list[tuple[str, float, float]]:
    """(case, ms per query, recall@10) for each filter case; plus the write rate as a case."""
    from sensegraph.graph.neo4j_store import Neo4jStore

    store = Neo4jStore(uri)
    store.wipe()
    store.bind_encoder("bench", dim, dim)
    store.upsert_senses([Sense("n_tenth", "a tenth")])
    vecs = rng.normal(size=(n, dim)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    ids = np.array([f"m{i:07d}" for i in range(n)])
    t0 = time.perf_counter()
    for start in range(0, n, 5000):
        store.upsert_media([Media(ids[i], f"file:///{i}", "video" if i % 2 else "image", embedding=vecs[i])
                            for i in range(start, min(n, start + 5000))])
    store.upsert_evidence([Evidence(ids[i], "n_tenth", 0.5) for i in range(0, n, 10)])
    store._run("CALL db.awaitIndexes(600)")
    write_s = time.perf_counter() - t0
    rows: list[tuple[str, float, float]] = [(f"write {n} media (+{n // 10} evidence)", write_s * 1000, float("nan"))]
    qs = rng.normal(size=(queries, dim)).astype(np.float32)
    qs /= np.linalg.norm(qs, axis=1, keepdims=True)
    exclude = tuple(ids[:200])
    cases = {
        "unfiltered": (None, np.ones(n, bool)),
        "modality=video (1/2)": (MediaFilter(modality="video"), np.arange(n) % 2 == 1),
        "sense (1/10, exact scan)": (MediaFilter(sense_id="n_tenth"), np.arange(n) % 10 == 0),
        "exclude 200 ids": (MediaFilter(exclude_ids=exclude), np.arange(n) >= 200),
    }
    for name, (flt, mask) in cases.items():
        store.search_media(qs[0], 10, filters=flt)  # warm the query plan
        hits, t0 = 0, time.perf_counter()
        got_all = [store.search_media(q, 10, filters=flt) for q in qs]
        ms = (time.perf_counter() - t0) * 1000 / queries
        for q, got in zip(qs, got_all):
            scores = np.where(mask, vecs @ q, -np.inf)
            want = set(ids[np.argsort(-scores)[:10]])
            hits += len(want & {m for m, _ in got})
        rows.append((name, ms, hits / (10 * queries)))
    store.wipe()
    store.close()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--media", type=int, default=20_000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--queries", type=int, default=50)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        data, port = Path(tmp) / "neo4j", free_port()
        life = lifecycle(data, port, args.rounds)
        print(f"{'Neo4j lifecycle':<28} {'seconds':>8}")
        for label, s in life:
            print(f"{label:<28} {s:8.2f}")
        srv.start(data, port)
        try:
            rows = search_bench(f"bolt://127.0.0.1:{port}", args.media, args.dim, args.queries, rng)
        finally:
            srv.stop(data)
    print(f"\n{'Neo4jStore search (k=10)':<34} {'ms/query':>9} {'recall@10':>10}")
    for name, ms, recall in rows:
        if np.isnan(recall):
            print(f"{name:<34} {ms / 1000:8.1f}s {'':>10}")
        else:
            print(f"{name:<34} {ms:9.1f} {recall:10.3f}")


if __name__ == "__main__":
    main()
