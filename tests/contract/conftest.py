"""The ``store`` fixture: every contract test runs on the EmbeddedStore and on a real Neo4j.

The Neo4j case needs ``SENSEGRAPH_TEST_NEO4J`` (a bolt URI of a Neo4j 5.26 with auth disabled);
unset, it is skipped with that reason; set but unreachable, the tests fail (CI sets it).
"""
from __future__ import annotations

import os

import pytest

from sensegraph.graph.embedded import EmbeddedStore

NEO4J_ENV = "SENSEGRAPH_TEST_NEO4J"
JOINT_DIM = 8
NATIVE_DIM = 6
ENCODER_ID = "contract-test-encoder"


def _neo4j_store():
    uri = os.environ.get(NEO4J_ENV)
    if not uri:
        pytest.skip(f"{NEO4J_ENV} is not set (set it to a bolt:// URI of Neo4j 5.26, auth disabled, to run this)")
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


@pytest.fixture
def bound(store):
    """An empty store bound to the small test encoder (JOINT_DIM, NATIVE_DIM)."""
    store.bind_encoder(ENCODER_ID, JOINT_DIM, NATIVE_DIM)
    return store
