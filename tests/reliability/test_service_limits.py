"""The REST service under load and abuse: zero errors under concurrent searches + an ingest, 413 for
oversized bodies (declared or chunked), 429 for bursts, never a 500 or a dead server."""
from __future__ import annotations

import importlib.util
import json
import socket
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from .conftest import fresh_store_dir

TOKEN = "reliability-token"
ROOT = Path(__file__).resolve().parents[2]


def _bench():
    spec = importlib.util.spec_from_file_location("load_test", ROOT / "bench" / "load_test.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["load_test"] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def small_store(tmp_path_factory, template, corpus, clean) -> Path:
    """The KG template plus eight ingested photos (clean warmed the embedding cache)."""
    from sensegraph import SenseGraph

    d = fresh_store_dir(template, tmp_path_factory.mktemp("service") / "store")
    recs = [json.loads(line) for line in (corpus / "manifest.jsonl").read_text().splitlines()][:8]
    with SenseGraph(str(d)) as sg:
        sg.ingest([{**r, "media": str(corpus / r["media"])} for r in recs])
    return d


class LiveServer:
    """The service app under uvicorn in a thread on a free loopback port."""

    def __init__(self, app) -> None:
        import uvicorn

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "server did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def _app(store: Path, copy_to: Path, **service):
    from sensegraph import SenseGraph
    from sensegraph.service import create_app

    d = fresh_store_dir(store, copy_to)
    sg = SenseGraph(str(d), config={"service": {"token": TOKEN, **service}})
    return create_app(sg), sg


@pytest.mark.slow
def test_serve_under_concurrent_searches_and_an_ingest_has_zero_errors(small_store, tmp_path):
    """bench/load_test.py, tiny: the real `sensegraph serve` subprocess, 3 searchers + 1 ingester for 4 s."""
    bench = _bench()
    store = str(fresh_store_dir(small_store, tmp_path / "store"))
    bench.raise_rate_limit(store, 1_000_000)
    port = bench.free_port()
    server = bench.start_server(store, port, tmp_path / "server.log")
    try:
        result = bench.run_load(f"http://127.0.0.1:{port}", clients=3, duration=4.0, ingests=3)
    finally:
        server.terminate()
        server.wait(timeout=30)
    search, ingest = result["roles"]
    assert search["requests"] >= 10 and search["errors"] == 0, search
    assert ingest["requests"] >= 1 and ingest["errors"] == 0, ingest
    assert "Traceback" not in (tmp_path / "server.log").read_text()


def test_oversized_bodies_get_413_declared_or_chunked(small_store, tmp_path):
    app, sg = _app(small_store, tmp_path / "s", max_body_bytes=64_000)
    big = json.dumps({"records": [{"data": "A" * 200_000, "filename": "x.png"}]}).encode()
    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    with LiveServer(app) as srv:
        r = httpx.post(f"{srv.url}/ingest", content=big, headers=auth, timeout=30)
        assert r.status_code == 413 and "body over" in r.json()["detail"]

        def chunks():
            for i in range(0, len(big), 8192):
                yield big[i:i + 8192]

        r = httpx.post(f"{srv.url}/ingest", content=chunks(), headers=auth, timeout=30)  # no Content-Length
        assert r.status_code == 413, (r.status_code, r.text[:300])
        with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as raw:  # a malformed length
            raw.sendall(b"POST /search HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n" + b"x" * 1000)
            status_line = raw.recv(200).split(b"\r\n")[0]
        assert status_line.split(b" ")[1] in (b"400", b"413"), status_line
        assert httpx.get(f"{srv.url}/health").status_code == 200  # still alive
    assert sg.store.counts()["media"] == 8  # nothing was ingested


def test_bursts_over_the_rate_limit_get_429_not_500(small_store, tmp_path):
    app, _ = _app(small_store, tmp_path / "s", rate_limit_per_minute=20)
    statuses: list[int] = []
    lock = threading.Lock()
    with LiveServer(app) as srv:
        def burst():
            with httpx.Client(timeout=60) as c:
                for _ in range(10):
                    s = c.get(f"{srv.url}/senses", params={"q": "cat"}).status_code
                    with lock:
                        statuses.append(s)

        threads = [threading.Thread(target=burst) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        r = httpx.get(f"{srv.url}/health")
    assert len(statuses) == 60
    assert statuses.count(200) == 20 and statuses.count(429) == 40, sorted(set(statuses))
    assert r.status_code == 429 and r.headers.get("retry-after") == "60"


def test_search_weights_that_would_overflow_the_score_are_refused(small_store, tmp_path):
    """Regression: alpha=inf or 1e308 made every match NaN (serialised as null, ranking garbage); 422 now."""
    from fastapi.testclient import TestClient

    app, _ = _app(small_store, tmp_path / "s")
    with TestClient(app, raise_server_exceptions=False) as c:
        for params in ({"alpha": "inf"}, {"beta": 1e308}, {"threshold": "nan"}):
            assert c.get("/search", params={"q": "a cat", **params}).status_code == 422, params
        assert c.post("/search", json={"q": "a cat", "alpha": 1e308}).status_code == 422
        hits = c.get("/search", params={"q": "a cat", "alpha": 1000, "beta": 0.5}).json()["results"]
        assert hits and all(isinstance(h["match"], float) for h in hits)
