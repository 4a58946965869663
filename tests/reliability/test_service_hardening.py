"""The REST service's holes from issue 17 stay closed: no request freezes search, uploads cannot run
script on the service's origin, refused uploads leave nothing, results show no server paths, every
error has one shape, every response carries the security headers, the access log drops query strings.

Both stores where the store matters (uploads, paths, concurrency); the rest is the service alone.
"""
from __future__ import annotations

import base64
import io
import json
import os
import random
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from .conftest import cli, cli_env, fresh_store_dir
from .test_service_limits import LiveServer

TOKEN = "hardening-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CAT = "n02121620"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, template, corpus, clean) -> Path:
    """The KG template plus eight ingested photos (copied per test)."""
    from sensegraph import SenseGraph

    d = fresh_store_dir(template, tmp_path_factory.mktemp("hardening") / "store")
    with SenseGraph(str(d)) as sg:
        sg.ingest(_records(corpus))
    return d


def _records(corpus: Path, n: int = 8) -> list[dict]:
    recs = [json.loads(line) for line in (corpus / "manifest.jsonl").read_text().splitlines()][:n]
    return [{**r, "media": str(corpus / r["media"])} for r in recs]


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def sg(request, seeded, tmp_path, corpus, kg, cache_dir):
    """A SenseGraph with eight photos and a write token, on each store."""
    from sensegraph import SenseGraph

    config = {"service": {"token": TOKEN, "rate_limit_per_minute": 1_000_000}}
    if request.param == "embedded":
        g = SenseGraph(str(fresh_store_dir(seeded, tmp_path / "store")), config=config)
    else:
        store = request.getfixturevalue("neo4j_kg_store")
        g = SenseGraph(store, config={**config, "encoder": {"cache_dir": str(cache_dir)}})
        g.ingest(_records(corpus))
    yield g
    g.close()


@pytest.fixture
def client(sg):
    from sensegraph.service import create_app

    with TestClient(create_app(sg), raise_server_exceptions=False) as c:
        yield c


def _png(seed: int = 0, size: int = 48, text: str | None = None) -> bytes:
    """A real PNG of random pixels (distinct per seed), optionally with a tEXt chunk."""
    from PIL import Image, PngImagePlugin

    rng = random.Random(seed)
    im = Image.frombytes("RGB", (size, size), bytes(rng.randrange(256) for _ in range(size * size * 3)))
    info = PngImagePlugin.PngInfo()
    if text is not None:
        info.add_text("Comment", text)
    buf = io.BytesIO()
    im.save(buf, format="PNG", pnginfo=info)
    return buf.getvalue()


def _upload(data: bytes, filename: str, text: str | None = None, **extra) -> dict:
    return {"records": [{"data": base64.b64encode(data).decode(), "filename": filename, "text": text, **extra}]}


def _files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


# -- uploads and served media ----------------------------------------------------------------------
def test_a_polyglot_png_named_evil_html_is_stored_and_served_as_png(client, sg):
    """Issue 17 #2: a valid PNG whose text chunk holds <script>, uploaded as evil.html, was served as text/html."""
    from sensegraph.service import upload_dir

    data = _png(1, text='<html><script>fetch("/editor").then(r => r.text()).then(alert)</script></html>')
    r = client.post("/ingest", json=_upload(data, "evil.html", "a cat"), headers=AUTH)
    assert r.status_code == 200, r.text
    m = sg.store.media_by_sha256(__import__("hashlib").sha256(data).hexdigest())
    assert m is not None and Path(m.uri).name == f"{m.sha256}.png"  # the decoded format's extension, not .html
    assert Path(m.uri).parent == upload_dir(sg)
    served = client.get(f"/media/{m.media_id}/content")
    assert served.status_code == 200 and served.content == data
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    csp = served.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "sandbox" in csp and "script-src" not in csp
    assert not served.headers["content-disposition"].startswith("attachment")  # an image shows inline


