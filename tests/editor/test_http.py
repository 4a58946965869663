"""The editor's HTTP layer without a browser: sessions, CSRF, bearer writes, upload cap, redirects, plot layout."""
from __future__ import annotations

import io

import numpy as np
import pytest
from fastapi.testclient import TestClient

from sensegraph.editor.plot import HEIGHT, WIDTH, pca_2d, sense_plot
from sensegraph.editor.routes import safe_next
from sensegraph.editor.security import session_value

from .conftest import CAT, TOKEN

@pytest.fixture
def sg(seed, tmp_path):
    """Web-layer tests need one store: the embedded one, filled from the seed."""
    from sensegraph import SenseGraph
    from sensegraph.graph.embedded import EmbeddedStore

    from .conftest import fill

    store = EmbeddedStore(tmp_path / "store")
    fill(store, seed)
    yield SenseGraph(store, encoder=seed.encoder, config={"service": {"token": TOKEN, "rate_limit_per_minute": 100_000}})
    store.close()


@pytest.fixture
def client(sg):
    from sensegraph.service import create_app

    app = create_app(sg)
    with TestClient(app) as c:
        c.app_state = app.state
        yield c


def logged_in(client) -> str:
    client.get("/editor/login")
    csrf = client.cookies.get("sg_csrf")
    r = client.post("/editor/login", data={"token": TOKEN, "name": "cy", "csrf": csrf, "next": "https://evil.example/"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/editor/"  # no open redirect
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower() and TOKEN not in cookie
    return csrf


def test_login_needs_the_token_and_the_forms_csrf(client, sg):
    client.get("/editor/login")
    csrf = client.cookies.get("sg_csrf")
    assert client.post("/editor/login", data={"token": "wrong", "csrf": csrf}).status_code == 401
    assert client.post("/editor/login", data={"token": TOKEN, "csrf": "other"}).status_code == 403
    logged_in(client)
    assert "✎ cy" in client.get("/editor/").text


def test_forged_or_foreign_sessions_are_refused(client, sg):
    csrf = logged_in(client)
    client.cookies.clear()

    def post_with(session: str) -> int:
        cookie = f"sg_csrf={csrf}; sg_session={session}"
        return client.post(f"/editor/sense/{CAT}/detach", data={"media_id": "coffee", "csrf": csrf},
                           headers={"Cookie": cookie}, follow_redirects=False).status_code

    assert post_with(session_value("not-the-token", "mallory")) == 401
    assert post_with(session_value(TOKEN, "cy", issued=1)) == 401  # long expired
    assert post_with(session_value(TOKEN, "cy").replace("Y3k", "bWFsbG9yeQ")) == 401  # name swapped, signature kept
    assert sg.audit() == []
    assert post_with(session_value(TOKEN, "cy")) == 303  # the same request with a genuine session goes through


def test_bearer_writes_need_no_csrf_and_are_attributed_to_the_token(client, sg):
    r = client.post(f"/editor/sense/{CAT}/detach", data={"media_id": "coffee"},
                    headers={"Authorization": f"Bearer {TOKEN}"}, follow_redirects=False)
    assert r.status_code == 303
    assert [(a.action, a.user) for a in sg.audit()] == [("detach", "token")]


def test_uploads_are_capped_and_a_small_one_is_ingested_and_attached(client, sg, seed):
    csrf = logged_in(client)
    client.app_state.editor_max_upload = 10_000
    big = io.BytesIO(b"\x89PNG" + b"0" * 20_000)
    r = client.post(f"/editor/sense/{CAT}/upload", data={"csrf": csrf}, files={"file": ("big.png", big, "image/png")})
    assert r.status_code == 413 and "10,000-byte limit" in r.text
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 120, 40)).save(buf, format="PNG")
    r = client.post(f"/editor/sense/{CAT}/upload", data={"csrf": csrf, "caption": "orange square"},
                    files={"file": ("sq.png", buf.getvalue(), "image/png")}, follow_redirects=False)
    assert r.status_code == 303, r.text
    pinned = [e for e in sg.store.evidence(sense_id=CAT) if e.source == "editor" and not e.detached]
    assert len(pinned) == 1 and sg.store.counts()["media"] == len(seed.media) + 1
    r = client.post(f"/editor/sense/{CAT}/upload", data={"csrf": csrf}, files={"file": ("x.exe", b"MZ", "application/x")})
    assert r.status_code == 422 and "expected one of" in r.text


def test_pages_escape_user_text_and_unknown_ids_are_404(client, sg):
    sg.edit_sense(CAT, gloss='<img src=x onerror="alert(1)"> & friends')
    html = client.get(f"/editor/sense/{CAT}").text
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; &amp; friends" in html and "<img src=x" not in html
    r = client.get("/editor/sense/n99999999")
    assert r.status_code == 404 and "n99999999" in r.text
    assert client.get("/editor/media/%3Cscript%3E").status_code == 404
    assert "&lt;script&gt;" in client.get("/editor/media/%3Cscript%3E").text


def test_safe_next_only_follows_editor_paths():
    assert safe_next("/editor/sense/n1", "/editor/") == "/editor/sense/n1"
    for bad in ("https://evil.example/", "//evil.example/editor/", "/docs", "/editor\\..\\x", None, ""):
        assert safe_next(bad, "/editor/") == "/editor/"


def test_plot_layout_fits_the_view_box_and_marks_the_prototype(rng):
    feats = rng.normal(size=(6, 32)).astype(np.float32)
    xy, (a, b) = pca_2d(feats)
    assert xy.shape == (6, 2) and a >= b > 0 and a + b <= 1.0 + 1e-9
    plot = sense_plot([f"m{i}" for i in range(4)], feats[:4], [0, 0, 1, 1], feats[:4].mean(axis=0), ["c1", "c2"], feats[4:])
    kinds = [p.kind for p in plot.points]
    assert kinds.count("evidence") == 4 and kinds.count("candidate") == 2 and kinds[-1] == "prototype"
    assert all(0 <= p.x <= WIDTH and 0 <= p.y <= HEIGHT for p in plot.points)
    assert len({p.colour for p in plot.points if p.kind == "evidence"}) == 2
    assert sense_plot(["m0"], feats[:1], [0]) is None
