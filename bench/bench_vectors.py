"""Vector search in the embedded store: exact numpy vs IVF latency and recall@10, with filters;
and (``--compressed``) the float32 IVF-Flat index against the compressed IVF-PQ one on 1664-d
paired [joint 384 | native 1280] rows under the match formula.

    python bench/bench_vectors.py                       # 20k and 50k media, dimension 384
    python bench/bench_vectors.py --sizes 5000 50000 --dim 512 --queries 200
    python bench/bench_vectors.py --compressed --sizes 100000 --store-max 100000      # through the store
    python bench/bench_vectors.py --compressed --sizes 1000000 --store-max 0 --nlist 2000 --work /tmp/v  # index level

Compressed mode: synthetic clustered paired rows (400 topics x 25 sub-centres; joint and native
parts each unit length) written to a float32 file, formula queries (0.5 x a topic's joint centre
plus noise, like a text query far from its media, and 0.5 x the topic's native centre, like a
prototype). Rows "rN" re-score exactly N·k candidates (the store's floor, RESCORE_MIN, is off
here; the store's default is max(25·k, 1000)). rec* is recall@k of each index against the formula scored over every row (the bench's
own pass over the file). Up to ``--store-max`` media go through ``EmbeddedStore.search_match``
(written to SQLite, searched flat, then compressed); larger sizes build the two indexes from the
file directly (``IvfIndex``; the flat one shares the PQ index's centroids and lists), since a 1M
store of 1664-d rows holds 6.7 GB twice (tables and index) on the flat path. "cold" re-scores after
evicting the row file from the page cache (posix_fadvise), so every re-scored row is a disk read.

Clustered unit vectors (200 centres plus noise, like real embeddings; ``--random`` for isotropic
noise, the worst case for any approximate index) and queries near them. For each size the
same store is searched with ``ann_threshold`` above the size (exact) and below it (IVF); the
first IVF search builds the index, reported as "build s". Filters: modality (half the media),
sense (a tenth, through evidence edges) and a narrow sense (50 media, answered exactly).
"""
from __future__ import annotations

import argparse
import gc
import mmap
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from sensegraph.graph.embedded import EmbeddedStore
from sensegraph.graph.model import Evidence, Media, MediaFilter, Sense
from sensegraph.graph import vector_index
from sensegraph.graph.vector_index import IvfIndex, n_lists

JOINT, NATIVE = 384, 1280


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


# -- compressed mode ------------------------------------------------------------------------------
def _unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32)


