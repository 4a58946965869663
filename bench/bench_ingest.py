"""Ingest throughput against the encoder's own, and prototype-update cost as evidence per sense grows.

    python bench/bench_ingest.py [--images 48] [--evidence 10,100,1000,5000] [--store-dir DIR] [--propagate]

Part 1 ingests real packaged images (the core eval set's media, captions included; past its 167,
evalsets/coldstart's one-word titles) into fresh embedded stores holding all WordNet nouns (copies of
one ``import_kg("wordnet")``, which leaves the automatic update's sense structure beside the store; the
cost of building it when nothing holds it is printed first): a new machine (media and text caches empty); a cached machine, where another store
already embedded the sense texts (the machine-wide text cache), with the default automatic propagation
and with it off; and a re-ingest with everything cached (linking, store writes and propagation only).
Each row's yardstick is the bare encoder over the same images, timed just before and just after it in
the same process, the mean of the two (wall and CPU seconds: the CPU ratio is the steadier one on a
shared machine); the automatic update's own share of the ingest is its own column. ``--propagate`` then
times a first ``propagate`` per method on part 1's store ingested with propagation off; the GNN's glosses are put in a throwaway
shared cache as random stand-ins (timing only), and their cold cost is the count times MiniLM's rate
measured on a sample. Part 2 times ``PrototypeUpdater.update`` for one sense with n evidence media
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


def _records(n_images: int) -> list[dict]:
    """The core eval set's captioned media, topped up from evalsets/coldstart (one-word titles) past its 167."""
    from sensegraph.evaluation.dataset import load_evalset, resolve_media

    root = Path(__file__).resolve().parents[1] / "evalsets"
    import hashlib

    files: dict[str, dict] = {}  # one record per content: the two sets share some drawings
    for name in ("core", "coldstart"):
        for m in load_evalset(root / name).media:
            if len(files) == n_images:
                break
            path = resolve_media(m.media)
            files.setdefault(hashlib.sha256(path.read_bytes()).hexdigest(), {"id": m.id, "media": str(path), "text": m.caption})
    return list(files.values())


def _encode_alone(encoder, data: list[bytes], batch: int) -> tuple[float, float]:
    """(wall, CPU) seconds of the bare encoder over ``data`` in ingest-sized batches: the yardstick."""
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(0, len(data), batch):
        encoder.embed_media(data[i:i + batch])
    return time.perf_counter() - t0, time.process_time() - c0


def part_ingest(n_images: int, work: Path, console: Console) -> Table:
    """Each row a fresh copy of one WordNet import; the encoder alone is timed right before each ingest, in
    the same process with the same model and batch shapes, so load drift on a shared machine hits both."""
    import shutil

    from sensegraph import SenseGraph

    records = _records(n_images)
    data = [Path(r["media"]).read_bytes() for r in records]
    template = work / "template"
    with SenseGraph(str(template)) as sg:
        if not (template / "graph.sqlite").exists() or not sg.store.counts()["senses"]:
            sg.import_kg("wordnet")  # as `sensegraph import-kg wordnet`: it leaves the update's sense structure
        console.print(_structure_costs(sg.store))
    for var in ("SENSEGRAPH_CACHE_DIR", "SENSEGRAPH_TEXT_CACHE_DIR"):
        os.environ.pop(var, None)
    texts = work / "texts"  # the machine-wide text cache (sense texts, context windows, glosses)
    shutil.rmtree(texts, ignore_errors=True)
    for media_cache in ("media-a", "media-b", "media-c"):  # a kept --store-dir must not hand a "new machine" its media
        shutil.rmtree(work / media_cache, ignore_errors=True)
    rows = []
    update = _timed_update()
    runs = (  # (label, media cache, auto-propagation)
        ("new machine (no media, no sense texts cached)", "media-a", True),
        ("cached machine (texts from another store), default", "media-b", True),
        ("cached machine, propagation.auto off", "media-c", False),
        ("re-ingest, new store (media, texts cached)", "media-c", True),
    )
    for n, (label, media_cache, auto) in enumerate(runs):
        store = work / f"store-{n}"
        shutil.rmtree(store, ignore_errors=True)
        shutil.copytree(template, store)
        cfg = {"encoder": {"cache_dir": str(work / media_cache), "text_cache_dir": str(texts)},
               "propagation": {"auto": auto}}
        sg = SenseGraph(str(store), config=cfg)
        batch = sg.config.encoder.batch_size
        inner = sg.encoder.inner  # the bare model: nothing cached by using it
        inner.embed_media(data[:batch])  # both models loaded and this batch shape seen outside the timing
        sg.linker.link("A cat.")  # the linker's once-per-process builds (bench_linking); a bare noun embeds nothing
        import scipy.sparse  # noqa: F401  the automatic update's one import, once per process like the models
        before = _encode_alone(inner, data, batch)
        update.clear()
        t0, c0 = time.perf_counter(), time.process_time()
        report = sg.ingest(records)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        after = _encode_alone(inner, data, batch)  # the mean of before and after: drift in load hits both sides
        enc_wall, enc_cpu = (before[0] + after[0]) / 2, (before[1] + after[1]) / 2
        rows.append((label, enc_wall, enc_cpu, wall, cpu, report.propagated, tuple(update) or (0.0, 0.0)))
        assert report.ingested == len(records), report.skipped
        sg.close()
    t = Table(title=f"ingest of {len(records)} packaged images (captions linked against all WordNet nouns); "
                    f"load average {os.getloadavg()[0]:.1f}")
    for col in ("path", "encoder alone (s)", "ingest (s)", "records/s", "vs encoder", "vs encoder, CPU",
                "update wall / CPU (s)", "propagated"):
        t.add_column(col, justify="left" if col == "path" else "right")
    for label, enc_wall, enc_cpu, wall, cpu, propagated, (u_wall, u_cpu) in rows:
        t.add_row(label, f"{enc_wall:.1f}", f"{wall:.1f}", f"{len(records) / wall:.2f}", f"{enc_wall / wall:.2f}x",
                  f"{enc_cpu / cpu:.2f}x", f"{u_wall:.2f} / {u_cpu:.2f}", str(propagated))
    return t


