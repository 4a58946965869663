"""schemathesis against the REST service's own OpenAPI document, in-process over ASGI: no input the
schema admits (or nearly admits) makes the service answer 5xx, with or without the write token."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from .conftest import fresh_store_dir

TOKEN = "fuzz-token"


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory, template, corpus, clean):
    import json

    from sensegraph import SenseGraph
    from sensegraph.service import create_app

    d = fresh_store_dir(template, tmp_path_factory.mktemp("fuzz") / "store")
    recs = [json.loads(line) for line in (corpus / "manifest.jsonl").read_text().splitlines()][:4]
    sg = SenseGraph(str(d), config={"service": {"token": TOKEN, "rate_limit_per_minute": 1_000_000}})
    sg.ingest([{**r, "media": str(corpus / r["media"])} for r in recs])
    yield schemathesis.openapi.from_asgi("/openapi.json", create_app(sg))
    sg.close()


@pytest.mark.slow
def test_no_input_makes_the_service_fail(api_schema):
    """Every operation, fuzzed from its schema (schemathesis' strategies driven by Hypothesis directly:
    its pytest integration does not run under pytest 9)."""
    from hypothesis import given

    operations = [r.ok() for r in api_schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/search", "/ingest", "/link", "/senses/{sense_id}", "/media/{media_id}"}
    failures = []
    for op in operations:
        @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=op.as_strategy())
        def fuzz(case):
            for headers in ({}, {"Authorization": f"Bearer {TOKEN}"}):
                response = case.call(headers=headers)
                if response.status_code >= 500:
                    failures.append((case.method, case.path, case.path_parameters, case.query, str(case.body)[:200],
                                     response.status_code, response.text[:300]))

        fuzz()
    assert not failures, failures[:5]