def test_the_content_type_comes_from_the_bytes_and_non_images_are_attachments(client, sg, tmp_path):
    """A JPEG uploaded as .png is kept and served as JPEG; a stored medium that is not an image (here a
    manifest file whose bytes are HTML) is sent as an attachment with a neutral type, never as HTML."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buf, format="JPEG")
    r = client.post("/ingest", json=_upload(buf.getvalue(), "photo.png"), headers=AUTH)
    assert r.status_code == 200, r.text
    m = sg.store.media_by_sha256(__import__("hashlib").sha256(buf.getvalue()).hexdigest())
    assert m.uri.endswith(".jpg")
    assert client.get(f"/media/{m.media_id}/content").headers["content-type"] == "image/jpeg"

    from sensegraph.graph.model import Media

    page = tmp_path / "page.html"
    page.write_text("<script>alert(document.cookie)</script>")
    sg.store.upsert_media([Media("html-medium", str(page), "image", "0" * 64, None, None, None, {})])
    served = client.get("/media/html-medium/content")
    assert served.status_code == 200
    assert served.headers["content-type"] == "application/octet-stream"
    assert served.headers["content-disposition"].startswith("attachment")
    assert served.headers["x-content-type-options"] == "nosniff"


@pytest.mark.skipif(__import__("importlib").util.find_spec("av") is None, reason="needs PyAV (the video extra)")
def test_a_video_upload_is_kept_by_its_container_and_served_as_an_attachment(client, sg):
    import av
    import numpy as np

    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as out:
        stream = out.add_stream("mpeg4", rate=4)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(6):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 40, dtype=np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    data = buf.getvalue()
    from sensegraph.graph.model import Media
    from sensegraph.service_media import decode_upload, store_upload

    up = decode_upload(base64.b64encode(data).decode(), "clip.txt")  # the container decides, not the name
    assert (up.kind.extension, up.kind.content_type, up.kind.is_image) == (".mp4", "video/mp4", False)
    path, _ = store_upload(sg, up)
    assert path.name == f"{up.sha256}.mp4"
    sg.store.upsert_media([Media("clip", str(path), "video", up.sha256, None, None, "a clip", {})])
    served = client.get("/media/clip/content")
    assert served.status_code == 200 and served.content == data
    assert served.headers["content-type"] == "video/mp4"
    assert served.headers["content-disposition"].startswith("attachment")
    path.unlink()


def test_refused_uploads_leave_no_file_and_no_server_path(client, sg):
    """Issue 17 #6 / 16: refused files stayed under uploads/ (10,000 rejections, 10,000 files)."""
    from sensegraph.service import upload_dir

    folder = upload_dir(sg)
    before = _files(folder)
    good = _png(7, size=64)
    truncated = good[: len(good) // 2]  # a PNG header Pillow accepts, pixel data cut off: refused at decode
    refused = [
        _upload(b"<html><script>alert(1)</script></html>", "evil.html"),
        _upload(b"GIF89a" + b"\x00" * 20, "broken.gif"),
        {"records": [{"data": "!!! not base64", "filename": "x.png"}]},
        _upload(truncated, "cut.png", "a cat"),
    ]
    for i in range(30):  # many rejections, still nothing left behind
        body = refused[i % len(refused)]
        r = client.post("/ingest", json=body, headers=AUTH)
        shown = body["records"][0]["filename"]
        assert r.status_code == 422, r.text  # nothing went in: an error either way, never a 200
        if r.json()["error"] == "NothingIngested":  # decoded, then refused by ingest: the report says why
            skipped = r.json()["skipped"]
            assert r.json()["ingested"] == 0 and len(skipped) == 1, r.text
            assert shown in skipped[0]["ref"] and str(folder) not in r.text, r.text
        else:
            assert r.json()["error"] == "ValidationError", r.text
            assert shown in r.json()["detail"] and str(folder) not in r.text, r.text
        assert "/" + folder.name + "/" not in r.text
    assert _files(folder) == before
    assert not list(folder.glob("*.part")) if folder.is_dir() else True
    assert sg.store.media_by_sha256(__import__("hashlib").sha256(truncated).hexdigest()) is None


def test_api_results_show_no_absolute_server_paths(client, sg, corpus, tmp_path):
    """Search hits, /media/{id}, /senses/{id} evidence and /recommend show relative URIs (or /media/… URLs)."""
    r = client.post("/ingest", json=_upload(_png(3), "mine.png", "a cat"), headers=AUTH)
    assert r.status_code == 200
    media = sorted(m.media_id for b in sg.store.iter_media(vectors=False) for m in b)
    bodies = [client.get("/search", params={"q": "a cat", "k": 20}).json(),
              client.post("/search", json={"q": "a cup of coffee", "k": 20}).json(),
              client.get(f"/senses/{CAT}").json(), client.get(f"/recommend/{media[0]}").json()]
    bodies += [client.get(f"/media/{m}").json() for m in media]
    secrets = {str(corpus), str(tmp_path), str(Path(corpus).parent), os.path.expanduser("~")}
    store_dir = getattr(sg.store, "directory", None)
    if store_dir is not None:
        secrets.add(str(store_dir))
    uris = []
    for body in bodies:
        for s in _strings(body):
            assert not any(secret in s for secret in secrets), s
        uris += [h["uri"] for h in body.get("results", [])] + [e["uri"] for e in body.get("evidence", [])]
        if "uri" in body:
            uris.append(body["uri"])
            assert body["content_url"] == f"/media/{body['media_id']}/content"
    assert uris and all(u and not u.startswith("/") for u in uris), uris
    assert any(u.startswith("uploads/") for u in uris), uris
    assert client.get(f"/media/{media[0]}/content").status_code == 200


# -- one error shape, one query name -------------------------------------------------------------
def _shape(r: httpx.Response, status: int, name: str | None = None) -> dict:
    assert r.status_code == status, (r.status_code, r.text[:300])
    body = r.json()
    assert set(body) >= {"error", "detail"} and isinstance(body["error"], str) and body["detail"], body
    assert set(body) <= {"error", "detail", "fields"}, body
    if name:
        assert body["error"] == name, body
    return body


def test_every_error_has_one_shape(client, sg, seeded, tmp_path):
    from sensegraph.service import create_app
    from sensegraph.service_guard import Budget

    _shape(client.get("/search", params={"q": "cat", "k": 0}), 422, "ValidationError")
    _shape(client.post("/search", json={"k": 3}), 422, "ValidationError")
    too_long = _shape(client.post("/link", json={"q": "cat " * 1300}), 422, "ValidationError")
    assert "5000" in too_long["detail"] and too_long["fields"][0]["field"] == "q"
    _shape(client.post("/search", json={"q": "cat", "filters": {"colour": "red"}}), 422, "ValidationError")
    _shape(client.get("/no/such/route"), 404, "NotFound")
    _shape(client.get("/senses/n99999999"), 404, "NotFound")
    _shape(client.delete("/search"), 405, "MethodNotAllowed")
    _shape(client.post("/ingest", json=_upload(_png(), "x.png")), 401, "AuthError")
    _shape(client.post("/search", content=b"{not json", headers={"content-type": "application/json"}), 422, "ValidationError")
    big = {"q": "x", "filters": {"modality": "y" * (sg.config.service.max_body_bytes + 10)}}
    _shape(client.post("/search", json=big), 413, "PayloadTooLarge")
    app = client.app
    held = Budget("link", 1, 0.0)
    app.state.budgets["link"] = held
    held._free.acquire()  # the one slot taken: the next /link finds none within its (zero) wait
    try:
        busy = client.post("/link", json={"q": "a cat"})
    finally:
        held._free.release()
    assert "busy" in _shape(busy, 503, "ServiceBusy")["detail"]
    assert client.post("/link", json={"q": "a cat"}).status_code == 200
    original = sg.stats
    sg.stats = lambda: 1 / 0  # an unexpected failure inside a route
    try:
        crashed = client.get("/stats")
    finally:
        sg.stats = original
    assert "ZeroDivision" not in crashed.text and "Traceback" not in crashed.text
    assert _shape(crashed, 500, "InternalError") and crashed.headers["x-content-type-options"] == "nosniff"
    limited = create_app(type(sg)(sg.store, config={"service": {"token": TOKEN, "rate_limit_per_minute": 2}}))
    with TestClient(limited, raise_server_exceptions=False) as c:
        statuses = [c.get("/health").status_code for _ in range(3)]
        assert statuses[:2] == [200, 200]
        _shape(c.get("/health"), 429, "TooManyRequests")


def test_the_query_text_is_q_on_every_endpoint(client):
    spec = client.get("/openapi.json").json()
    get_params = {p["name"] for p in spec["paths"]["/search"]["get"]["parameters"]}
    senses_params = {p["name"] for p in spec["paths"]["/senses"]["get"]["parameters"]}
    schemas = spec["components"]["schemas"]
    assert "q" in get_params and "q" in senses_params
    assert "q" in schemas["SearchRequest"]["properties"] and "q" in schemas["LinkRequest"]["properties"]
    assert "text" not in schemas["LinkRequest"]["properties"]
    assert schemas["LinkRequest"]["properties"]["q"]["maxLength"] == 5000
    linked = client.post("/link", json={"q": "a cat and a cup of coffee"})
    assert linked.status_code == 200 and {m["text"] for m in linked.json()["mentions"]} >= {"cat", "coffee"}


# -- headers and logs -----------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/docs", "/editor", "/editor/login", "/editor/senses?q=cat", f"/editor/sense/{CAT}",
                                  "/health", "/no/such/route", "/openapi.json"])
