"""The editor in a real browser: Debian's Chromium through Playwright against a live server, both stores."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from .conftest import CAT, COFFEE, CUP, TOKEN

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
    assert "detached coffee" in text(page, "flash")
    assert text(page, "media-count") == "3"
    assert text(page, "prototype-fingerprint") != fp_before
    assert "detached" in page.locator("li.tile[data-media=coffee]").get_attribute("class")
    assert live_edges(server.sg, CAT) == {"cat1", "cat2", "cat3"}

    after_rank = aware_ranking(page, "cat")
    assert before_rank[:3] == after_rank[:3] and set(before_rank[:3]) == {"cat1", "cat2", "cat3"}
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
    assert page.locator(f"a.rel[href='/editor/sense/{CAT}']").count() == 1  # split_from links back

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
    resp = page.request.post(f"/editor/sense/{CAT}/detach", form={"media_id": "coffee", "csrf": "x"})
    assert resp.status == 401
    page.click("[data-testid=detach-coffee]")
    assert "401" in text(page, "error") and "log in" in text(page, "error").lower()

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

    page.click("[data-testid=flash-undo]")  # undo the detach
    page.wait_for_selector("[data-testid=flash]")
    assert text(page, "prototype-fingerprint") == fp and text(page, "media-count") == "4"
    page.locator("[data-testid=audit] tr[data-action=edit] [data-testid=undo]").click()
    page.wait_for_selector("[data-testid=flash]")
    assert text(page, "sense-label").startswith("cat") and "<script>" not in text(page, "gloss")

    page.goto(f"/editor/audit?sense={CAT}")
    actions = page.locator("[data-testid=audit] tbody tr").evaluate_all("rs => rs.map(r => r.dataset.action)")
    assert actions == ["undo edit", "undo detach", "detach", "edit"]
    assert page.locator("[data-testid=audit] tr.undone").count() == 2
    assert {e.media_id for e in server.sg.store.evidence(sense_id=CAT) if not e.detached} == {"cat1", "cat2", "cat3", "coffee"}


SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.mark.skipif(not os.environ.get("SENSEGRAPH_SCREENSHOTS"), reason="set SENSEGRAPH_SCREENSHOTS=1 to refresh docs/screenshots")
def test_screenshots(page, login, server):
    """Refresh the screenshots in docs/ (each page must render without an error first)."""
    if server.sg.store.name != "embedded":
        pytest.skip("screenshots come from the embedded store")
    SHOTS.mkdir(parents=True, exist_ok=True)
    login("ann")
    pages = [("sense", f"/editor/sense/{CAT}"), ("detach", None), ("search", "/editor/search?q=cat"),
             ("media", "/editor/media/coffee"), ("audit", "/editor/audit"), ("home", "/editor/")]
    for name, url in pages:
        if url is None:  # after the sense page (two clusters), detach the wrong medium
            page.click("[data-testid=detach-coffee]")
            page.wait_for_selector("[data-testid=flash]")
            continue
        page.goto(url)
        page.wait_for_load_state("networkidle")
        assert page.locator("[data-testid=error]").count() == 0
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
        assert re.search(r"sensegraph", page.title() + page.inner_text("header"))
