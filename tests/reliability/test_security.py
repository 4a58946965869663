"""Security: every write route needs the token (enumerated from the app, editor included), wrong and
wrong-length tokens are refused, the token never reaches a log, editor pages escape stored text,
CORS is off by default."""
from __future__ import annotations

import io
import json
import logging

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from .conftest import fresh_store_dir

TOKEN = "s3cret-reliability-token-0123456789"
CAT = "n02121620"
# POST routes that write nothing: /search and /link take bodies too big for a query string; the
# editor's login/logout only set or clear a cookie (login checks the token itself).
READ_ONLY_POSTS = {"/search", "/link", "/editor/login", "/editor/logout"}
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def all_routes(routes):
    """Every APIRoute, descending into included routers (FastAPI keeps those lazily)."""
    for r in routes:
        inner = getattr(r, "original_router", None)
        if inner is not None:
            yield from all_routes(inner.routes)
        elif isinstance(r, APIRoute):
            yield r


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, template, corpus, clean):
    """A store with eight ingested photos (fresh copies per test)."""
    from sensegraph import SenseGraph

    d = fresh_store_dir(template, tmp_path_factory.mktemp("security") / "store")
    recs = [json.loads(line) for line in (corpus / "manifest.jsonl").read_text().splitlines()][:8]
    with SenseGraph(str(d)) as sg:
        sg.ingest([{**r, "media": str(corpus / r["media"])} for r in recs])
    return d


@pytest.fixture
def service(seeded, tmp_path):
    from sensegraph import SenseGraph
    from sensegraph.service import create_app

    sg = SenseGraph(str(fresh_store_dir(seeded, tmp_path / "store")),
                    config={"service": {"token": TOKEN, "rate_limit_per_minute": 1_000_000}})
    app = create_app(sg)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield app, sg, client
    sg.close()


def _state(sg) -> tuple:
    s = sg.store
    return (tuple(sorted(s.counts().items())), tuple(e.audit_id for e in s.audit_log(limit=1000)),
            tuple(sorted((e.media_id, e.sense_id, e.source, e.detached) for e in s.evidence())),
            tuple(sorted((x.sense_id, x.label, x.gloss) for b in s.iter_senses() for x in b)))


def _png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 200, 30)).save(buf, format="PNG")
    return buf.getvalue()


def _request(route: APIRoute, sg, audit_id: str) -> dict:
    """A plausible request for ``route``: real ids in the path, every form field filled."""
    media = sorted(m.media_id for b in sg.store.iter_media(vectors=False) for m in b)
    live = next(e for e in sg.store.evidence() if not e.detached)
    values = {"sense_id": live.sense_id, "media_id": live.media_id, "audit_id": audit_id}
    path = route.path
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    form, files = {}, {}
    for p in route.dependant.body_params:
        kind = type(p.field_info).__name__
        if kind == "File":
            files[p.alias] = ("x.png", _png(), "image/png")
        elif kind == "Form":
            form[p.alias] = {"media_id": media[-1], "media_ids": media[-1], "sense_id": CAT, "keep": CAT,
                             "drop": live.sense_id, "mention": "cat", "label": "new label", "gloss": "g",
                             "new_id": "n-split-x", "aliases": "kitty", "cluster": "0", "to_sense": CAT,
                             "token": TOKEN, "csrf": "", "next": ""}.get(p.alias, "x")
    if route.path == "/ingest":
        import base64

        return {"url": path, "json": {"records": [{"data": base64.b64encode(_png()).decode(), "filename": "a.png"}]}}
    return {"url": path, "data": form or None, "files": files or None}


def test_every_write_route_refuses_missing_wrong_and_wrong_length_tokens(service):
    app, sg, client = service
    entry = sg.attach(sorted(m.media_id for b in sg.store.iter_media(vectors=False) for m in b)[0], CAT, user="setup")
    writes = [r for r in all_routes(app.routes) if r.methods - {"GET", "HEAD"}]
    paths = {r.path for r in writes}
    assert {"/ingest", "/editor/sense/{sense_id}/attach", "/editor/audit/{audit_id}/undo"} <= paths, paths
    protected = sorted(paths - READ_ONLY_POSTS)  # a new POST route lands here unless it is read-only
    assert len(protected) >= 10, protected
    bad = [{}, {"Authorization": "Bearer "}, {"Authorization": "Bearer x"},
           {"Authorization": "Bearer " + TOKEN[:-1] + "X"},  # same length, wrong
           {"Authorization": "Bearer " + TOKEN + "0"}, {"Authorization": "Basic " + TOKEN},
           {"Authorization": TOKEN}, {"Authorization": "Bearer " + TOKEN.upper()}]
    for route in writes:
        if route.path in READ_ONLY_POSTS:
            continue
        req = _request(route, sg, entry.audit_id)
        before = _state(sg)
        for headers in bad:
            client.cookies.clear()
            r = client.post(**req, headers=headers, follow_redirects=False)
            assert r.status_code in (401, 403), (route.path, headers, r.status_code, r.text[:200])
            assert TOKEN not in r.text
        assert _state(sg) == before, f"{route.path} wrote without the token"
        r = client.post(**req, headers={"Authorization": f"Bearer {TOKEN}"}, follow_redirects=False)
        assert r.status_code not in (401, 403), (route.path, r.status_code, r.text[:300])


