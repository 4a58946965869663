"""The editor's sense page plays a sense's sound evidence (Chromium through Playwright); SENSEGRAPH_SCREENSHOTS=1
refreshes docs/screenshots/audio-sense.png."""
from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

from .test_audio_search import cached_mm, kg, sg  # noqa: F401 - the multimodal store with sounds and photos

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def live(sg):  # noqa: F811
    """The service app on a free loopback port."""
    import uvicorn

    from sensegraph.service import create_app

    if sg.store.name != "embedded":
        pytest.skip("one store is enough for the page")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(sg), host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the test server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", sg
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


@pytest.mark.browser
def test_sense_page_plays_its_sounds(browser, live):
    url, graph = live
    sense = next(e.sense_id for e in graph.store.evidence(media_id="ring") if not e.detached)
    ctx = browser.new_context(base_url=url, viewport={"width": 1360, "height": 900})
    page = ctx.new_page()
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    try:
        page.goto(f"/editor/sense/{sense}")
        player = page.locator("[data-testid=audio-ring]")
        assert player.count() == 1
        assert page.locator("img[alt=ring]").count() == 0  # a sound is not drawn as a broken picture
        duration = player.evaluate(
            "a => new Promise((ok, bad) => { if (a.readyState >= 1) ok(a.duration);"
            " a.addEventListener('loadedmetadata', () => ok(a.duration)); a.addEventListener('error', () => bad('no audio'));"
            " a.load(); })")
        assert duration == pytest.approx(2.0, abs=0.1)  # Chromium decoded the stored WAV
        page.goto("/editor/media/ring")
        assert page.locator("[data-testid=audio-player]").count() == 1
        if os.environ.get("SENSEGRAPH_SCREENSHOTS"):  # refresh docs/screenshots only when asked, as the editor tests do
            page.goto(f"/editor/sense/{sense}")
            page.wait_for_load_state("networkidle")
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "audio-sense.png"), full_page=True)
        assert [f for f in failed if "/media/" in f or "/editor/" in f] == []
    finally:
        ctx.close()
