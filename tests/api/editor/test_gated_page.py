"""The editor lists the links the ingest gate held back, so a curator can review them."""
from __future__ import annotations

import re

from sensegraph.graph.model import Evidence

from .conftest import CAT
from .test_http import client, sg  # noqa: F401  (the web-layer fixtures: one embedded store)


def test_gated_links_are_listed_for_review_and_leave_when_pinned(client, sg):  # noqa: F811
    before = len(sg.gated_evidence())
    assert ("no gated links" in client.get("/editor/gated").text) == (before == 0)
    sg.store.upsert_evidence([Evidence("moto", CAT, 0.21, "gated", mention="cat")])
    page = client.get("/editor/gated")
    assert page.status_code == 200
    rows = re.findall(r'<tr data-media="([^"]+)" data-sense="([^"]+)">', page.text)
    assert ("moto", CAT) in rows and len(rows) == before + 1
    assert f"{before + 1} caption link" in page.text and 'href="/editor/media/moto"' in page.text
    sg.store.upsert_evidence([Evidence("moto", CAT, 1.0, "editor")])  # what pinning it writes
    assert ("moto", CAT) not in re.findall(r'<tr data-media="([^"]+)" data-sense="([^"]+)">',
                                           client.get("/editor/gated").text)
