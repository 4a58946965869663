"""The editor in a real browser: Debian's Chromium through Playwright against a live server, both stores."""
from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from .conftest import CAT, COFFEE, CUP, DOMESTIC_CAT, TOKEN

pytestmark = pytest.mark.browser


def aware_ranking(page, q: str) -> list[str]:
    page.goto(f"/editor/search?q={q}")
    return page.locator("[data-testid=ranking-aware] li[data-media]").evaluate_all(
        "els => els.map(e => e.dataset.media)")


def text(page, testid: str) -> str:
    return page.locator(f"[data-testid={testid}]").inner_text().strip()


def live_edges(sg, sense_id: str) -> set[str]:
    return {e.media_id for e in sg.store.evidence(sense_id=sense_id) if not e.detached}


def test_find_open_detach_changes_prototype_and_ranking(page, login, server):
    login()
    before_rank = aware_ranking(page, "cat")
    page.goto("/editor/")
    page.fill("form.card input[name=q] >> nth=0", "cat")
    page.click("form.card button >> nth=0")
    page.click(f"[data-testid=sense-results] a[href='/editor/sense/{CAT}']")
    assert text(page, "sense-id") == CAT
    fp_before, count_before = text(page, "prototype-fingerprint"), text(page, "media-count")
    assert count_before == "4" and text(page, "prototype-source") == "media"

    page.click("[data-testid=detach-coffee]")
    page.wait_for_selector("[data-testid=flash]")
    assert f"detached coffee from cat ({CAT})" in text(page, "flash")  # the sense named, not only its id
    assert text(page, "media-count") == "3"
    assert text(page, "prototype-fingerprint") != fp_before
    assert "detached" in page.locator("li.tile[data-media=coffee]").get_attribute("class")
    assert live_edges(server.sg, CAT) == {"cat1", "cat2", "cat3"}

    after_rank = aware_ranking(page, "cat")
    # the cats stay on top (their order may change: the prototype moved without the coffee) and coffee drops
    assert set(before_rank[:3]) == set(after_rank[:3]) == {"cat1", "cat2", "cat3"}, (before_rank, after_rank)
    assert after_rank.index("coffee") > before_rank.index("coffee"), (before_rank, after_rank)


def test_split_selected_media_and_find_the_new_sense(page, login, server):
    login()
    page.goto(f"/editor/sense/{CAT}")
    page.check("li.tile[data-media=cat2] input[name=media_ids]")
    page.check("li.tile[data-media=cat3] input[name=media_ids]")
    page.fill("input[name=new_id]", "cat.kitten")
    page.fill("input[name=label]", "kitten")
    page.fill("input[name=gloss]", "a young domestic cat")
    page.click("[data-testid=split]")
    page.wait_for_selector("[data-testid=flash]")
    assert text(page, "sense-id") == "cat.kitten" and text(page, "sense-label").startswith("kitten")
    assert text(page, "media-count") == "2"
    assert page.locator(f"[data-testid=related] a.sref[href='/editor/sense/{CAT}']").count() == 1  # split_from links back

    page.goto("/editor/senses?q=kitten")
    page.click("[data-testid=sense-results] a[href='/editor/sense/cat.kitten']")
    assert text(page, "gloss") == "a young domestic cat"
    assert live_edges(server.sg, CAT) == {"cat1", "coffee"}
    assert live_edges(server.sg, "cat.kitten") == {"cat2", "cat3"}


def test_merge_two_senses(page, login, server):
    login()
    page.goto(f"/editor/sense/{COFFEE}")
    page.fill("input[name=other]", CUP)
    page.click("[data-testid=merge]")  # confirm() dialog is accepted by the fixture
    page.wait_for_selector("[data-testid=flash]")
    assert "cup" in page.locator("[data-testid=aliases] .tag").all_inner_texts()
    page.goto(f"/editor/sense/{CUP}")
    assert COFFEE in text(page, "redirect")
    page.click("[data-testid=redirect] a")
    assert text(page, "sense-id") == COFFEE
    assert server.sg.store.resolve(CUP) == COFFEE


def test_edits_without_the_token_are_refused(page, login, server):
    before = server.sg.store.evidence(sense_id=CAT)
    page.goto(f"/editor/sense/{CAT}")
    assert "Read-only" in page.inner_text("body")
    # no write control is offered to a visitor (it would only lead to a 401 page) ...
    for url in (f"/editor/sense/{CAT}", "/editor/media/coffee", "/editor/audit", "/editor/"):
        page.goto(url)
        assert page.locator("form[method=post], [data-testid=undo], [data-testid^=detach-]").count() == 0, url
        assert page.locator("a.button", has_text="Log in to edit").count() == 1
    # ... and a hand-made post is refused
    resp = page.request.post(f"/editor/sense/{CAT}/detach", form={"media_id": "coffee", "csrf": "x"})
    assert resp.status == 401 and "log in" in resp.text().lower()

    login()  # a session, but the form's CSRF token tampered with
    page.goto(f"/editor/sense/{CAT}")
    page.locator("#evidence-form input[name=csrf]").evaluate("e => e.value = 'forged'")
    page.click("[data-testid=detach-coffee]")
    assert "403" in text(page, "error")
    bad = page.request.post(f"/editor/sense/{CAT}/detach", form={"media_id": "coffee"},
                            headers={"Authorization": "Bearer not-the-token"})
    assert bad.status == 401
    assert server.sg.store.evidence(sense_id=CAT) == before
    assert server.sg.store.audit_log() == []


