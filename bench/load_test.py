"""Load test: `sensegraph serve` on loopback, N concurrent search clients while one client ingests,
hostile clients send the longest `/link` texts the service takes, and large PNGs are ingested.

    python bench/load_test.py                       # 8 searchers + 1 ingester for 20 s on a fresh small store
    python bench/load_test.py --hostile-links 3 --large-ingests 16   # + 3 /link floods and 16 large PNGs
    python bench/load_test.py --clients 16 --duration 60 --store ./sensegraph-data
    python bench/load_test.py --json                # the numbers as JSON

Prints, per role, requests, errors (any status other than 200, or a transport error; a hostile
`/link` answered 503 "busy" is counted apart, as refused), throughput and p50/p99 latency, then the
search p99 against the 1 s target. Bounded: clients stop at --duration, each request has a timeout. The server
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
    refused_ok: bool = False  # a 503 "busy" is the service protecting itself, not an error (hostile roles)

    def record(self, status: int | None, seconds: float) -> None:
        self.latencies.append(seconds)
        self.statuses[status or 0] = self.statuses.get(status or 0, 0) + 1
        if status != 200 and not (self.refused_ok and status == 503):
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


def large_upload_bodies(n: int, per_request: int = 1, side: int = 1800, seed: int = 1) -> list[dict]:
    """``n`` distinct large legal PNGs (packaged photos scaled to ``side``² with noise), ``per_request`` per body."""
    import numpy as np
    import skimage
    from PIL import Image

    rng = np.random.default_rng(seed)
    data = Path(skimage.__file__).parent / "data"
    records = []
    for i in range(n):
        name, text = PHOTOS[i % len(PHOTOS)]
        im = np.asarray(Image.open(data / name).convert("RGB").resize((side, side)), dtype=np.int16)
        im = np.clip(im + rng.integers(-6, 7, im.shape), 0, 255).astype(np.uint8)  # distinct bytes, still a photo
        buf = io.BytesIO()
        Image.fromarray(im).save(buf, format="PNG", compress_level=1)
        records.append({"data": base64.b64encode(buf.getvalue()).decode(), "filename": f"large{i}.png", "text": text})
    return [{"records": records[i:i + per_request]} for i in range(0, len(records), per_request)]


def hostile_texts(store: str, n: int, chars: int = 5000, seed: int = 2) -> list[str]:
    """``n`` texts of ``chars`` characters made of the store's own aliases: the most linking one request buys."""
    from sensegraph import SenseGraph

    with SenseGraph(store) as sg:
        words = sorted({e.alias for e in sg.store.alias_table() if e.alias.isascii()})
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        text = ""
        while len(text) < chars:
            text += rng.choice(words) + " and "
        out.append(text[:chars].strip())
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


