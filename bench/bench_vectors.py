"""Vector search in the embedded store: exact numpy vs IVF latency and recall@10, with filters.

    python bench/bench_vectors.py                       # 20k and 50k media, dimension 384
    python bench/bench_vectors.py --sizes 5000 50000 --dim 512 --queries 200

Clustered unit vectors (200 centres plus noise, like real embeddings; ``--random`` for isotropic
noise, the worst case for any approximate index) and queries near them. For each size the
same store is searched with ``ann_threshold`` above the size (exact) and below it (IVF); the
first IVF search builds the index, reported as "build s". Filters: modality (half the media),
sense (a tenth, through evidence edges) and a narrow sense (50 media, answered exactly).
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from sensegraph.graph.embedded import EmbeddedStore
from sensegraph.graph.model import Evidence, Media, MediaFilter, Sense


def vectors(rng: np.random.Generator, n: int, dim: int, centres: np.ndarray | None) -> np.ndarray:
    """n unit vectors: around random centres (clustered) or isotropic (centres None)."""
    if centres is None:
        v = rng.normal(size=(n, dim))
    else:
        v = centres[rng.integers(0, len(centres), n)] + 0.6 * rng.normal(size=(n, dim))
    v = v.astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def build(path: Path, n: int, dim: int, rng: np.random.Generator, centres: np.ndarray | None) -> float:
    """Write n media with evidence to two senses; returns the seconds it took."""
    t0 = time.perf_counter()
    with EmbeddedStore(path) as store:
        store.bind_encoder("bench", dim, dim)
        store.upsert_senses([Sense("n_tenth", "a tenth"), Sense("n_fifty", "fifty")])
        for start in range(0, n, 10_000):
            m = min(10_000, n - start)
            vecs = vectors(rng, m, dim, centres)
            store.upsert_media([
                Media(f"m{i:07d}", f"file:///{i}", "video" if i % 2 else "image", embedding=vecs[i - start])
                for i in range(start, start + m)
            ])
        store.upsert_evidence([Evidence(f"m{i:07d}", "n_tenth", 0.5) for i in range(0, n, 10)]
                              + [Evidence(f"m{i:07d}", "n_fifty", 0.5) for i in range(7, 50 * 13, 13)])
    return time.perf_counter() - t0


def timed(store: EmbeddedStore, queries: np.ndarray, k: int, f: MediaFilter | None) -> tuple[list[set[str]], float]:
    t0 = time.perf_counter()
    out = [{m for m, _ in store.search_media(q, k, filters=f)} for q in queries]
    return out, (time.perf_counter() - t0) / len(queries) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[20_000, 50_000])
    ap.add_argument("--random", action="store_true", help="isotropic vectors instead of clustered ones")
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--k", type=int, default=10)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    centres = None if args.random else rng.normal(size=(200, args.dim))
    filters = {"none": None, "modality": MediaFilter(modality="video"),
               "sense 1/10": MediaFilter(sense_id="n_tenth"), "sense 50": MediaFilter(sense_id="n_fifty")}
    head = ("media", "filter", "exact ms", "ivf ms", "recall@k", "build s", "write s")
    data = "random" if args.random else "clustered"
    print(f"embedded store vector search, {data} vectors, dim {args.dim}, k {args.k}, {args.queries} queries")
    print(" | ".join(f"{h:>10}" for h in head))
    print("-+-".join("-" * 10 for _ in head))
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "store"
            write_s = build(path, n, args.dim, rng, centres)
            queries = vectors(rng, args.queries, args.dim, centres)
            exact = EmbeddedStore(path, ann_threshold=n + 1)
            ann = EmbeddedStore(path, ann_threshold=min(n, 20_000))
            t0 = time.perf_counter()
            ann.search_media(queries[0], args.k)
            build_s = time.perf_counter() - t0
            for name, f in filters.items():
                truth, exact_ms = timed(exact, queries, args.k, f)
                got, ann_ms = timed(ann, queries, args.k, f)
                recall = np.mean([len(a & b) / max(1, len(b)) for a, b in zip(got, truth)])
                cells = (f"{n:,}", name, f"{exact_ms:.2f}", f"{ann_ms:.2f}", f"{recall:.3f}",
                         f"{build_s:.1f}" if name == "none" else "", f"{write_s:.1f}" if name == "none" else "")
                print(" | ".join(f"{c:>10}" for c in cells))
            exact.close()
            ann.close()


if __name__ == "__main__":
    main()