def test_read_only_posts_change_nothing(service):
    _, sg, client = service
    before = _state(sg)
    assert client.post("/search", json={"q": "a cat"}).status_code == 200
    assert client.post("/link", json={"q": "a cat and the moon"}).status_code == 200
    client.post("/editor/logout")
    form = client.get("/editor/login").text
    csrf = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    assert client.post("/editor/login", data={"token": "wrong", "csrf": csrf}).status_code == 401
    assert _state(sg) == before


def test_no_write_without_a_configured_token(seeded, tmp_path, monkeypatch):
    from sensegraph import SenseGraph
    from sensegraph.service import create_app

    monkeypatch.delenv("SENSEGRAPH_TOKEN", raising=False)
    sg = SenseGraph(str(fresh_store_dir(seeded, tmp_path / "store")))
    with TestClient(create_app(sg), raise_server_exceptions=False) as c:
        for auth in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer None"}):
            r = c.post("/ingest", json={"records": [{"data": "aGVsbG8=", "filename": "a.png"}]}, headers=auth)
            assert r.status_code == 401 and "no service token configured" in r.json()["detail"]
    sg.close()


def test_the_token_never_reaches_a_log(seeded, tmp_path, caplog, capfd):
    """Requests carrying the token (header, login form, a wrong guess) through a live uvicorn server
    with access logging: the token appears in no log record and nothing written to stdout/stderr."""
    import base64

    import httpx

    from sensegraph import SenseGraph
    from sensegraph.service import create_app

    from .test_service_limits import LiveServer

    caplog.set_level(logging.DEBUG)
    sg = SenseGraph(str(fresh_store_dir(seeded, tmp_path / "store")),
                    config={"service": {"token": TOKEN, "rate_limit_per_minute": 1_000_000}})
    srv = LiveServer(create_app(sg))
    srv.server.config.log_level = "debug"
    srv.server.config.access_log = True
    with srv:
        with httpx.Client(base_url=srv.url) as c:
            auth = {"Authorization": f"Bearer {TOKEN}"}
            c.post("/ingest", json={"records": [{"data": base64.b64encode(_png()).decode(), "filename": "a.png"}]},
                   headers=auth)
            c.post("/ingest", json={"records": [{"data": "!!", "filename": "a.png"}]}, headers=auth)  # 422
            c.post("/ingest", json={"records": []}, headers={"Authorization": f"Bearer {TOKEN}x"})  # 401
            form = c.get("/editor/login").text  # the login form's CSRF token (bound to the sg_csrf nonce)
            csrf = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            c.post("/editor/login", data={"token": TOKEN + "-wrong", "csrf": csrf})
            assert c.post("/editor/login", data={"token": TOKEN, "name": "ann", "csrf": csrf},
                          follow_redirects=False).status_code == 303
            c.get("/config")
            cfg = c.get("/config").json()
    sg.close()
    out, err = capfd.readouterr()
    logged = caplog.text + out + err
    assert "POST /ingest" in logged or "/ingest" in logged  # the access log did run
    assert TOKEN not in logged
    assert TOKEN not in json.dumps(cfg) and "token" not in cfg.get("service", {})


def test_editor_pages_escape_stored_text(service):
    _, sg, client = service
    media_id = next(e.media_id for e in sg.store.evidence(sense_id=CAT))
    sg.edit_sense(CAT, label=XSS, gloss=XSS + " gloss", add_aliases=["kitty" + XSS[:20]], user=XSS[:30])
    m = sg.store.get_media([media_id], vectors=False)[media_id]
    from sensegraph.graph.model import Media

    sg.store.upsert_media([Media(m.media_id, m.uri, m.modality, m.sha256, caption=XSS + " caption",
                                 metadata={"note": XSS})])
    pages = [f"/editor/sense/{CAT}", f"/editor/media/{media_id}", "/editor/senses", "/editor/audit",
             "/editor/search?q=" + XSS, "/editor/", f"/editor/sense/{XSS}"]
    for page in pages:
        html = client.get(page).text
        assert "<script>alert" not in html and "<img src=x" not in html, page
    assert "&lt;script&gt;alert" in client.get(f"/editor/sense/{CAT}").text


def test_cors_is_off_by_default_and_on_only_for_configured_origins(seeded, tmp_path):
    from sensegraph import SenseGraph
    from sensegraph.service import create_app

    evil = {"Origin": "https://evil.example"}
    preflight = {**evil, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    for origins, allowed in (([], False), (["https://app.example"], False), (["https://evil.example"], True)):
        sg = SenseGraph(str(fresh_store_dir(seeded, tmp_path / f"s{len(origins)}{allowed}")),
                        config={"service": {"token": TOKEN, "cors_origins": origins}})
        with TestClient(create_app(sg)) as c:
            for r in (c.get("/health", headers=evil), c.options("/ingest", headers=preflight)):
                assert ("access-control-allow-origin" in r.headers) == allowed, (origins, r.headers)
        sg.close()
