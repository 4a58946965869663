"""The seed-002 gate and the block vectors, as pure functions."""
from __future__ import annotations

import numpy as np
import pytest

from sensegraph import fusion

BLOCKS = (("visual", 3), ("audio", 2))


def test_normalised_entropy_bounds():
    assert fusion.normalised_entropy(np.array([1.0, 0, 0, 0])) == pytest.approx(0.0)
    assert fusion.normalised_entropy(np.ones(8)) == pytest.approx(1.0)
    assert 0 < fusion.normalised_entropy(np.array([0.7, 0.2, 0.1])) < 1


def test_gate_prefers_the_sure_modality_and_sums_to_one():
    sure, unsure = np.array([0.97, 0.01, 0.01, 0.01]), np.ones(4)
    g = fusion.gate_weights([sure, unsure])
    assert g.sum() == pytest.approx(1.0)
    assert g[0] == pytest.approx(1.0)  # a uniform distribution carries no confidence
    g = fusion.gate_weights([np.array([0.6, 0.2, 0.1, 0.1]), sure])
    assert g[1] > g[0] > 0
    assert list(fusion.gate_weights([sure, None])) == [1.0, 0.0]
    assert list(fusion.gate_weights([np.ones(4), np.ones(4)])) == [0.5, 0.5]  # both unsure: equal


def test_block_vector_scores_each_modality_in_its_own_space(rng):
    fv, fa = rng.normal(size=3), rng.normal(size=2)
    g = np.array([0.75, 0.25])
    v = fusion.fuse_native([fv, fa], g, BLOCKS)
    assert np.linalg.norm(v) == pytest.approx(1.0, abs=1e-6)
    gh = g / np.linalg.norm(g)
    np.testing.assert_allclose(fusion.block_weights(v, BLOCKS), gh, atol=1e-6)
    pv, pa = rng.normal(size=3), rng.normal(size=2)
    parts = fusion.modality_prototypes(np.concatenate([pv, pa]), BLOCKS)
    assert [name for name, _ in parts] == ["visual", "audio"]
    cos = lambda a, b: float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))  # noqa: E731
    assert float(parts[0][1] @ v) == pytest.approx(gh[0] * cos(pv, fv), abs=1e-5)
    assert float(parts[1][1] @ v) == pytest.approx(gh[1] * cos(pa, fa), abs=1e-5)
    # an image-only prototype has no audio part: a sound scores 0 against it
    only = fusion.modality_prototypes(np.concatenate([pv, np.zeros(2)]), BLOCKS)
    assert [name for name, _ in only] == ["visual"]


def test_expand_and_explain(rng):
    protos = [np.concatenate([rng.normal(size=3), rng.normal(size=2)]), np.concatenate([rng.normal(size=3), np.zeros(2)])]
    vecs, ws, owner = fusion.expand_by_modality(protos, np.array([0.6, 0.4]), BLOCKS)
    assert owner == [(0, "visual"), (0, "audio"), (1, "visual")]
    assert list(ws) == [0.6, 0.6, 0.4]
    medium = fusion.fuse_native([rng.normal(size=3), rng.normal(size=2)], np.array([0.5, 0.5]), BLOCKS)
    per_part = np.array([float(v @ medium) for v in vecs])
    parts = fusion.explain_modalities(medium, per_part, ws, owner, BLOCKS)
    assert [p.modality for p in parts] == ["visual", "audio"]
    sim2 = float(ws @ per_part)
    assert sum(p.weight * p.score for p in parts) == pytest.approx(sim2, abs=1e-6)
    vecs0, ws0, _ = fusion.expand_by_modality(protos, np.array([0.6, 0.4]), None)
    assert len(vecs0) == 2 and list(ws0) == [0.6, 0.4]