def _timed_update() -> list[float]:
    """Wrap ``propagation.auto_propagate`` (the ingest looks it up per call) to record its (wall, CPU)."""
    from sensegraph import propagation

    real, got = propagation.auto_propagate, []

    def timed(*args, **kwargs):
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            return real(*args, **kwargs)
        finally:
            got[:] = [time.perf_counter() - t0, time.process_time() - c0]

    propagation.auto_propagate = timed
    return got


def _structure_costs(store) -> str:
    """What the automatic update's sense structure costs: read and built from the store (what an ingest
    pays when nothing holds it), and loaded from the copy an import leaves beside the store."""
    from sensegraph.gnn.structure import from_columns
    from sensegraph.gnn.structure_cache import FILE, load, save

    c0, t0 = time.process_time(), time.perf_counter()
    revision = store.structure_revision()
    built = from_columns(revision, *store.sense_structure())
    build = (time.perf_counter() - t0, time.process_time() - c0)
    save(store.local_dir / FILE, built)
    c0, t0 = time.process_time(), time.perf_counter()
    assert load(store.local_dir / FILE, revision) is not None
    loaded = (time.perf_counter() - t0, time.process_time() - c0)
    return (f"sense structure ({built.num_nodes:,} senses, {built.src.size:,} relations): built from the store "
            f"{build[0]:.2f} s wall / {build[1]:.2f} s CPU, loaded from its file {loaded[0]:.3f} s / {loaded[1]:.3f} s")


def part_propagate(work: Path, sample: int = 256) -> Table:
    """First ``propagate`` on the store part 1 ingested with propagation off: each method, on a copy."""
    import shutil

    from sensegraph import SenseGraph
    from sensegraph.encoders.text import MiniLMTextEncoder
    from sensegraph.encoders.text_cache import TextCache, text_key
    from sensegraph.gnn.data import build_sense_graph

    source = work / "store-2"  # ingested with propagation.auto off: nothing propagated yet

    class Recorder:  # the glosses the GNN's neighbourhood needs, without embedding them
        texts: list[str] = []

        def embed(self, texts, _fn, **_):
            Recorder.texts = list(texts)
            return np.zeros((len(texts), 384), np.float32)

    with SenseGraph(str(source)) as sg:
        t0 = time.perf_counter()
        build_sense_graph(sg.store, Recorder(), None, hops=4)
        t_read = time.perf_counter() - t0
        evidenced = sg.store.counts().get("prototypes", 0)
    glosses = Recorder.texts
    enc = MiniLMTextEncoder()
    enc.embed_texts(["warm up"])
    picked = glosses[:: max(1, len(glosses) // sample)][:sample]
    t0 = time.perf_counter()
    enc.embed_texts(picked)
    rate = len(picked) / (time.perf_counter() - t0)
    filled = work / "texts-glosses"  # a machine that embedded these glosses before (random stand-ins: timing only)
    shutil.rmtree(filled, ignore_errors=True)
    vecs = np.random.default_rng(0).normal(size=(len(glosses), 384)).astype(np.float32)
    TextCache(filled, enc.encoder_id, dim=384).put(list(zip(map(text_key, glosses), vecs / np.linalg.norm(vecs, axis=1, keepdims=True))))
    rows = []
    for label, method, texts in (("neighbour-mean (no glosses, no training)", "neighbour-mean", work / "texts"),
                                 ("gnn, glosses in the shared cache", "gnn", filled)):
        store = work / f"propagate-{method}"
        shutil.rmtree(store, ignore_errors=True)
        shutil.copytree(source, store)
        with SenseGraph(str(store), config={"encoder": {"text_cache_dir": str(texts)}, "propagation": {"method": method}}) as sg:
            t0 = time.perf_counter()
            report = sg.propagate()
            rows.append((label, time.perf_counter() - t0, report.written, report.seconds))
    t = Table(title=f"first propagate on the store of part 1 ({evidenced} own prototypes)")
    for col in ("method", "seconds", "written", "phases (s)"):
        t.add_column(col, justify="left" if col in ("method", "phases (s)") else "right")
    for label, secs, written, phases in rows:
        t.add_row(label, f"{secs:.1f}", str(written), ", ".join(f"{k} {v:.1f}" for k, v in phases.items()))
    cold = len(glosses) / rate
    t.add_row(f"gnn, new machine: + {len(glosses):,} glosses (4 hops) at {rate:.0f}/s", f"+{cold:.0f}", "",
              f"read 4-hop graph {t_read:.1f}")
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
    ap.add_argument("--propagate", action="store_true", help="also time a first propagate per method on the ingested store")
    args = ap.parse_args()
    console = Console(width=190)  # piped output keeps whole rows
    console.print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="sensegraph-bench-ingest-") as tmp:
        work = args.store_dir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        if not args.skip_ingest:
            console.print(part_ingest(args.images, work, console))
            if args.propagate:
                console.print(part_propagate(work))
        console.print(part_prototypes([int(x) for x in args.evidence.split(",")], work))


if __name__ == "__main__":
    main()
