"""Ingest throughput against the encoder's own, and prototype-update cost as evidence per sense grows.

    python bench/bench_ingest.py [--images 48] [--evidence 10,100,1000,5000] [--store-dir DIR]

Part 1 ingests real packaged images (the core eval set's media, captions included) into a fresh
embedded store holding all WordNet nouns, three ways: the encoder alone (no store, no linking), a cold
ingest (empty embedding cache) and a warm re-ingest into another fresh store (cache hits: linking and
store writes only). Part 2 times ``PrototypeUpdater.update`` for one sense with n evidence media
(synthetic 1280-d native features): the incremental running mean for one new medium, a full ``mean``
recompute, and a ``cluster`` recompute.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table


def part_ingest(n_images: int, work: Path, console: Console) -> Table:
    from sensegraph import SenseGraph
    from sensegraph.encoders.factory import create_encoder
    from sensegraph.evaluation.dataset import load_evalset, resolve_media
    from sensegraph.graph.importers import import_wordnet

    evalset = load_evalset(Path(__file__).resolve().parents[1] / "evalsets" / "core")
    media = evalset.media[:n_images]
    records = [{"id": m.id, "media": str(resolve_media(m.media)), "text": m.caption} for m in media]
    data = [Path(r["media"]).read_bytes() for r in records]

    enc = create_encoder("default")
    enc.embed_media(data[:2])  # load the model outside the timing
    t0 = time.perf_counter()
    for i in range(0, len(data), 16):
        enc.embed_media(data[i:i + 16])
    t_enc = time.perf_counter() - t0

    os.environ["SENSEGRAPH_CACHE_DIR"] = str(work / "cache")
    rows = [("encoder alone (embed_media)", t_enc)]
    for label, name in (("ingest, cold cache", "cold"), ("ingest, warm cache", "warm")):
        sg = SenseGraph(str(work / name))
        import_wordnet(sg.store)
        sg.link("warm up the linker")  # lexicon and matcher build, timed by bench_linking
        t0 = time.perf_counter()
        report = sg.ingest(records)
        rows.append((label, time.perf_counter() - t0))
        assert report.ingested == len(records), report.skipped
        sg.close()
    t = Table(title=f"ingest of {len(records)} packaged images (captions linked against all WordNet nouns)")
    for col in ("path", "seconds", "records/s", "vs encoder"):
        t.add_column(col, justify="left" if col == "path" else "right")
    for label, secs in rows:
        t.add_row(label, f"{secs:.1f}", f"{len(records) / secs:.2f}", f"{t_enc / secs:.2f}x")
    return t


def part_prototypes(sizes: list[int], work: Path, dim: int = 1280) -> Table:
    from sensegraph.config import PrototypeConfig
    from sensegraph.graph.embedded import EmbeddedStore
    from sensegraph.graph.model import Evidence, Media, Sense
    from sensegraph.prototype_updates import PrototypeUpdater

    from sensegraph.graph.prototypes import cluster_labels

    rng = np.random.default_rng(0)
    cluster_labels(rng.normal(size=(4, 3)), 0.85)  # import scikit-learn outside the timing
    t = Table(title="prototype update for one sense with n evidence media (1280-d native features)")
    for col in ("n", "running mean +1 (ms)", "full mean (ms)", "full cluster (ms)"):
        t.add_column(col, justify="right")
    for n in sizes:
        store = EmbeddedStore(work / f"protos-{n}")
        store.bind_encoder("bench", 8, dim)
        store.upsert_senses([Sense("s", "s")])
        feats = rng.normal(size=(n + 1, dim)).astype(np.float32)
        feats /= np.linalg.norm(feats, axis=1, keepdims=True)
        store.upsert_media([Media(f"m{i}", f"m{i}", features=feats[i], embedding=np.ones(8, np.float32)) for i in range(n + 1)])
        store.upsert_evidence([Evidence(f"m{i}", "s", 0.9) for i in range(n)])
        mean = PrototypeUpdater(store, PrototypeConfig(strategy="mean"))
        mean.update(["s"])
        store.upsert_evidence([Evidence(f"m{n}", "s", 0.9)])
        t0 = time.perf_counter()
        mean.update(["s"], {"s": [f"m{n}"]})
        t_inc = time.perf_counter() - t0
        t0 = time.perf_counter()
        mean.update(["s"])
        t_full = time.perf_counter() - t0
        cluster = PrototypeUpdater(store, PrototypeConfig(strategy="cluster"))
        t0 = time.perf_counter()
        cluster.update(["s"])
        t_cl = time.perf_counter() - t0
        t.add_row(str(n), f"{t_inc * 1e3:.1f}", f"{t_full * 1e3:.1f}", f"{t_cl * 1e3:.1f}")
        store.close()
    return t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=48)
    ap.add_argument("--evidence", default="10,100,1000,5000")
    ap.add_argument("--store-dir", type=Path, default=None, help="keep the stores here (default: a temp dir)")
    ap.add_argument("--skip-ingest", action="store_true")
    args = ap.parse_args()
    console = Console()
    console.print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="sensegraph-bench-ingest-") as tmp:
        work = args.store_dir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        if not args.skip_ingest:
            console.print(part_ingest(args.images, work, console))
        console.print(part_prototypes([int(x) for x in args.evidence.split(",")], work))


if __name__ == "__main__":
    main()
