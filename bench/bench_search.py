"""Search latency at scale: whole ``SenseGraph.search`` and its vector part, against bare exact and HNSW top-k.

    python bench/bench_search.py --sizes 1000,10000                         # quick: about a minute
    python bench/bench_search.py --sizes 1000,10000,100000,1000000 --neo4j bolt://127.0.0.1:7821
    python bench/bench_search.py --sizes 10000,100000 --repeat 2 --neo4j bolt://127.0.0.1:7821 \
        --neo4j-data /tmp/neo4j-7821                                          # Neo4j measured settled

A real WordNet 3.0 store (all nouns, imported from /usr/share/wordnet), the real linker and the real
MiniLM text encoder; media vectors are synthetic. Media are drawn around WordNet senses: each of
``--topics`` senses (those the benchmark queries link to, plus random nouns) is a topic whose joint
centre is the MiniLM embedding of its label and gloss, with ``--subtopics`` sub-centres each, and a
medium is a sub-centre plus noise (so the data are clustered like real embeddings, and the text
queries fall among them). The native space (``--native-dim``, default 128) mirrors it with random
centres; every sense a query links to gets its topic's native centre as a prototype, so
``search`` exercises both the joint-space and the per-sense native-space candidate queries.

The store grows through the sizes (1k, then 9k more, ...), so HNSW indexes are updated incrementally
as in real use. Per size it prints latency p50/p95 over the queries of

* exact numpy top-k over the same joint vectors (one mat-vec + argpartition),
* bare hnswlib top-k (plain ``knn_query``, ef 200, on an index with M=32, ef_construction=200 over
  the same vectors, grown with each size; ``pip install -e .[bench]`` brings hnswlib),
* ``store.search_media`` (k=10, joint space) for the embedded store and Neo4j,
* the whole ``search`` (k=10; linking, text embedding, the store's top-K'=100 by the match
  formula, exact re-scoring for the explanation), with its link and embed parts and the vector seconds it reports
  (every timed call starts with an empty text memo, so the linker embeds the query afresh; the
  engine then reuses that vector, as it does for any short query),

with recall@10 of each approximate path against its exact counterpart (for ``search``: the same
search with exact vector paths, itself timed as the "exact" row past the threshold), and rec*, the
recall of the whole search against the formula scored here over every medium, independently of the
store. The issue's target is r-link: embedded ``search`` p50 <= 1.5 x (bare HNSW p50 + link p50),
where link already embeds the query (a short query is its own context window, and the engine reuses
that vector); ratio adds the embedding a second time, kept to compare with runs from before the
shared memo. The load average is printed beside every row: the machine is
shared, so quote medians. The exact numpy path is timed in a pass of its own: interleaved, its
multi-threaded BLAS call left threads spinning that doubled the MiniLM times measured after it.

Neo4j's vector index is a Lucene index whose segments merge in the background after a load; a query
searches every segment, so time and recall depend on how far that has got (docs/neo4j.md). With
``--neo4j-data`` (the directory of a ``sensegraph neo4j start`` server) the benchmark restarts the
server after loading each size, which leaves the merged segments, and prints how many the paired
index has: the settled state, the same on every run. Without it the Neo4j rows are timed right after
the load, while the server still digests it.
"""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

QUERIES = [
    "a crane lifting steel beams on a building site", "a crane standing in the marsh",
    "bass guitar on a stage", "a bass caught in the lake", "the river bank at dawn",
    "a bank teller counting money", "a mouse next to the keyboard", "a mouse eating cheese",
    "a bat flying at night", "a baseball bat and a glove", "a seal resting on the beach",
    "a wax seal on an old letter", "a jaguar in the rainforest", "the pitcher throws the ball",
    "a pitcher of lemonade", "a rock concert with a big crowd", "a rock on the mountain path",
    "a plant growing in a pot", "a power plant chimney", "a spring flowing from the hill",
    "a coiled metal spring", "a palm tree on the island", "the palm of a hand",
    "a bow and arrow", "the bow of a ship", "a tank in the desert", "a fish tank with coral",
    "a match burning in the dark", "a football match in the stadium", "a dog chasing a ball",
    "a bridge over the river", "a key in a lock", "a pen on a notebook", "a pig in a pen",
    "a horse in the field", "a coffee cup on a table", "a clock tower in the city",
    "a glass of water", "an organ in the church", "a tie and a suit",
]
JOINT_DIM = 384


