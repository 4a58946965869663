"""Fixtures shared by every test area (kept small: area fixtures live in each area's conftest)."""
from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    """A numpy generator with a fixed seed, so vector tests are reproducible."""
    return np.random.default_rng(1234)
