"""Contract fixtures. The ``store`` fixture itself (an EmbeddedStore, and a real Neo4j when
``SENSEGRAPH_TEST_NEO4J`` is set; failing when set but unreachable) lives in tests/conftest.py.
"""
from __future__ import annotations

import pytest

JOINT_DIM = 8
NATIVE_DIM = 6
ENCODER_ID = "contract-test-encoder"


@pytest.fixture
def bound(store):
    """An empty store bound to the small test encoder (JOINT_DIM, NATIVE_DIM)."""
    store.bind_encoder(ENCODER_ID, JOINT_DIM, NATIVE_DIM)
    return store
