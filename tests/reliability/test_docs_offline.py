"""/docs renders its operations with the network blocked (issue 16: Swagger UI came from a CDN, so the
page was blank offline) and under the service's own CSP (no violation reported by the browser)."""
from __future__ import annotations

from .conftest import fresh_store_dir
from .test_service_limits import LiveServer


def test_docs_render_every_operation_with_the_network_blocked(browser, template, tmp_path):
    from sensegraph import SenseGraph
    from sensegraph.service import create_app

    with SenseGraph(str(fresh_store_dir(template, tmp_path / "store"))) as sg:
        app = create_app(sg)
        with LiveServer(app) as srv:
            context = browser.new_context()
            page = context.new_page()
            outside: list[str] = []
            problems: list[str] = []

            def only_local(route) -> None:
                if route.request.url.startswith(srv.url):
                    route.continue_()
                else:
                    outside.append(route.request.url)
                    route.abort()

            context.route("**/*", only_local)
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(f"{srv.url}/docs")
            page.wait_for_selector(".opblock", timeout=60_000)
            paths = page.locator(".opblock-summary-path").all_inner_texts()
            page.screenshot(path=str(tmp_path / "docs.png"), full_page=False)
            context.close()
    spec_paths = {p for p in app.openapi()["paths"]}
    shown = {p.replace("\u200b", "").strip() for p in paths}
    assert spec_paths <= shown, (spec_paths - shown, shown)
    assert not outside, outside  # nothing was fetched from the internet
    assert not problems, problems  # no CSP violation, no script error