class BenchEncoder:
    """MiniLM for text; declares a native dimension for the synthetic media (never embeds media)."""

    joint_dim = JOINT_DIM

    def __init__(self, native_dim: int) -> None:
        from sensegraph.encoders.text import MiniLMTextEncoder

        self.native_dim = native_dim
        self.encoder_id = f"bench-minilm+native{native_dim}"
        self._text = MiniLMTextEncoder()

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        return self._text.embed_texts(texts)

    def embed_media(self, items: Sequence[object]) -> object:  # the Encoder protocol; the media here are synthetic
        raise NotImplementedError("the benchmark's media vectors are synthetic; it never embeds media")


def unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32)


def pct(times: Sequence[float]) -> tuple[float, float]:
    """(p50, p95) in milliseconds."""
    a = np.asarray(times) * 1000
    return float(np.percentile(a, 50)), float(np.percentile(a, 95))


def interleaved(fns: dict[str, Callable[[int], object]], count: int, repeat: int) -> dict[str, tuple[list, list[float]]]:
    """Time every path on query i in turn, so bursts of load from other jobs hit all paths alike."""
    outs: dict[str, list] = {name: [] for name in fns}
    secs: dict[str, list[float]] = {name: [] for name in fns}
    for r in range(repeat):
        for i in range(count):
            for name, fn in fns.items():
                t0 = time.perf_counter()
                out = fn(i)
                secs[name].append(time.perf_counter() - t0)
                if r == 0:
                    outs[name].append(out)
    return {name: (outs[name], secs[name]) for name in fns}


def recall(got: Sequence[Sequence[object]], want: Sequence[Sequence[object]], k: int) -> float:
    return float(np.mean([len(set(g[:k]) & set(w[:k])) / max(1, min(k, len(w))) for g, w in zip(got, want)]))


