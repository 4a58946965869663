"""Fixtures shared by every test area (kept small: area fixtures live in each area's conftest)."""
from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    """A numpy generator with a fixed seed, so vector tests are reproducible."""
    return np.random.default_rng(1234)


@pytest.fixture(scope="session", autouse=True)
def shared_embedding_cache(tmp_path_factory):
    """One embedding cache for every SenseGraph the suite opens (keyed by encoder id and content).

    Each test still gets a fresh store; only model outputs for identical bytes or texts are reused,
    which is what the cache promises users too.
    """
    import os

    path = tmp_path_factory.mktemp("sensegraph-cache")
    old = os.environ.get("SENSEGRAPH_CACHE_DIR")
    os.environ["SENSEGRAPH_CACHE_DIR"] = str(path)
    yield path
    if old is None:
        os.environ.pop("SENSEGRAPH_CACHE_DIR", None)
    else:
        os.environ["SENSEGRAPH_CACHE_DIR"] = old
