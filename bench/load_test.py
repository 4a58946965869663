"""Load test: `sensegraph serve` on loopback, N concurrent search clients while one client ingests.

    python bench/load_test.py                       # 8 searchers + 1 ingester for 20 s on a fresh small store
    python bench/load_test.py --clients 16 --duration 60 --store ./sensegraph-data
    python bench/load_test.py --json                # the numbers as JSON

Prints, per role, requests, errors (any status other than 200, or a transport error), throughput
and p50/p99 latency. Bounded: clients stop at --duration, each request has a timeout. The server
runs as a real subprocess (`python -m sensegraph serve`), with the token in its environment and the
store's rate limit raised so the clients measure the service, not the limiter.
"""
from __future__ import annotations

import argparse
import base64
import io
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

TOKEN = "load-test-token"
QUERIES = ["a cup of coffee", "a cat", "rocket on the launch pad", "an astronaut", "a horse", "the moon",
           "a motorcycle", "old coins", "a camera on a tripod", "a brick wall"]
WORDS = {"cat", "coffee", "cup", "rocket", "horse", "moon", "camera", "motorcycle", "coin", "brick", "astronaut"}
PHOTOS = [("astronaut.png", "portrait of an astronaut"), ("camera.png", "a man with a camera"),
          ("chelsea.png", "a cat"), ("coffee.png", "a cup of coffee"), ("rocket.jpg", "a rocket on the launch pad"),
          ("horse.png", "a horse"), ("motorcycle_left.png", "a motorcycle"), ("coins.png", "old coins")]


@dataclass
class Role:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)

    def record(self, status: int | None, seconds: float) -> None:
        self.latencies.append(seconds)
        self.statuses[status or 0] = self.statuses.get(status or 0, 0) + 1
        if status != 200:
            self.errors += 1

    def summary(self, wall: float) -> dict:
        import numpy as np

        lat = np.array(self.latencies) * 1000.0 if self.latencies else np.zeros(1)
        return {"role": self.name, "requests": len(self.latencies), "errors": self.errors,
                "per_s": round(len(self.latencies) / wall, 1), "p50_ms": round(float(np.percentile(lat, 50)), 1),
                "p99_ms": round(float(np.percentile(lat, 99)), 1), "statuses": self.statuses}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def small_store(directory: Path) -> Path:
    """A store with a WordNet subgraph and eight scikit-image photos, ingested through SenseGraph."""
    import skimage

    from sensegraph import SenseGraph
    from sensegraph.graph.embedded import EmbeddedStore
    from sensegraph.graph.importers.report import write_batches
    from sensegraph.graph.importers.wordnet import build_graph

    data = Path(skimage.__file__).parent / "data"
    g = build_graph(select=lambda s: any(lemma.lower() in WORDS for lemma in s.lemmas))
    with EmbeddedStore(directory) as store:
        write_batches(store, entities=g.entities, aliases=g.aliases, senses=g.senses, has_sense=g.has_sense,
                      relations=g.relations)
        with SenseGraph(store) as sg:
            sg.ingest([{"media": str(data / name), "text": text} for name, text in PHOTOS])
    return directory


def raise_rate_limit(store: str, per_minute: int) -> None:
    """Write the service rate limit into the store's saved config (what `serve` reads)."""
    from sensegraph import SenseGraph

    with SenseGraph(store) as sg:
        sg.config.service.rate_limit_per_minute = per_minute
        sg.save_config()


def upload_bodies(n: int, seed: int = 0) -> list[dict]:
    """``n`` distinct small images (random crops of the packaged photos) as /ingest bodies."""
    import skimage
    from PIL import Image

    rng = random.Random(seed)
    data = Path(skimage.__file__).parent / "data"
    out = []
    for i in range(n):
        name, text = PHOTOS[i % len(PHOTOS)]
        im = Image.open(data / name).convert("RGB")
        w, h = im.size
        x, y = rng.randint(0, w // 4), rng.randint(0, h // 4)
        crop = im.crop((x, y, x + w * 3 // 4, y + h * 3 // 4)).resize((224, 224))
        buf = io.BytesIO()
        crop.save(buf, format="PNG")
        out.append({"records": [{"data": base64.b64encode(buf.getvalue()).decode(), "filename": f"load{i}.png",
                                 "text": text}]})
    return out


def start_server(store: str, port: int, log: Path) -> subprocess.Popen:
    env = dict(os.environ, SENSEGRAPH_TOKEN=TOKEN)
    with open(log, "wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "sensegraph", "serve", "--port", str(port), "--store", store],
                                stdout=fh, stderr=subprocess.STDOUT, env=env)
    import httpx

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited ({proc.returncode}); log {log}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not answer /health within 120 s")


def run_load(base: str, clients: int, duration: float, ingests: int = 8, timeout: float = 60.0) -> dict:
    """Drive ``base`` with ``clients`` searchers and one ingester for ``duration`` seconds."""
    import httpx

    searchers, ingester = Role("search"), Role("ingest")
    stop = threading.Event()
    lock = threading.Lock()
    bodies = upload_bodies(ingests)
    with httpx.Client(timeout=timeout) as warm:  # load the models once before timing
        warm.get(f"{base}/search", params={"q": "warm up"})

    def search_client(i: int) -> None:
        rng = random.Random(i)
        with httpx.Client(timeout=timeout) as c:
            while not stop.is_set():
                t0 = time.perf_counter()
                try:
                    status = c.get(f"{base}/search", params={"q": rng.choice(QUERIES), "k": 5}).status_code
                except httpx.HTTPError:
                    status = None
                with lock:
                    searchers.record(status, time.perf_counter() - t0)

    def ingest_client() -> None:
        with httpx.Client(timeout=timeout, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
            for body in bodies:
                if stop.is_set():
                    break
                t0 = time.perf_counter()
                try:
                    status = c.post(f"{base}/ingest", json=body).status_code
                except httpx.HTTPError:
                    status = None
                ingester.record(status, time.perf_counter() - t0)

    threads = [threading.Thread(target=search_client, args=(i,)) for i in range(clients)]
    threads.append(threading.Thread(target=ingest_client))
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(duration)
    stop.set()
    for t in threads:
        t.join(timeout=timeout + 5)
    wall = time.perf_counter() - t0
    return {"clients": clients, "duration_s": round(wall, 1),
            "roles": [searchers.summary(wall), ingester.summary(wall)]}


def print_table(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"load: {result['clients']} searchers + 1 ingester, {result['duration_s']} s")
    for col in ("role", "requests", "errors", "req/s", "p50 ms", "p99 ms"):
        table.add_column(col, justify="left" if col == "role" else "right")
    for r in result["roles"]:
        table.add_row(r["role"], str(r["requests"]), str(r["errors"]), str(r["per_s"]), str(r["p50_ms"]), str(r["p99_ms"]))
    Console().print(table)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", help="an existing store (default: a fresh small one in a temp dir)")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--duration", type=float, default=20.0)
    ap.add_argument("--ingests", type=int, default=8, help="uploads the ingest client sends (one record each)")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sensegraph-load-"))
    try:
        store = args.store or str(small_store(tmp / "store"))
        raise_rate_limit(store, 1_000_000)
        port = args.port or free_port()
        server = start_server(store, port, tmp / "server.log")
        try:
            result = run_load(f"http://127.0.0.1:{port}", args.clients, args.duration, args.ingests)
        finally:
            server.terminate()
            server.wait(timeout=30)
        print(json.dumps(result, indent=2)) if args.json else print_table(result)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