def test_audit_trail_and_undo_restore_edits_and_glosses_render_as_text(page, login, server):
    login("bea")
    page.goto(f"/editor/sense/{CAT}")
    fp = text(page, "prototype-fingerprint")
    page.fill("form.stack input[name=label]", "house cat")
    page.fill("form.stack textarea[name=gloss]", "<script>window.__pwned = 1</script> a small feline")
    page.click("[data-testid=save]")
    page.wait_for_selector("[data-testid=flash]")
    assert text(page, "gloss").startswith("<script>")
    assert page.evaluate("window.__pwned") is None
    assert text(page, "sense-label").startswith("house cat")

    page.click("[data-testid=detach-coffee]")
    page.wait_for_selector("[data-testid=flash]")
    assert text(page, "prototype-fingerprint") != fp
    rows = page.locator("[data-testid=audit] tbody tr")
    assert [r.get_attribute("data-action") for r in rows.all()] == ["detach", "edit"]
    assert "bea" in rows.nth(0).inner_text()

    page.click("[data-testid=flash-undo]")  # undo the detach: it asks first, naming the medium
    assert "Undo this detach?" in text(page, "undo-confirm")
    assert page.locator("[data-testid=undo-media] code").all_inner_texts() == ["coffee"]
    assert live_edges(server.sg, CAT) == {"cat1", "cat2", "cat3"}  # nothing undone by asking
    page.click("[data-testid=confirm-undo]")
    page.wait_for_selector("[data-testid=flash]")
    assert text(page, "prototype-fingerprint") == fp and text(page, "media-count") == "4"
    page.locator("[data-testid=audit] tr[data-action=edit] [data-testid=undo]").click()
    page.click("a.button.plain")  # "Keep it" goes back and changes nothing
    assert text(page, "sense-label").startswith("house cat")
    page.locator("[data-testid=audit] tr[data-action=edit] [data-testid=undo]").click()
    page.click("[data-testid=confirm-undo]")
    page.wait_for_selector("[data-testid=flash]")
    assert text(page, "sense-label").startswith("cat") and "<script>" not in text(page, "gloss")

    page.goto(f"/editor/audit?sense={CAT}")
    actions = page.locator("[data-testid=audit] tbody tr").evaluate_all("rs => rs.map(r => r.dataset.action)")
    assert actions == ["undo edit", "undo detach", "detach", "edit"]
    assert page.locator("[data-testid=audit] tr.undone").count() == 2
    assert {e.media_id for e in server.sg.store.evidence(sense_id=CAT) if not e.detached} == {"cat1", "cat2", "cat3", "coffee"}


KNOWN = "a" * 64  # the CSRF value an attacker tosses into the victim's cookie jar


def attack_page(target: str, fields: dict[str, str]) -> bytes:
    """A hostile page that auto-posts a form carrying the tossed value (its server sets the cookie)."""
    inputs = "".join(f'<input name="{k}" value="{v}">' for k, v in fields.items())
    return (f'<!doctype html><form id="f" method="post" action="{target}">{inputs}</form>'
            f'<script>document.getElementById("f").submit();</script>').encode()


