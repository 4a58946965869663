"""The editor's HTTP layer without a browser: sessions, CSRF, bearer writes, upload cap, redirects, plot layout."""
from __future__ import annotations

import io
import json
import re

import numpy as np
import pytest
from fastapi.testclient import TestClient

from sensegraph.editor.plot import HEIGHT, WIDTH, pca_2d, sense_plot
from sensegraph.editor.routes import safe_next
from sensegraph.editor.security import csrf_for, session_value

from .conftest import CAT, DOMESTIC_CAT, TOKEN

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


def form_csrf(html: str) -> str:
    """The CSRF token a page's forms carry."""
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def logged_in(client, name: str = "cy") -> str:
    """Log ``client`` in through the form; returns the CSRF token its pages now carry."""
    csrf = form_csrf(client.get("/editor/login").text)
    r = client.post("/editor/login", data={"token": TOKEN, "name": name, "csrf": csrf, "next": "https://evil.example/"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/editor/"  # no open redirect
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower() and TOKEN not in cookie
    return form_csrf(client.get("/editor/login").text)  # now bound to the session


def test_login_needs_the_token_and_the_forms_csrf(client, sg):
    csrf = form_csrf(client.get("/editor/login").text)
    assert client.post("/editor/login", data={"token": "wrong", "csrf": csrf}).status_code == 401
    assert client.post("/editor/login", data={"token": TOKEN, "csrf": "other"}).status_code == 403
    # the pre-login nonce cookie is not the token: posting the cookie's own value back is refused
    assert client.post("/editor/login", data={"token": TOKEN, "csrf": client.cookies.get("sg_csrf")}).status_code == 403
    logged_in(client)
    assert "✎ cy" in client.get("/editor/").text


def test_forged_or_foreign_sessions_are_refused(client, sg):
    logged_in(client)
    client.cookies.clear()

    def post_with(session: str) -> int:
        csrf = csrf_for(TOKEN, "session:" + session)  # even with the matching CSRF token
        return client.post(f"/editor/sense/{CAT}/detach", data={"media_id": "coffee", "csrf": csrf},
                           headers={"Cookie": f"sg_session={session}"}, follow_redirects=False).status_code

    assert post_with(session_value("not-the-token", "mallory")) == 401
    assert post_with(session_value(TOKEN, "cy", issued=1)) == 401  # long expired
    assert post_with(session_value(TOKEN, "cy").replace("Y3k", "bWFsbG9yeQ")) == 401  # name swapped, signature kept
    assert sg.audit() == []
    assert post_with(session_value(TOKEN, "cy")) == 303  # the same request with a genuine session goes through


def test_a_tossed_csrf_cookie_cannot_forge_an_edit(client, sg):
    """Cookie tossing: a page on another port sets sg_csrf to a value it knows and posts that value."""
    real = logged_in(client)
    known = "a" * 64
    client.cookies.set("sg_csrf", known, path="/editor")
    r = client.post(f"/editor/sense/{CAT}/detach", data={"media_id": "coffee", "csrf": known}, follow_redirects=False)
    assert r.status_code == 403 and "CSRF" in r.text
    # a token made for another session (another curator's, or the pre-login one) does not fit this one
    other = TestClient(client.app)
    other_csrf = logged_in(other, "mallory")
    assert other_csrf != real
    r = client.post(f"/editor/sense/{CAT}/detach", data={"media_id": "coffee", "csrf": other_csrf}, follow_redirects=False)
    assert r.status_code == 403
    assert sg.audit() == []
    r = client.post(f"/editor/sense/{CAT}/detach", data={"media_id": "coffee", "csrf": real}, follow_redirects=False)
    assert r.status_code == 303 and [a.user for a in sg.audit()] == ["cy"]


def test_logout_needs_the_csrf_token(client, sg):
    csrf = logged_in(client)
    r = client.post("/editor/logout", data={}, follow_redirects=False)  # what a cross-site form would send
    assert r.status_code == 403
    assert "✎ cy" in client.get("/editor/").text  # still logged in
    r = client.post("/editor/logout", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert "✎ cy" not in client.get("/editor/").text


def test_cookies_are_secure_over_tls_only(sg):
    from sensegraph.service import create_app

    app = create_app(sg)
    with TestClient(app, base_url="https://testserver") as tls, TestClient(app) as plain:
        for c, secure in ((tls, True), (plain, False)):
            page = c.get("/editor/login")
            assert ("secure" in page.headers["set-cookie"].lower()) is secure
            r = c.post("/editor/login", data={"token": TOKEN, "name": "cy", "csrf": form_csrf(page.text)},
                       follow_redirects=False)
            assert r.status_code == 303 and ("secure" in r.headers["set-cookie"].lower()) is secure


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


def test_the_finder_page_ranks_counts_and_filters_to_senses_with_media(client, sg):
    html = client.get("/editor/senses", params={"q": "cat"}).text
    order = re.findall(r'<li data-sense="([^"]+)" data-kind="(\w+)"', html)
    # exact "cat", then a word prefix ("domestic cat"), then a bare substring ("domesticated animal")
    assert order == [(CAT, "exact"), (DOMESTIC_CAT, "prefix"), ("n01317541", "substring")]
    assert "3 senses match (1 with media)" in html
    html = client.get("/editor/senses", params={"q": "cat", "media": "true"}).text
    assert re.findall(r'<li data-sense="([^"]+)"', html) == [CAT] and "1 sense matches with media" in html


def test_the_autocomplete_source_is_the_finders_ranking_with_glosses(client):
    got = client.get("/editor/senses.json", params={"q": "cat", "limit": 2}).json()
    assert got["total"] == 3 and [s["sense_id"] for s in got["senses"]] == [CAT, DOMESTIC_CAT]
    assert got["senses"][0]["label"] == "cat" and got["senses"][0]["gloss"].startswith("feline mammal")
    assert len(got["senses"][0]["gloss"]) <= 71 and got["senses"][0]["media_count"] == 4


def test_write_controls_show_only_to_a_logged_in_curator(client, sg):
    for url in (f"/editor/sense/{CAT}", "/editor/media/coffee", "/editor/"):
        html = client.get(url).text
        assert 'method="post"' not in html and "detach" not in html.replace("detached", ""), url
        assert "Log in to edit" in html
    sg.detach("coffee", CAT, user="ann")
    assert "undo" not in client.get("/editor/audit").text.lower().replace("undone", "")
    logged_in(client)
    html = client.get(f"/editor/sense/{CAT}").text
    assert 'data-testid="detach-cat1"' in html and 'data-testid="merge"' in html and 'list="move-senses"' in html
    assert 'action="/editor/media/coffee/attach"' in client.get("/editor/media/coffee").text
    assert 'data-testid="undo"' in client.get("/editor/audit").text


def test_sense_ids_come_with_label_and_gloss_on_home_audit_and_search(client, sg):
    sg.detach("coffee", CAT, user="ann")
    gloss = '<span class="sgloss" data-testid="gloss-of-n02121620">feline mammal usually having thick soft fur'
    for url in ("/editor/", "/editor/audit", f"/editor/audit?sense={CAT}"):
        html = client.get(url).text
        assert f'<b>cat</b> <code>{CAT}</code></a> {gloss}' in html, url
    chips = re.findall(r'<span class="tag chip".*?<b class="conf">', client.get("/editor/search", params={"q": "cat"}).text, re.S)
    assert chips and f"<b>cat</b> <code>{CAT}</code>" in chips[0] and "feline mammal" in chips[0]  # "cat → cat n… “feline…” · 100%"
    related = client.get(f"/editor/sense/{DOMESTIC_CAT}").text
    assert f'<b>cat</b> <code>{CAT}</code></a> <span class="sgloss"' in related  # its hypernym, named


def test_the_audit_names_the_media_and_undo_asks_before_it_acts(client, sg):
    csrf = logged_in(client)
    entry = sg.detach("coffee", CAT, user="cy")
    cells = re.findall(r'<td class="media-cell" data-testid="audit-media">(.*?)</td>', client.get("/editor/audit").text, re.S)
    assert len(cells) == 1 and "<code>coffee</code>" in cells[0]
    page = client.get(f"/editor/audit/{entry.audit_id}/undo", params={"next": f"/editor/sense/{CAT}"})
    assert page.status_code == 200 and "Undo this detach?" in page.text and "<code>coffee</code>" in page.text
    assert 'data-testid="confirm-undo"' in page.text and f'href="/editor/sense/{CAT}">Keep it' in page.text
    was = next(e for e in sg.store.evidence(media_id="coffee") if e.sense_id == CAT and e.source == "editor")
    assert was.detached  # ... and the edge it puts back is the one from before the detach:
    first = json.loads(entry.before)["evidence"][0]
    how = "held back by the ingest gate" if first["source"] == "gated" else "counting"
    want = f"<li>coffee · cat ({CAT}): back to {first['source']}, {100 * first['confidence']:.0f}%, {how}</li>"
    assert want in page.text and first["source"] != "editor"  # what undo puts back
    assert not sg.audit()[0].undone  # asking changed nothing
    r = client.post(f"/editor/audit/{entry.audit_id}/undo", data={"csrf": form_csrf(page.text), "next": f"/editor/sense/{CAT}"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith(f"/editor/sense/{CAT}?")
    assert [a.action for a in sg.audit()] == ["undo detach", "detach"] and csrf


def test_sense_fields_take_a_unique_name_and_list_the_choices_otherwise(client, sg):
    csrf = logged_in(client)
    r = client.post(f"/editor/sense/{CAT}/move", data={"csrf": csrf, "to": "domestic cat", "media_ids": ["cat2"]},
                    follow_redirects=False)
    assert r.status_code == 303 and {e.media_id for e in sg.store.evidence(sense_id=DOMESTIC_CAT) if not e.detached} == {"cat2"}
    r = client.post("/editor/media/moto/attach", data={"csrf": csrf, "sense_id": "cat"}, follow_redirects=False)
    assert r.status_code == 303 and CAT in {e.sense_id for e in sg.store.evidence(media_id="moto")}
    r = client.post(f"/editor/sense/{CAT}/merge", data={"csrf": csrf, "other": "domestic"})
    assert r.status_code == 422 and DOMESTIC_CAT in r.text and "domestic cat" in r.text and "pick one" in r.text
    r = client.post(f"/editor/sense/{CAT}/merge", data={"csrf": csrf, "other": "zebra"})
    assert r.status_code == 404 and "zebra" in r.text
    assert sg.store.resolve(DOMESTIC_CAT) == DOMESTIC_CAT  # nothing merged


def test_undo_plan_says_what_each_kind_of_edit_gets_back():
    from sensegraph.editor.views import undo_plan
    from sensegraph.graph.model import AuditEntry

    refs = {"k": {"label": "keep"}, "d": {"label": "drop"}}
    merge = AuditEntry("a1", "ann", "t", "merge", ("k", "d"), "{}", "{}")
    assert undo_plan(merge, refs) == ["drop (d) gets its names, evidence and relations back and no longer redirects to keep (k)"]
    edit = AuditEntry("a2", "ann", "t", "edit", ("k",), '{"label": "old", "gloss": "g"}',
                      '{"label": "new", "gloss": "g", "aliases_added": ["moggy"]}')
    assert undo_plan(edit, refs) == ["label back to “old”", "aliases removed: moggy"]
    attach = AuditEntry("a3", "ann", "t", "attach", ("k",), '{"evidence": [{"media_id": "m", "sense_id": "k", "absent": true}]}', "{}")
    assert undo_plan(attach, refs) == ["m · keep (k): removed (there was no edge before)"]