class Corpus:
    """Deterministic clustered media around WordNet topics; vectors kept in memory-mapped files."""

    def __init__(self, work: Path, topics_joint: np.ndarray, native_dim: int, subtopics: int, n_max: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        t = len(topics_joint)
        self.topic_native = unit(rng.normal(size=(t, native_dim)))
        self.sub_joint = unit(topics_joint[:, None, :] + 0.45 * unit(rng.normal(size=(t, subtopics, JOINT_DIM))))
        self.sub_native = unit(self.topic_native[:, None, :] + 0.45 * unit(rng.normal(size=(t, subtopics, native_dim))))
        self.joint = np.lib.format.open_memmap(work / "joint.npy", "w+", np.float32, (n_max, JOINT_DIM))
        self.native = np.lib.format.open_memmap(work / "native.npy", "w+", np.float32, (n_max, native_dim))
        self.seed, self.n = seed, 0

    def grow(self, n: int) -> tuple[int, int]:
        """Generate media rows [self.n, n); returns that range."""
        start = self.n
        for lo in range(start, n, 10_000):
            hi = min(n, lo + 10_000)
            rng = np.random.default_rng((self.seed, lo))
            t = rng.integers(0, self.sub_joint.shape[0], hi - lo)
            s = rng.integers(0, self.sub_joint.shape[1], hi - lo)
            self.joint[lo:hi] = unit(self.sub_joint[t, s] + 0.35 * unit(rng.normal(size=(hi - lo, JOINT_DIM))))
            self.native[lo:hi] = unit(self.sub_native[t, s] + 0.35 * unit(rng.normal(size=(hi - lo, self.native.shape[1]))))
        self.n = n
        return start, n


def media_id(i: int) -> str:
    return f"m{i:07d}"


def write_media(store, corpus: Corpus, lo: int, hi: int, batch: int) -> None:
    from sensegraph.graph.model import Media

    for a in range(lo, hi, batch):
        b = min(hi, a + batch)
        store.upsert_media([
            Media(media_id(i), f"file:///synthetic/{i}.jpg", "image", embedding=corpus.joint[i], features=corpus.native[i])
            for i in range(a, b)
        ])


def prepare_graph(store, encoder: BenchEncoder, texts: Sequence[str], topics: int, seed: int):
    """Import WordNet, link the queries (warming the linker's caches); returns the SenseGraph,
    topic sense ids, their joint centres and linked sense -> topic."""
    from sensegraph import SenseGraph
    from sensegraph.graph.importers import import_wordnet

    if store.counts()["senses"] < 80_000:
        import_wordnet(store)
    store.bind_encoder(encoder.encoder_id, encoder.joint_dim, encoder.native_dim)
    sg = SenseGraph(store, encoder=encoder)
    linked = list(dict.fromkeys(m.sense_id for q in texts for m in sg.link(q) if m.sense_id))
    rng = np.random.default_rng(seed)
    others = sorted(s.sense_id for batch in store.iter_senses() for s in batch)  # not the store's paging order
    others = [others[i] for i in rng.permutation(len(others))[: max(0, topics - len(linked)) * 2]]
    ids = list(dict.fromkeys(linked + others))[:max(topics, len(linked))]
    senses = store.get_senses(ids)
    centres = [f"{senses[i].label}: {senses[i].gloss}" if i in senses else i for i in ids]
    return sg, ids, encoder.embed_texts(centres), {sid: ids.index(sid) for sid in linked}


def set_prototypes(store, corpus: Corpus, linked: dict[str, int], topic_joint: np.ndarray) -> None:
    from sensegraph.graph.model import Prototype

    # a kept store may hold prototypes of senses an earlier run linked (the linker changed since):
    # drop them, or the two stores' queries hand weight to different senses and rec* measures that
    stale = [s.sense_id for batch in store.iter_senses() for s in batch if s.prototype_source and s.sense_id not in linked]
    for sid in stale:
        store.clear_prototype(sid)
    store.set_prototypes([
        Prototype(sid, corpus.topic_native[t], source="media", media_count=10, joint=topic_joint[t], weight=10.0)
        for sid, t in linked.items()
    ])
    if stale:
        print(f"{store.describe()}: cleared {len(stale)} prototypes an earlier run left ({', '.join(stale[:5])})", flush=True)


class BareHnsw:
    """The bare HNSW baseline: an hnswlib index (M 32, ef_construction 200, two build threads) over
    the same joint vectors, grown with each size as the store is, queried with plain ``knn_query``."""

    def __init__(self, dim: int, capacity: int) -> None:
        import hnswlib

        self.index = hnswlib.Index(space="cosine", dim=dim)
        self.index.init_index(max_elements=capacity, ef_construction=200, M=32)

    def grow(self, vectors: np.ndarray, lo: int) -> float:
        """Add rows ``lo..`` (labels are row numbers); returns the seconds it took."""
        t0 = time.perf_counter()
        for a in range(0, len(vectors), 100_000):
            self.index.add_items(np.asarray(vectors[a : a + 100_000]), np.arange(lo + a, lo + min(len(vectors), a + 100_000)), num_threads=-1)
        return time.perf_counter() - t0

    def query(self, q: np.ndarray, ef: int = 200) -> np.ndarray:
        self.index.set_ef(ef)
        return self.index.knn_query(q[None, :], k=10, num_threads=1)[0][0].astype(np.int64)


def formula_top(sg, text: str, joint: np.ndarray, native: np.ndarray, k: int = 10) -> list[str]:
    """The true top-k of the match formula, every medium scored from the benchmark's own copy of the
    vectors with the engine's pure scoring functions: the yardstick for the store's answer. The senses,
    their weights (candidate shares, hand-on, trust, the share left out of β) and the centred prototypes
    are the engine's own (``query_senses``, ``_centre``, ``sense_weights``), so only the ranking is redone."""
    from sensegraph.scoring import match_scores, rank
    from sensegraph.search import pin_mentions, sense_weights

    engine = sg.engine
    q = engine.embed_texts([text])[0]
    linked, _, _, unrepresented = engine.query_senses(pin_mentions(text, sg.linker.link(text), None))
    a, b = sg.config.search.alpha, sg.config.search.beta
    if b > 0 and linked:
        linked = engine._centre(linked)  # as search ranks: prototypes less the collection's mean feature
        per_sense = np.stack([native @ unit(ls.prototype.vector) for ls in linked], axis=1)
        weights = sense_weights(linked, unrepresented)
    else:
        per_sense, weights = np.zeros((len(joint), 0), np.float32), np.zeros(0)
    match, _ = match_scores(joint @ unit(q), per_sense, weights, a, b)
    return [media_id(int(i)) for i in rank(match, k, None)]


def exact_topk(vectors: np.ndarray, q: np.ndarray, k: int) -> np.ndarray:
    s = vectors @ q
    part = np.argpartition(-s, k - 1)[:k]
    return part[np.argsort(-s[part])]


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def rows_of(found: Sequence[tuple[str, float]]) -> list[int]:
    return [int(m[1:]) for m, _ in found]


def hit_ids(result) -> list[str]:
    return [h.media_id for h in result.hits]


def search_row(res: dict, name: str, search_recall: float, formula_recall: float) -> dict[str, object]:
    results, secs = res[name]
    return {
        "search": pct(secs), "link": pct(res["link"][1]), "embed": pct(res["embed"][1]), "recall": search_recall,
        "formula_recall": formula_recall,
        "vector_in_search": pct([r.metadata.get("vector_seconds", 0.0) for r in results]),
        "candidates": float(np.median([r.metadata.get("candidates", 0) for r in results])),
    }


def check_kept(neo, corpus: Corpus, n: int, seed: int) -> None:
    """Refuse a kept Neo4j whose media are not this corpus's (another seed, dims or benchmark version):
    its rows would be scored against vectors it does not hold."""
    corpus.grow(n)
    corpus.n = 0  # the sizes loop grows (and writes to the embedded store) from the first row again
    rows = sorted({int(i) for i in np.random.default_rng(seed).integers(0, n, 20)} | {0, n - 1})
    ids, joint = neo.media_vectors([media_id(i) for i in rows], "joint")
    want = np.array([corpus.joint[int(m[1:])] for m in ids])
    if len(ids) != len(rows) or not np.allclose(joint, want, atol=1e-5):
        raise SystemExit("--neo4j-keep: the Neo4j store holds other media vectors than this corpus; run without it to reload")


def paired_segments(neo, data: Path) -> int | None:
    """Live Lucene segments of the paired index (its ``.si`` files, counted right after a restart,
    when the last commit has dropped merged-away ones); None when the index directory is not found."""
    ids = [r["id"] for r in neo._run("SHOW INDEXES YIELD id, name WHERE name = 'sg_media_paired' RETURN id")]
    dirs = [d for i in ids for d in (data / "data" / "databases").glob(f"*/schema/index/vector-*/{i}/*") if d.is_dir()]
    return sum(1 for d in dirs for f in d.iterdir() if f.suffix == ".si") if dirs else None


def settle_neo4j(uri: str, data: Path, heap: str, pagecache_mb: int) -> float:
    """Restart the Neo4j that ``sensegraph neo4j start`` runs on ``data``: a clean stop closes Lucene's
    index writers (running merges finish and commit), and the restarted server searches the merged
    segments, as a server does once it has digested a load; a query right after a load instead meets
    every unmerged segment (and merges competing for the CPU). Returns the seconds it took."""
    from sensegraph import neo4j_server

    t0 = time.perf_counter()
    port = int(uri.rsplit(":", 1)[1])
    neo4j_server.stop(data, timeout=1800)  # a clean stop waits for running merges: never kill it
    neo4j_server.start(data, port, heap=heap, pagecache_mb=pagecache_mb)
    return time.perf_counter() - t0


class RoundTrips:
    """Counts the Bolt round trips (``Neo4jStore._run`` calls) and the seconds spent in them while ``on``."""

    def __init__(self) -> None:
        self.on, self.calls, self.seconds = False, 0, []

    def wrap(self, store) -> None:
        run = store._run

        def counted(query, params=None, **kw):
            if not self.on:
                return run(query, params, **kw)
            t0 = time.perf_counter()
            try:
                return run(query, params, **kw)
            finally:
                self.calls += 1
                self.seconds[-1] += time.perf_counter() - t0

        store._run = counted

    def timed(self, fn: Callable[[], object]) -> object:
        """``fn()`` with its round trips counted (one entry of ``seconds`` per call)."""
        self.on = True
        self.seconds.append(0.0)
        try:
            return fn()
        finally:
            self.on = False


def fmt(p: tuple[float, float]) -> str:
    return f"{p[0]:8.2f} {p[1]:8.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,100000,1000000", help="comma-separated media counts, ascending")
    ap.add_argument("--queries", type=int, default=len(QUERIES), help=f"how many of the {len(QUERIES)} built-in queries")
    ap.add_argument("--native-dim", type=int, default=128)
    ap.add_argument("--topics", type=int, default=400)
    ap.add_argument("--subtopics", type=int, default=25)
    ap.add_argument("--neo4j", default=None, help="bolt:// URI of a Neo4j to measure too (it is wiped!)")
    ap.add_argument("--neo4j-max", type=int, default=100_000, help="largest size loaded into Neo4j")
    ap.add_argument("--neo4j-budget", type=float, default=1200.0, help="stop growing Neo4j after this many loading seconds")
    ap.add_argument("--neo4j-keep", action="store_true",
                    help="reuse (and top up) what an earlier run with the same --seed and dims loaded into Neo4j instead of wiping it")
    ap.add_argument("--neo4j-data", default=None,
                    help="data directory of the `sensegraph neo4j start` server behind --neo4j: restart it after loading, "
                         "so its vector index is measured settled (merged), not while it digests the load")
    ap.add_argument("--neo4j-heap", default="4g", help="heap for that restart")
    ap.add_argument("--neo4j-pagecache-mb", type=int, default=4096, help="page cache for that restart")
    ap.add_argument("--work", default=None, help="working directory (default: a temporary one, removed)")
    ap.add_argument("--repeat", type=int, default=1, help="timed passes over the queries")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    texts = QUERIES[: args.queries]

    from sensegraph.graph.embedded import EmbeddedStore

    work = Path(args.work or tempfile.mkdtemp(prefix="bench-search-"))
    work.mkdir(parents=True, exist_ok=True)
    encoder = BenchEncoder(args.native_dim)
    qvecs = encoder.embed_texts(texts)
    t0 = time.perf_counter()
    store = EmbeddedStore(work / "embedded")
    sg, topic_ids, topic_joint, linked = prepare_graph(store, encoder, texts, args.topics, args.seed)
    print(f"WordNet store + linking the queries: {time.perf_counter() - t0:.1f} s; {len(texts)} queries link "
          f"{len(linked)} senses; {len(topic_ids)} topics x {args.subtopics} subtopics; joint {JOINT_DIM}-d, "
          f"native {args.native_dim}-d; {os.cpu_count()} cpus")
    corpus = Corpus(work, topic_joint, args.native_dim, args.subtopics, sizes[-1], args.seed)
    set_prototypes(store, corpus, linked, topic_joint)
    default_threshold = store.ann_threshold

    neo = neo_sg = None
    neo_loading = 0.0
    if args.neo4j:
        from sensegraph.graph.neo4j_store import Neo4jStore

        neo = Neo4jStore(args.neo4j)
        if not args.neo4j_keep:
            neo.wipe()
        t1 = time.perf_counter()
        neo_sg = prepare_graph(neo, encoder, texts, args.topics, args.seed)[0]
        set_prototypes(neo, corpus, linked, topic_joint)
        print(f"Neo4j: WordNet import + linking {time.perf_counter() - t1:.1f} s")
    neo_n = neo.counts()["media"] if neo is not None and args.neo4j_keep else 0  # media m0..m(n-1) are the corpus's
    if neo_n:
        check_kept(neo, corpus, neo_n, args.seed)

    vec_rows, search_rows = [], []
    bare = BareHnsw(JOINT_DIM, sizes[-1])
    try:
        for n in sizes:
            lo, hi = corpus.grow(n)
            t1 = time.perf_counter()
            write_media(store, corpus, lo, hi, 10_000)
            write_s = time.perf_counter() - t1
            bare_s = bare.grow(corpus.joint[lo:hi], lo)
            joint = np.array(corpus.joint[:n])
            truth = [exact_topk(joint, q, 10) for q in qvecs]
            # warm-up: load tables; past the threshold the first search builds/updates the HNSW index
            t1 = time.perf_counter()
            for t in texts[:3]:
                sg.search_result(t, 10)
            warm_s = time.perf_counter() - t1
            mode = "ivf" if n >= default_threshold else "exact"
            fns: dict[str, Callable[[int], object]] = {
                "bare": lambda i: bare.query(qvecs[i]),
                "store": lambda i: rows_of(store.search_media(qvecs[i], 10, space="joint")),
                # each timed call starts with an empty text memo, as a query not seen before would
                "search": lambda i: (sg.text_memo.clear(), sg.search_result(texts[i], 10))[1],
                "link": lambda i: (sg.text_memo.clear(), sg.linker.link(texts[i]))[1],
                "embed": lambda i: encoder.embed_texts([texts[i]]),
            }
            neo_write = None
            # (a kept Neo4j holding more than n media is measured only once the corpus reaches its size)
            if neo is not None and neo_n <= n <= args.neo4j_max and neo_loading < args.neo4j_budget:
                t1 = time.perf_counter()
                write_media(neo, corpus, neo_n, n, 5000)
                neo._run("CALL db.awaitIndexes(3600)")
                neo_write = time.perf_counter() - t1
                neo_loading += neo_write
                neo_n = n
                if args.neo4j_data:
                    neo.close()
                    settle_s = settle_neo4j(args.neo4j, Path(args.neo4j_data), args.neo4j_heap, args.neo4j_pagecache_mb)
                    from sensegraph import SenseGraph

                    neo = Neo4jStore(args.neo4j)
                    neo_sg = SenseGraph(neo, encoder=encoder)
                    for t in texts:  # as prepare_graph warmed the linker
                        neo_sg.link(t)
                    print(f"Neo4j restarted to settle its index: {settle_s:.0f} s; the paired index has "
                          f"{paired_segments(neo, Path(args.neo4j_data))} segments", flush=True)
                neo_sg.search_result(texts[0], 10)
                fns["neo_store"] = lambda i: rows_of(neo.search_media(qvecs[i], 10, space="joint"))
                trips = RoundTrips()
                trips.wrap(neo)
                fns["neo_search"] = lambda i: (neo_sg.text_memo.clear(), trips.timed(lambda: neo_sg.search_result(texts[i], 10)))[1]
            la = load()
            res = interleaved(fns, len(texts), args.repeat)
            store.configure_vectors(ann_threshold=n + 1)  # the same search with exact vector paths
            res.update(interleaved({"exact_search": lambda i: (sg.text_memo.clear(), sg.search_result(texts[i], 10))[1]},
                                   len(texts), args.repeat))
            store.configure_vectors(ann_threshold=default_threshold)
            # in its own pass: the multi-threaded BLAS mat-vec leaves threads spinning that slowed the
            # MiniLM calls timed right after it about twofold (inflating link, embed and search alike)
            res.update(interleaved({"exact": lambda i: exact_topk(joint, qvecs[i], 10)}, len(texts), args.repeat))
            want_rows = [list(t) for t in truth]
            want = [hit_ids(r) for r in res["exact_search"][0]]
            native = np.array(corpus.native[:n])
            truth_formula = [formula_top(sg, t, joint, native) for t in texts]
            del native
            rec = {name: recall(res[name][0], want_rows, 10) for name in ("bare", "store", "neo_store") if name in res}
            vec_rows.append([n, mode, res["exact"][1], res["bare"][1], rec["bare"], f"{bare_s:.0f}", pct(res["store"][1]), rec["store"],
                             (pct(res["neo_store"][1]), rec["neo_store"]) if "neo_store" in res else None, la,
                             f"{write_s:.0f}" + (f"/{neo_write:.0f}" if neo_write is not None else ""), f"{warm_s:.1f}"])
            if mode != "exact":
                search_rows.append((n, "embedded", "exact", search_row(res, "exact_search", 1.0, recall(want, truth_formula, 10)), la))
            search_rows.append((n, "embedded", mode, search_row(res, "search", recall([hit_ids(r) for r in res["search"][0]], want, 10),
                                                                recall([hit_ids(r) for r in res["search"][0]], truth_formula, 10)), la))
            if "neo_search" in res:
                got = [hit_ids(r) for r in res["neo_search"][0]]
                search_rows.append((n, "neo4j", "index", search_row(res, "neo_search", recall(got, want, 10), recall(got, truth_formula, 10)), la))
            print_tables(vec_rows, search_rows, default_threshold)
            if "neo_search" in res:
                print(f"Neo4j at {n:,}: {trips.calls / len(trips.seconds):.2f} round trips per search, "
                      f"{np.median(trips.seconds) * 1000:.1f} ms p50 in them", flush=True)
            del joint
    finally:
        store.close()
        if neo is not None:
            neo.close()
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