@contextmanager
def other_origin(pages: dict[str, bytes]) -> Iterator[str]:
    """A second tiny HTTP server on another loopback port (same host, so same site) serving ``pages``."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            body = pages.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html")
            # cookies do not separate ports: this sets (overwrites, HttpOnly or not) the editor's sg_csrf
            self.send_header("Set-Cookie", f"sg_csrf={KNOWN}; Path=/editor; HttpOnly; SameSite=Strict")
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_page_on_another_port_cannot_toss_a_csrf_cookie_into_an_edit_or_a_logout(page, login, server):
    login("ann")
    pages = {"/edit": attack_page(f"{server.url}/editor/sense/{CAT}/detach", {"media_id": "coffee", "csrf": KNOWN}),
             "/logout": attack_page(f"{server.url}/editor/logout", {"csrf": KNOWN})}
    with other_origin(pages) as evil:
        page.goto(f"{evil}/edit")
        page.wait_for_url(f"{server.url}/editor/**")
        # the attack's premise holds: the other port's cookie reached the editor's jar, the session rode along
        jar = {c["name"]: c["value"] for c in page.context.cookies(server.url + "/editor/")}
        assert jar.get("sg_csrf") == KNOWN and "sg_session" in jar
        assert "403" in text(page, "error") and "CSRF" in text(page, "error")
        page.goto(f"{evil}/logout")
        page.wait_for_url(f"{server.url}/editor/**")
        assert "403" in text(page, "error")
    page.goto("/editor/")
    assert text(page, "user") == "✎ ann"  # still logged in
    assert live_edges(server.sg, CAT) == {"cat1", "cat2", "cat3", "coffee"} and server.sg.store.audit_log() == []
    page.click("[data-testid=logout]")  # the editor's own logout button carries the token
    assert page.locator("[data-testid=user]").count() == 0 and "Log in to edit" in page.inner_text("header")


def test_finder_ranks_counts_and_filters_and_the_autocomplete_fills_move(page, login, server):
    login()
    page.goto("/editor/senses?q=cat")
    kinds = page.locator("[data-testid=sense-results] li").evaluate_all("ls => ls.map(l => [l.dataset.sense, l.dataset.kind])")
    assert kinds == [[CAT, "exact"], [DOMESTIC_CAT, "prefix"], ["n01317541", "substring"]]
    assert text(page, "match-count").startswith("3 senses match (1 with media)")
    page.check("[data-testid=media-only]")
    page.click("form.finder button")
    assert page.locator("[data-testid=sense-results] li").evaluate_all("ls => ls.map(l => l.dataset.sense)") == [CAT]

    page.goto(f"/editor/sense/{CAT}")
    seeded = page.locator("#move-senses option").evaluate_all("os => os.map(o => o.value)")
    assert DOMESTIC_CAT in seeded  # other senses of the name and related ones, before any typing
    page.fill("input[name=to]", "domestic c")
    page.locator("input[name=to][data-loaded='domestic c']").wait_for()  # editor.js filled the list
    options = page.locator("#move-senses option").evaluate_all("os => os.map(o => [o.value, o.textContent])")
    assert options[0][0] == DOMESTIC_CAT and options[0][1].startswith("domestic cat · any domesticated member")
    page.check("li.tile[data-media=cat2] input[name=media_ids]")
    page.fill("input[name=to]", DOMESTIC_CAT)  # what picking the option puts in the field
    page.click("[data-testid=move]")
    page.wait_for_selector("[data-testid=flash]")
    assert live_edges(server.sg, DOMESTIC_CAT) == {"cat2"}
    assert page.csp_errors == [], page.csp_errors  # the pages and the autocomplete run under a strict CSP


def test_no_editor_page_breaks_the_strict_csp(page, login, server):
    login()
    entry = server.sg.detach("coffee", CAT, user="ann")
    for url in ("/editor/", "/editor/senses?q=cat", f"/editor/sense/{CAT}", "/editor/search?q=cat", "/editor/media/coffee",
                "/editor/audit", f"/editor/audit/{entry.audit_id}/undo", "/editor/login", "/editor/sense/nope"):
        page.goto(url)
        page.wait_for_load_state("networkidle")
    assert page.csp_errors == [], page.csp_errors
    dot = page.goto(f"/editor/sense/{CAT}") and page.locator("li.tile .dot").first
    assert dot.evaluate("d => getComputedStyle(d).backgroundColor") not in ("", "rgba(0, 0, 0, 0)")  # colour from CSS


SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.mark.skipif(not os.environ.get("SENSEGRAPH_SCREENSHOTS"), reason="set SENSEGRAPH_SCREENSHOTS=1 to refresh docs/screenshots")
def test_screenshots(page, login, server):
    """Refresh the screenshots in docs/ (each page must render without an error first)."""
    if server.sg.store.name != "embedded":
        pytest.skip("screenshots come from the embedded store")
    SHOTS.mkdir(parents=True, exist_ok=True)
    login("ann")
    entry = server.sg.detach("cat3", CAT, user="bea")
    server.sg.undo(entry.audit_id, user="bea")  # an undone edit in the trail, as curators see it
    pages = [("sense", f"/editor/sense/{CAT}"), ("detach", None), ("search", "/editor/search?q=cat"),
             ("media", "/editor/media/coffee"), ("audit", "/editor/audit"), ("home", "/editor/"),
             ("senses", "/editor/senses?q=cat"), ("undo", "UNDO"), ("readonly", "LOGOUT")]
    for name, url in pages:
        if url is None:  # after the sense page (two clusters), detach the wrong medium
            page.click("[data-testid=detach-coffee]")
            page.wait_for_selector("[data-testid=flash]")
            continue
        if url == "UNDO":  # the confirmation that undo asks for
            page.goto("/editor/audit")
            page.locator("[data-testid=audit] tr[data-action=detach] [data-testid=undo]").first.click()
        elif url == "LOGOUT":  # what a visitor sees: no write controls
            page.click("[data-testid=logout]")
            page.goto(f"/editor/sense/{CAT}")
        else:
            page.goto(url)
        page.wait_for_load_state("networkidle")
        assert page.locator("[data-testid=error]").count() == 0
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
        assert re.search(r"sensegraph", page.title() + page.inner_text("header"))
    assert page.csp_errors == []