def test_every_response_carries_the_security_headers(seeded, tmp_path, path):
    from sensegraph import SenseGraph
    from sensegraph.service import create_app

    with SenseGraph(str(fresh_store_dir(seeded, tmp_path / "s")), config={"service": {"token": TOKEN}}) as g:
        with TestClient(create_app(g), raise_server_exceptions=False) as c:
            r = c.get(path)
    assert r.status_code < 500, r.text[:300]
    h = r.headers
    assert h["x-content-type-options"] == "nosniff"
    assert h["x-frame-options"] == "DENY"
    assert h["referrer-policy"] == "no-referrer"
    csp = h["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    if h["content-type"].startswith("text/html"):
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert "object-src 'none'" in csp and "base-uri 'none'" in csp


def test_the_access_log_has_no_query_strings(seeded, tmp_path):
    """Issue 17 #6: a token sent as ?token= (refused) landed in the access log of `sensegraph serve`."""
    import socket

    store = fresh_store_dir(seeded, tmp_path / "s")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path / "serve.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cli("serve", "--port", str(port), "--store", str(store)), stdout=fh,
                                stderr=subprocess.STDOUT, env=cli_env())
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        httpx.get(f"{base}/senses", params={"q": "private-query-words", "token": "leaked-token-value"}, timeout=60)
        httpx.post(f"{base}/ingest?token=leaked-token-value", json={}, timeout=60)
        time.sleep(0.5)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    text = log.read_text()
    assert '"GET /senses HTTP/1.1" 200' in text and '"POST /ingest HTTP/1.1" 401' in text, text[-2000:]
    assert "leaked-token-value" not in text and "private-query-words" not in text and "?" not in text.split("/senses")[1][:5]