class Topics:
    """400 topics, 25 sub-centres each, in both spaces: media sit near a sub-centre (cosine ~0.94)."""

    def __init__(self, seed: int = 0, topics: int = 400, subs: int = 25) -> None:
        rng = np.random.default_rng(seed)
        self.topics, self.subs = topics, subs
        self.centre = [_unit(rng.normal(size=(topics, d))) for d in (JOINT, NATIVE)]
        self.sub = [_unit(np.repeat(c, subs, axis=0) + 0.9 * _unit(rng.normal(size=(topics * subs, c.shape[1]))))
                    for c in self.centre]

    def media(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """n paired rows [joint | native], each part unit length."""
        s = rng.integers(0, self.topics * self.subs, n)
        parts = [_unit(sub[s] + 0.35 * _unit(rng.standard_normal((n, sub.shape[1]), dtype=np.float32))) for sub in self.sub]
        return np.hstack(parts)

    def queries(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """n formula queries [0.5 · text-like | 0.5 · prototype] for random topics."""
        t = rng.integers(0, self.topics, n)
        text = _unit(self.centre[0][t] + 1.1 * _unit(rng.normal(size=(n, JOINT))))
        return np.hstack([0.5 * text, 0.5 * self.centre[1][t]]).astype(np.float32)


def write_rows(path: Path, n: int, topics: Topics) -> np.memmap:
    """The n x 1664 float32 row file (reused when it exists with the right size)."""
    dim = JOINT + NATIVE
    if path.exists() and path.stat().st_size == n * dim * 4:
        return np.memmap(path, dtype=np.float32, mode="r", shape=(n, dim))
    tmp = path.with_suffix(".part")
    mm = np.memmap(tmp, dtype=np.float32, mode="w+", shape=(n, dim))
    rng = np.random.default_rng(n)
    for lo in range(0, n, 50_000):
        mm[lo: min(n, lo + 50_000)] = topics.media(rng, min(n, lo + 50_000) - lo)
    mm.flush()
    del mm
    os.replace(tmp, path)  # a run stopped half-way leaves no file that looks finished
    return np.memmap(path, dtype=np.float32, mode="r", shape=(n, dim))


def formula_truth(rows: np.ndarray, queries: np.ndarray, k: int) -> list[set[int]]:
    """Exact top-k rows by the formula (inner product with the paired query), a chunk at a time."""
    best_s = np.full((len(queries), 0), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(queries), 0), dtype=np.int64)
    for lo in range(0, len(rows), 100_000):
        sc = np.asarray(rows[lo: lo + 100_000]) @ queries.T  # (chunk, q)
        s = np.hstack([best_s, sc.T])
        i = np.hstack([best_i, np.broadcast_to(np.arange(lo, lo + sc.shape[0]), (len(queries), sc.shape[0]))])
        top = np.argsort(-s, axis=1)[:, :k]
        best_s, best_i = np.take_along_axis(s, top, 1), np.take_along_axis(i, top, 1)
    return [set(r.tolist()) for r in best_i]


def _evict(path: Path, rows: np.memmap) -> None:
    """Drop the file's pages from this mapping and from the page cache, so the next reads go to disk."""
    rows._mmap.madvise(mmap.MADV_DONTNEED)
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def _rss_anon_mb() -> float:
    """Anonymous resident memory of this process (what a memmap's file pages do not count in)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _p(ms: list[float], q: float) -> float:
    return float(np.percentile(ms, q))


def _row(cells: tuple) -> None:
    print(" | ".join(f"{c:>11}" for c in cells), flush=True)


def index_level(n: int, args: argparse.Namespace, topics: Topics, work: Path) -> None:
    """Build IVF-PQ (and IVF-Flat on its centroids and lists) from the row file; time and score queries."""
    import faiss

    path = work / f"rows-{n}.f32"
    t0 = time.perf_counter()
    rows = write_rows(path, n, topics)
    gen_s = time.perf_counter() - t0
    queries = topics.queries(np.random.default_rng(7), args.queries)
    truth = {k: formula_truth(rows, queries, k) for k in args.ks}
    nlist = args.nlist or n_lists(n)
    keys = np.arange(n, dtype=np.int64)
    pq = IvfIndex(work / f"pq-{n}.faiss", rows.shape[1], "pq")
    t0 = time.perf_counter()
    pq.rebuild(lambda pos: np.asarray(rows[pos]), keys, 0, 0, nlist=nlist)
    pq_s = time.perf_counter() - t0
    ivf = pq._index
    pq_bytes = ivf.invlists.compute_ntotal() * (ivf.code_size + 8) + ivf.quantizer.ntotal * ivf.d * 4 + ivf.pq.M * ivf.pq.ksub * ivf.pq.dsub * 4
    rss_pq = _rss_anon_mb()
    fetch = lambda lb: np.asarray(rows[np.asarray(lb)])  # noqa: E731
    paths: dict[str, tuple[IvfIndex, int, bool]] = {f"ivf-pq r{r}": (pq, r, False) for r in args.rescore}
    paths[f"ivf-pq r{args.rescore[0]} cold"] = (pq, args.rescore[0], True)
    bytes_of = {name: pq_bytes for name in paths}
    flat_s = 0.0
    flat_need = n * (rows.shape[1] * 4 + 8)
    if not args.no_flat and _mem_available() < flat_need + 3 * 2**30:  # the machine is shared: never crowd it
        print(f"only {_mem_available() / 2**30:.1f} GB available for a {flat_need / 2**30:.1f} GB float32 index: "
              "its rec* is computed from the same lists instead (the rows it would score, read from the file), no p50", flush=True)
        results_emul = _flat_emulated(ivf, rows, queries, truth, args.ks)
        args.no_flat = True
    else:
        results_emul = {}
    if not args.no_flat:  # the float32 index on the same centroids and lists (today's path)
        t0 = time.perf_counter()
        flat_index = faiss.IndexIVFFlat(ivf.quantizer, ivf.d, ivf.nlist, faiss.METRIC_INNER_PRODUCT)
        for lst in range(ivf.nlist):
            size = ivf.invlists.list_size(lst)
            if size:
                ids = np.sort(faiss.rev_swig_ptr(ivf.invlists.get_ids(lst), size).copy())
                x = np.ascontiguousarray(np.asarray(rows[ids]))
                flat_index.add_core(size, faiss.swig_ptr(x), faiss.swig_ptr(ids), faiss.swig_ptr(np.full(size, lst, dtype=np.int64)))
        flat_s = time.perf_counter() - t0
        flat = IvfIndex(work / f"flat-{n}.faiss", rows.shape[1], "flat")
        flat._index = flat_index
        paths = {"ivf-flat (float32)": (flat, 1, False), **paths}
        bytes_of["ivf-flat (float32)"] = flat_index.ntotal * (flat_index.code_size + 8) + flat_index.quantizer.ntotal * flat_index.d * 4
    results = dict(results_emul)
    for k in args.ks:
        timings: dict[str, list[float]] = {name: [] for name in paths}
        hits = dict.fromkeys(paths, 0)
        for qi, q in enumerate(queries):  # interleaved: bursts of load from other jobs hit every path alike
            for name, (index, r, cold) in paths.items():
                if cold and k != args.ks[0]:
                    continue
                index.rescore = r
                if cold:
                    _evict(path, rows)
                t0 = time.perf_counter()
                labels, _ = index.query(q, k, None, fetch)
                timings[name].append((time.perf_counter() - t0) * 1000)
                hits[name] += len(set(labels.tolist()) & truth[k][qi])
        for name in paths:
            if timings[name]:
                results[(k, name)] = (timings[name], hits[name] / (k * len(queries)))
    print(f"\n{n:,} media, index level, {nlist} lists, {args.queries} queries; rows written in {gen_s:.0f} s; "
          f"IVF-PQ trained + filled in {pq_s:.0f} s" + (f"; IVF-Flat filled from its lists in {flat_s:.0f} s" if flat_s else "")
          + "; rN: N·k candidates re-scored exactly; B/medium: the index's lists, ids and centroids")
    _table(n, results, bytes_of)
    print(f"RssAnon after the PQ build {rss_pq:.0f} MB; peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB", flush=True)


def _mem_available() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return 0


def _flat_emulated(ivf, rows: np.ndarray, queries: np.ndarray, truth: dict, ks: list[int]) -> dict:
    """IVF-Flat's answer without building it: the probed lists' rows (as ``n_probes`` picks them),
    scored exactly from the file. Same result set as the float32 index on these lists; no timing."""
    import faiss

    from sensegraph.graph.vector_index import n_probes

    out = {}
    for k in ks:
        hits = 0
        for qi, q in enumerate(queries):
            _, lists = ivf.quantizer.search(q[None, :], n_probes(k, ivf.nlist, ivf.ntotal))
            ids = np.sort(np.concatenate([faiss.rev_swig_ptr(ivf.invlists.get_ids(int(lst)), ivf.invlists.list_size(int(lst))).copy()
                                          for lst in lists[0] if ivf.invlists.list_size(int(lst))]))
            sc = np.asarray(rows[ids]) @ q
            hits += len(set(ids[np.argsort(-sc)[:k]].tolist()) & truth[k][qi])
        out[(k, "ivf-flat (same lists, emulated)")] = ([float("nan")], hits / (k * len(queries)))
    return out


def _table(n: int, results: dict[tuple[int, str], tuple[list[float], float]], bytes_of: dict[str, float]) -> None:
    head = ("media", "k", "index", "p50 ms", "p95 ms", "rec*@k", "B/medium")
    print(" | ".join(f"{h:>20}" if h == "index" else f"{h:>9}" for h in head))
    print("-+-".join("-" * (20 if h == "index" else 9) for h in head))
    for (k, name), (ms, rec) in results.items():
        cells = (f"{n:,}", k, name, f"{_p(ms, 50):.2f}", f"{_p(ms, 95):.2f}", f"{rec:.3f}", f"{bytes_of.get(name, 0) / n:,.0f}")
        print(" | ".join(f"{c:>20}" if i == 2 else f"{c:>9}" for i, c in enumerate(cells)), flush=True)


def _with_index(store_dir: Path, work: Path, kind: str, make) -> EmbeddedStore:
    """A store whose saved index is the ``kind`` one: built once and kept in ``work``, copied in
    before the store's first search (the store keeps one index file; the bench wants both)."""
    import shutil

    kept = [work / f"bench-{kind}.faiss", work / f"bench-{kind}.json"]
    live = [store_dir / "ann-match.faiss", store_dir / "ann-match.json"]
    if all(p.exists() for p in kept):
        for a, b in zip(kept, live):
            shutil.copyfile(a, b)
    store = make()
    store.search_match(np.ones(JOINT, np.float32), None, 1)  # loads the tables, builds or loads the index
    if not all(p.exists() for p in kept):
        for a, b in zip(live, kept):
            shutil.copyfile(a, b)
    return store


def store_level(n: int, args: argparse.Namespace, topics: Topics, work: Path) -> None:
    """Write n media to an embedded store; open it flat and compressed side by side; interleave queries."""
    path = work / f"rows-{n}.f32"
    rows = write_rows(path, n, topics)
    queries = topics.queries(np.random.default_rng(7), args.queries)
    truth = {k: formula_truth(rows, queries, k) for k in args.ks}
    store_dir = work / f"store-{n}"
    t0 = time.perf_counter()
    if not (store_dir / "graph.sqlite").exists():
        with EmbeddedStore(store_dir) as store:
            store.bind_encoder("bench", JOINT, NATIVE)
            for lo in range(0, n, 10_000):
                part = np.asarray(rows[lo: lo + 10_000])
                store.upsert_media([Media(f"m{lo + i:07d}", f"file:///{lo + i}", "image", embedding=v[:JOINT], features=v[JOINT:])
                                    for i, v in enumerate(part)])
    write_s = time.perf_counter() - t0
    threshold = min(n, 20_000)
    stores, bytes_of, notes = {}, {}, []
    for kind, compress in (("flat", n + 1), ("pq", 0)):
        gc.collect()
        before, t0 = _rss_anon_mb(), time.perf_counter()
        stores[kind] = _with_index(store_dir, work, kind, lambda c=compress: EmbeddedStore(store_dir, ann_threshold=threshold, compress_threshold=c))
        notes.append(f"{kind} open + first search {time.perf_counter() - t0:.0f} s")
        bytes_of[kind] = (_rss_anon_mb() - before) * 2**20  # earlier stores stay open: no freed memory reused
    paths = {"flat (float32)": (stores["flat"], 1), **{f"compressed r{r}": (stores["pq"], r) for r in args.rescore}}
    results = {}
    for k in args.ks:
        timings: dict[str, list[float]] = {name: [] for name in paths}
        hits = dict.fromkeys(paths, 0)
        for qi, q in enumerate(queries):  # interleaved query by query
            for name, (store, r) in paths.items():
                store.configure_vectors(rescore=r)
                t0 = time.perf_counter()
                got = store.search_match(q[:JOINT], q[JOINT:], k)
                timings[name].append((time.perf_counter() - t0) * 1000)
                hits[name] += len({int(m[1:]) for m, _ in got} & truth[k][qi])
        for name in paths:
            results[(k, name)] = (timings[name], hits[name] / (k * len(queries)))
    for store in stores.values():
        store.close()
    print(f"\n{n:,} media through EmbeddedStore.search_match, {args.queries} queries; written in {write_s:.0f} s; "
          + "; ".join(notes) + "; rN: N·k re-scored; B/medium: RssAnon growth of the process as the store opened "
          "and answered its first search (tables, ids, index; the compressed store's float32 pages are file-backed)")
    _table(n, results, {name: bytes_of["flat" if name.startswith("flat") else "pq"] for name in paths})


def compressed_main(args: argparse.Namespace) -> None:
    vector_index.RESCORE_MIN = 0  # rows "rN" re-score exactly N·k (the store's floor is off here)
    topics = Topics()
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="bench-vectors-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"paired rows {JOINT}+{NATIVE} dims, synthetic clustered; work dir {work}")
    for n in args.sizes:
        (store_level if n <= args.store_max else index_level)(n, args, topics, work)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[20_000, 50_000])
    ap.add_argument("--compressed", action="store_true", help="float32 IVF-Flat vs IVF-PQ on 1664-d paired rows")
    ap.add_argument("--store-max", type=int, default=100_000, help="compressed: sizes up to this go through the store")
    ap.add_argument("--nlist", type=int, default=0, help="compressed, index level: lists (default 4·sqrt(n))")
    ap.add_argument("--rescore", type=int, nargs="+", default=[4, 10, 25], help="compressed: candidates re-scored exactly per result (the first is also timed cold)")
    ap.add_argument("--ks", type=int, nargs="+", default=[10, 100], help="compressed: k of the formula query (search asks K' = 100)")
    ap.add_argument("--no-flat", action="store_true", help="compressed, index level: skip the float32 index")
    ap.add_argument("--work", default="", help="compressed: keep row files and stores here")
    ap.add_argument("--build-threads", type=int, default=0, help="faiss threads for index builds (default: all cores)")
    ap.add_argument("--random", action="store_true", help="isotropic vectors instead of clustered ones")
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--k", type=int, default=10)
    args = ap.parse_args()
    if args.build_threads:
        vector_index.BUILD_THREADS = args.build_threads
    if args.compressed:
        compressed_main(args)
        return
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
