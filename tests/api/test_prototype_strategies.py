"""Prototype arithmetic: strategies, evidence weights, and the exact running mean."""
import numpy as np
import pytest

from sensegraph.graph.model import Evidence
from sensegraph.graph.prototypes import (
    WeightPolicy,
    build_prototype,
    counting_weights,
    evidence_weight,
    update_mean,
)


def _unit(rng, n, d=16):
    x = rng.normal(size=(n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_running_mean_equals_full_recompute():
    rng = np.random.default_rng(0)
    feats, w = _unit(rng, 9), rng.uniform(0.2, 1.0, size=9)
    full = build_prototype("s", feats, w, "mean")
    step = build_prototype("s", feats[:4], w[:4], "mean")
    step = update_mean(step, feats[4:7], w[4:7])
    step = update_mean(step, feats[7:], w[7:])
    assert step.media_count == full.media_count == 9
    assert step.weight == pytest.approx(full.weight)
    np.testing.assert_allclose(step.vector, full.vector, atol=1e-6)
    assert np.linalg.norm(full.vector) == pytest.approx(1.0, abs=1e-5)


def test_mean_is_confidence_weighted():
    a, b = np.eye(4, dtype=np.float32)[:2]
    p = build_prototype("s", np.stack([a, b]), [0.9, 0.1], "mean")
    assert float(p.vector @ a) > float(p.vector @ b)


def test_cluster_ignores_an_off_sense_medium():
    rng = np.random.default_rng(1)
    centre = _unit(rng, 1)[0]
    near = centre + 0.15 * _unit(rng, 3)
    near /= np.linalg.norm(near, axis=1, keepdims=True)
    outlier = -centre
    feats = np.vstack([near, outlier[None]])
    mean = build_prototype("s", feats, np.ones(4), "mean")
    clus = build_prototype("s", feats, np.ones(4), "cluster", distance_threshold=0.5)
    assert clus.strategy == "cluster" and clus.media_count == 4
    assert float(near.mean(0) @ clus.vector) > float(near.mean(0) @ mean.vector)
    assert float(outlier @ clus.vector) < float(outlier @ mean.vector)


def test_medoid_is_one_of_the_media():
    rng = np.random.default_rng(2)
    feats = _unit(rng, 5)
    p = build_prototype("s", feats, np.ones(5), "medoid")
    assert np.max(feats @ p.vector) == pytest.approx(1.0, abs=1e-5)


def test_nothing_counts_gives_no_prototype_and_unknown_strategy_fails():
    feats = _unit(np.random.default_rng(3), 2)
    assert build_prototype("s", feats, [0.0, 0.0]) is None
    with pytest.raises(ValueError, match="unknown prototype strategy 'median'"):
        build_prototype("s", feats, [1.0, 1.0], "median")


def test_evidence_weights():
    policy = WeightPolicy(classifier_weight=0.3, min_confidence=0.1)
    assert evidence_weight(Evidence("m", "s", 0.8, "linker"), policy) == pytest.approx(0.8)
    assert evidence_weight(Evidence("m", "s", 0.8, "classifier"), policy) == pytest.approx(0.24)
    assert evidence_weight(Evidence("m", "s", 0.05, "linker"), policy) == 0.0
    assert evidence_weight(Evidence("m", "s", 0.0, "editor"), policy) == 1.0  # pinned always counts
    assert evidence_weight(Evidence("m", "s", 1.0, "editor", detached=True), policy) == 0.0


def test_cluster_scales_past_the_sample_and_keeps_the_majority():
    from sensegraph.graph.prototypes import cluster_labels_scalable

    rng = np.random.default_rng(4)
    centre = _unit(rng, 1)[0]
    kind = centre + 0.2 * _unit(rng, 1500)
    other = -centre + 0.2 * _unit(rng, 300)
    feats = np.vstack([kind, other]).astype(np.float32)
    labels = cluster_labels_scalable(feats, 0.85, sample=200)
    assert len(labels) == 1800
    assert len(set(labels[:1500].tolist())) == 1 and not set(labels[:1500].tolist()) & set(labels[1500:].tolist())
    p = build_prototype("s", feats, np.ones(1800), "cluster")
    assert float(p.vector @ centre) > 0.9


def test_a_gated_link_weighs_its_confidence_times_the_gated_weight():
    policy = WeightPolicy(classifier_weight=0.3, gated_weight=0.25)
    assert evidence_weight(Evidence("m", "s", 0.8, "gated"), policy) == pytest.approx(0.2)
    assert evidence_weight(Evidence("m", "s", 0.8, "linker"), policy) == pytest.approx(0.8)
    assert evidence_weight(Evidence("m", "s", 0.8, "gated"), WeightPolicy(gated_weight=0.0)) == 0.0


def test_gated_links_refine_a_prototype_but_never_make_one_alone():
    policy = WeightPolicy(gated_weight=0.25)
    alone = [Evidence("m0", "s", 0.9, "gated"), Evidence("m1", "s", 0.6, "gated")]
    assert counting_weights(alone, policy) == {}
    with_anchor = [*alone, Evidence("m2", "s", 0.5, "linker"), Evidence("m3", "s", 1.0, "editor", detached=True)]
    assert counting_weights(with_anchor, policy) == pytest.approx({"m0": 0.225, "m1": 0.15, "m2": 0.5})
    assert counting_weights([*alone, Evidence("m4", "s", 1.0, "editor")], policy)["m4"] == 1.0


def test_a_gated_medium_pulls_the_mean_less_than_a_linked_one():
    rng = np.random.default_rng(3)
    good, stray = _unit(rng, 2)
    feats = np.stack([good, stray])
    strong = build_prototype("s", feats, [0.6, 0.6], "mean")
    weak = build_prototype("s", feats, [0.6, 0.6 * 0.25], "mean")
    assert float(weak.vector @ good) > float(strong.vector @ good)
    assert float(weak.vector @ stray) < float(strong.vector @ stray)
