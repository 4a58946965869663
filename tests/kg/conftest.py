"""The ``store`` fixture for KG import tests: an empty EmbeddedStore, and a real Neo4j when configured.

Mirrors tests/contract: the Neo4j case needs ``SENSEGRAPH_TEST_NEO4J`` (a bolt URI, auth disabled)
and is skipped with that reason when it is unset.
"""
from __future__ import annotations

import os

import pytest

from sensegraph.graph.embedded import EmbeddedStore

NEO4J_ENV = "SENSEGRAPH_TEST_NEO4J"


def _neo4j_store():
    uri = os.environ.get(NEO4J_ENV)
    if not uri:
        pytest.skip(f"{NEO4J_ENV} is not set (a bolt:// URI of Neo4j 5.26, auth disabled, runs these)")
    from sensegraph.graph.factory import open_store

    store = open_store(uri)
    store.wipe()
    return store


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store(request, tmp_path):
    """An empty store of each kind."""
    s = EmbeddedStore(tmp_path / "store") if request.param == "embedded" else _neo4j_store()
    try:
        yield s
    finally:
        s.close()