def run_load(base: str, clients: int, duration: float, ingests: int = 8, timeout: float = 60.0, *,
             hostile: list[str] | None = None, hostile_clients: int = 0, large: list[dict] | None = None) -> dict:
    """Drive ``base`` with ``clients`` searchers and one ingester for ``duration`` seconds, plus
    ``hostile_clients`` sending the ``hostile`` /link texts and one client ingesting the ``large`` bodies."""
    import httpx

    searchers, ingester = Role("search"), Role("ingest")
    linkers, large_ingester = Role("hostile /link", refused_ok=True), Role("large ingest")
    stop = threading.Event()
    lock = threading.Lock()
    bodies = upload_bodies(ingests)
    with httpx.Client(timeout=timeout) as warm:  # load the models once before timing
        warm.get(f"{base}/search", params={"q": "warm up"})

    def timed(role: Role, send) -> int | None:  # noqa: ANN001 - a zero-argument httpx call
        """One request: its status (None when the connection failed), recorded with its latency."""
        t0 = time.perf_counter()
        try:
            status = send().status_code
        except httpx.HTTPError:
            status = None
        with lock:
            role.record(status, time.perf_counter() - t0)
        return status

    def search_client(i: int) -> None:
        rng = random.Random(i)
        with httpx.Client(timeout=timeout) as c:
            while not stop.is_set():
                timed(searchers, lambda: c.get(f"{base}/search", params={"q": rng.choice(QUERIES), "k": 5}))

    def ingest_client(role: Role, batches: list[dict], client_timeout: float) -> None:
        with httpx.Client(timeout=client_timeout, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
            for body in batches:
                if stop.is_set():
                    break
                timed(role, lambda: c.post(f"{base}/ingest", json=body))

    def hostile_client(i: int) -> None:
        with httpx.Client(timeout=timeout) as c:
            n = 0
            while not stop.is_set():
                text = hostile[(i + n) % len(hostile)]
                n += 1
                if timed(linkers, lambda: c.post(f"{base}/link", json={"q": text})) == 503:
                    time.sleep(0.5)  # what Retry-After asks for, roughly

    threads = [threading.Thread(target=search_client, args=(i,)) for i in range(clients)]
    threads.append(threading.Thread(target=ingest_client, args=(ingester, bodies, timeout)))
    if hostile and hostile_clients:
        threads += [threading.Thread(target=hostile_client, args=(i,)) for i in range(hostile_clients)]
    if large:
        threads.append(threading.Thread(target=ingest_client, args=(large_ingester, large, max(timeout, 300))))
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(duration)
    stop.set()
    for t in threads:
        t.join(timeout=max(timeout, 300) + 5)
    wall = time.perf_counter() - t0
    roles = [searchers.summary(wall), ingester.summary(wall)]
    if hostile and hostile_clients:
        roles.append(linkers.summary(wall))
    if large:
        roles.append(large_ingester.summary(wall))
    return {"clients": clients, "hostile_clients": hostile_clients if hostile else 0,
            "large_pngs": sum(len(b["records"]) for b in large or []), "duration_s": round(wall, 1), "roles": roles}


def print_table(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    extra = ""
    if result.get("hostile_clients"):
        extra += f" + {result['hostile_clients']} hostile /link"
    if result.get("large_pngs"):
        extra += f" + {result['large_pngs']} large PNGs"
    table = Table(title=f"load: {result['clients']} searchers + 1 ingester{extra}, {result['duration_s']} s")
    for col in ("role", "requests", "errors", "503 busy", "req/s", "p50 ms", "p99 ms"):
        table.add_column(col, justify="left" if col == "role" else "right")
    for r in result["roles"]:
        table.add_row(r["role"], str(r["requests"]), str(r["errors"]), str(r["statuses"].get(503, 0)), str(r["per_s"]),
                      str(r["p50_ms"]), str(r["p99_ms"]))
    console = Console()
    console.print(table)
    p99 = result["roles"][0]["p99_ms"]
    console.print(f"search p99 {p99} ms: {'within' if p99 < 1000 else 'OVER'} the 1 s target")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", help="an existing store (default: a fresh small one in a temp dir)")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--duration", type=float, default=20.0)
    ap.add_argument("--ingests", type=int, default=8, help="uploads the ingest client sends (one record each)")
    ap.add_argument("--hostile-links", type=int, default=0, help="clients sending 5,000-character /link texts nonstop")
    ap.add_argument("--large-ingests", type=int, default=0, help="large PNGs (1800², ~8 MB each) one client ingests, one per request")
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
            hostile = hostile_texts(store, 8) if args.hostile_links else None
            large = large_upload_bodies(args.large_ingests) if args.large_ingests else None
            result = run_load(f"http://127.0.0.1:{port}", args.clients, args.duration, args.ingests,
                              hostile=hostile, hostile_clients=args.hostile_links, large=large)
        finally:
            server.terminate()
            server.wait(timeout=30)
        print(json.dumps(result, indent=2)) if args.json else print_table(result)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