def print_tables(vec_rows, search_rows, threshold: int) -> None:
    """Both tables so far (reprinted after every size, so a long run shows progress)."""
    print(f"\nvector part, joint space, k=10 (ms p50 p95; recall@10 vs exact numpy); embedded store exact below {threshold:,} media")
    print(f"{'media':>9} | {'exact numpy':>17} | {'bare hnswlib':>17} {'rec':>5} {'add s':>5} | {'embedded search_media':>23} {'rec':>5} | "
          f"{'neo4j search_media':>17} {'rec':>5} | {'write s':>9} {'warm s':>6} | load 1/5/15")
    for n, mode, ex, bare, brec, bare_s, ev, erec, nv, la, write_s, warm_s in vec_rows:
        neo = f"{fmt(nv[0])} {nv[1]:5.3f}" if nv else f"{'-':>17} {'-':>5}"
        print(f"{n:>9,} | {fmt(pct(ex))} | {fmt(pct(bare))} {brec:5.3f} {bare_s:>5} | {mode:>5} {fmt(ev)} {erec:5.3f} | "
              f"{neo} | {write_s:>9} {warm_s:>6} | {la}")
    print("\nwhole search, k=10, K'=100 (ms p50 p95; rec = recall@10 vs the same search with exact vector paths, "
          "rec* = vs the formula over every medium)")
    print(f"{'media':>9} | {'store':>8} {'path':>5} | {'search':>17} {'rec':>5} {'rec*':>5} | {'link':>17} | {'embed':>17} | "
          f"{'vector in search':>17} {'cand':>5} | {'ratio':>5} {'r-link':>6} | load 1/5/15")
    bare_of = {n: pct(bare)[0] for n, _, _, bare, *_ in vec_rows}
    for n, name, mode, r, la in search_rows:
        base = bare_of.get(n, float("nan")) + r["link"][0]
        print(f"{n:>9,} | {name:>8} {mode:>5} | {fmt(r['search'])} {r['recall']:5.3f} {r['formula_recall']:5.3f} | {fmt(r['link'])} | "
              f"{fmt(r['embed'])} | {fmt(r['vector_in_search'])} {r['candidates']:5.0f} | {r['search'][0] / (base + r['embed'][0]):5.2f} "
              f"{r['search'][0] / base:6.2f} | {la}")
    print("r-link = search p50 / (bare hnswlib p50 + link p50), link embedding the query itself: the issue's target, "
          "<= 1.5 at 1M with recall >= 0.95\nratio = search p50 / (bare hnswlib p50 + link p50 + embed p50): the embedding "
          "counted twice; for comparison with runs from before the shared text memo", flush=True)

if __name__ == "__main__":
    main()