# -- one request must not freeze the service --------------------------------------------------------
def _alias_text(sg, chars: int, seed: int = 0) -> str:
    """``chars`` characters of the store's own aliases, one per paragraph: the most linking work a request of
    that size makes (mentions of one sentence share a context window, so one sentence would be cheap)."""
    words = sorted({e.alias for e in sg.store.alias_table() if e.alias.isascii()})
    rng = random.Random(seed)
    out = ""
    while len(out) < chars:
        out += rng.choice(words) + "\n\n"
    return out[:chars].strip()


def _wait_for(predicate, what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.mark.slow
def test_a_slow_link_and_a_long_ingest_do_not_block_search(sg, monkeypatch):
    """Issue 17 #1: a 20k-character /link held the service lock and a /search waited 294.8 s; an ingest
    of large PNGs blocked /search for 30 s. Now searches answer while both are still running, and
    /link floods beyond its slots get 503 at once instead of queueing in the worker pool."""
    from sensegraph.service import create_app

    app = create_app(sg)
    # a /link held until the searches have answered: linking 5,000 characters got fast (shared sentence
    # windows), and the test is about the service not waiting for a slow one, however it is slow
    release, real_link = threading.Event(), sg.link
    monkeypatch.setattr(sg, "link", lambda text: (release.wait(120) if len(text) > 500 else None, real_link(text))[1])
    salt = 1000 * len(sg.store.name)  # texts no other case embedded: the session's embedding cache must not make them fast
    link_text = _alias_text(sg, 5000, seed=salt)
    captions = [_alias_text(sg, 2000, seed=salt + 1 + i) for i in range(4)]
    ingest = {"records": [{"data": base64.b64encode(_png(100 + i, size=256)).decode(), "filename": f"big{i}.png",
                           "text": captions[i]} for i in range(4)]}
    results: dict[str, list[int]] = {"link": [], "ingest": [], "flood": []}
    with LiveServer(app) as srv, httpx.Client(base_url=srv.url, timeout=600) as c:
        assert c.get("/search", params={"q": "warm up"}).status_code == 200  # models loaded before timing anything

        def post(kind: str, path: str, body: dict, headers: dict | None = None) -> None:
            results[kind].append(httpx.post(f"{srv.url}{path}", json=body, headers=headers, timeout=600).status_code)

        threads = {"ingest": threading.Thread(target=post, args=("ingest", "/ingest", ingest, AUTH)),
                   "link": threading.Thread(target=post, args=("link", "/link", {"q": link_text}))}
        threads["ingest"].start()
        _wait_for(lambda: app.state.budgets["ingest"].in_flight == 1, "the ingest to start")
        threads["link"].start()
        _wait_for(lambda: app.state.budgets["link"].in_flight == 1, "the link to start")
        flood_text = _alias_text(sg, 5000, seed=salt + 9)
        floods = [threading.Thread(target=post, args=("flood", "/link", {"q": flood_text})) for _ in range(4)]
        for t in floods:
            t.start()
        statuses = [c.get("/search", params={"q": q, "k": 5}).status_code for q in ("a cat", "a cup of coffee", "the moon")]
        still_running = {k: t.is_alive() for k, t in threads.items()}
        try:  # both slots are held: the floods beyond them must be answered (503) without waiting
            _wait_for(lambda: len(results["flood"]) >= 3, "the /link floods beyond the slots to be answered", timeout=60)
        finally:
            release.set()
        for t in floods:
            t.join(timeout=600)
        for t in threads.values():
            t.join(timeout=600)
    assert statuses == [200, 200, 200]
    assert still_running == {"ingest": True, "link": True}, "a search waited for the link or the ingest"
    assert results["link"] == [200] and results["ingest"] == [200]
    assert sorted(results["flood"]).count(503) >= 3, results["flood"]  # 2 slots, one taken by the first link


def test_a_rest_upload_cannot_take_another_mediums_id(client, sg):
    """Issue 17 #3 through REST: a new file posted with an existing medium's id answered 200 and the old
    medium took the new file's uri, sha and caption. Now it is refused by name, the old medium is as it
    was, the refused file leaves nothing on disk, and the same bytes under the same id stay idempotent."""
    from sensegraph.service import upload_dir

    victim = sorted((m for b in sg.store.iter_media(vectors=False) for m in b), key=lambda m: m.media_id)[0]
    evidence = sorted((e.sense_id, e.source, e.detached) for e in sg.store.evidence(media_id=victim.media_id))
    files = _files(upload_dir(sg))
    intruder = _png(42)
    r = client.post("/ingest", json=_upload(intruder, "other.png", "a rocket", id=victim.media_id), headers=AUTH)
    assert r.status_code == 422 and r.json()["error"] == "NothingIngested", r.text
    body = r.json()
    assert victim.media_id in body["detail"], body
    assert body["ingested"] == 0 and len(body["skipped"]) == 1, body
    assert body["skipped"][0]["kind"] == "id_conflict" and victim.media_id in body["skipped"][0]["reason"], body
    kept = sg.store.get_media([victim.media_id], vectors=False)[victim.media_id]
    assert (kept.uri, kept.sha256, kept.caption) == (victim.uri, victim.sha256, victim.caption)
    assert sorted((e.sense_id, e.source, e.detached) for e in sg.store.evidence(media_id=victim.media_id)) == evidence
    assert _files(upload_dir(sg)) == files and sg.store.media_by_sha256(__import__("hashlib").sha256(intruder).hexdigest()) is None

    first = client.post("/ingest", json=_upload(intruder, "other.png", "a rocket", id="own-id"), headers=AUTH).json()
    counts = dict(sg.store.counts())
    again = client.post("/ingest", json=_upload(intruder, "renamed.jpg", "a rocket", id="own-id"), headers=AUTH).json()
    assert first["ingested"] == 1 and again["ingested"] == 0 and again["already_present"] == 1 and not again["skipped"], again
    assert dict(sg.store.counts()) == counts


def test_editor_pages_do_not_wait_for_a_long_request(client):
    """An editor page takes the service lock with ``with lock:``; inside a GET that is the shared side,
    so a page renders while a long request (here: a held shared lock, as a 5,000-character /link holds
    it) is still running, instead of waiting for it and holding every search back meanwhile."""
    lock = client.app.state.lock
    holding, release = threading.Event(), threading.Event()

    def long_request() -> None:
        with lock.shared():
            holding.set()
            release.wait(120)

    pages: list[int] = []
    holder = threading.Thread(target=long_request)
    holder.start()
    assert holding.wait(30)
    try:
        viewer = threading.Thread(target=lambda: pages.extend(client.get(p).status_code for p in
                                                              (f"/editor/sense/{CAT}", "/editor/senses?q=cat", "/editor/audit")))
        viewer.start()
        viewer.join(60)
        rendered_while_held = not viewer.is_alive() and holder.is_alive()
    finally:
        release.set()
        holder.join(30)
        viewer.join(60)
    assert rendered_while_held, "an editor page waited for the long request"
    assert pages == [200, 200, 200]


def test_a_refused_editor_upload_leaves_no_file_either(client, sg):
    """The editor's upload form stores through the same path as REST: kept by the decoded format, and a
    file ingest refuses (truncated pixels) or that is no medium at all leaves nothing under uploads/."""
    from sensegraph.service import upload_dir

    before = _files(upload_dir(sg))
    good = _png(11, size=64)
    for name, data in (("cut.png", good[: len(good) // 2]), ("page.png", b"<html><script>alert(1)</script></html>")):
        r = client.post(f"/editor/sense/{CAT}/upload", files={"file": (name, data, "image/png")}, data={"caption": "a cat"},
                        headers=AUTH, follow_redirects=False)
        assert r.status_code == 422, (name, r.status_code, r.text[:300])
        assert name in r.text and str(upload_dir(sg)) not in r.text
    assert _files(upload_dir(sg)) == before
    jpeg = io.BytesIO()
    from PIL import Image

    Image.new("RGB", (50, 40), (9, 99, 199)).save(jpeg, format="JPEG")
    r = client.post(f"/editor/sense/{CAT}/upload", files={"file": ("photo.png", jpeg.getvalue(), "image/png")},
                    data={"caption": "a cat"}, headers=AUTH, follow_redirects=False)
    assert r.status_code == 303, r.text[:300]
    m = sg.store.media_by_sha256(__import__("hashlib").sha256(jpeg.getvalue()).hexdigest())
    assert m is not None and m.uri.endswith(".jpg")
