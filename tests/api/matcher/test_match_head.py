"""The match head's pure parts: the [t; i; |t − i|; t ⊙ i] features, training from fixed seeds, persistence."""
from __future__ import annotations

import json

import numpy as np
import pytest

from sensegraph.errors import ValidationError
from sensegraph.matcher import FormulaParts, HeadConfig, MatchHead, pair_features, train_head
from sensegraph.matcher.features import PART_NAMES, feature_dim


def _unit(rows):
    return rows / np.linalg.norm(rows, axis=-1, keepdims=True)


def test_features_are_the_four_joint_blocks_then_the_formula_parts(rng):
    t = _unit(rng.standard_normal(8)).astype(np.float32)
    media = _unit(rng.standard_normal((3, 8))).astype(np.float32)
    per = np.array([[0.2, 0.9], [0.5, 0.1], [0.0, 0.3]], np.float32)
    parts = FormulaParts(media @ t, per, np.array([0.25, 0.75], np.float32), np.array([0.4, 0.9], np.float32))
    x = pair_features(t, media, parts)
    assert x.shape == (3, feature_dim(8)) == (3, 4 * 8 + len(PART_NAMES))
    np.testing.assert_allclose(x[1, :8], t, atol=1e-6)
    np.testing.assert_allclose(x[1, 8:16], media[1], atol=1e-6)
    np.testing.assert_allclose(x[1, 16:24], np.abs(t - media[1]), atol=1e-6)
    np.testing.assert_allclose(x[1, 24:32], t * media[1], atol=1e-6)
    named = dict(zip(PART_NAMES, x[0, 32:]))
    assert named["sim1"] == pytest.approx(float(media[0] @ t), abs=1e-6)
    assert named["sim2"] == pytest.approx(0.25 * 0.2 + 0.75 * 0.9, abs=1e-6)
    assert named["sense_max"] == pytest.approx(0.9) and named["sense_top"] == pytest.approx(0.9)  # sense 2 weighs most
    assert named["weight_sum"] == pytest.approx(1.0) and named["confidence_max"] == pytest.approx(0.9)
    assert named["text_only"] == 0.0
    sim2 = per @ np.array([0.25, 0.75])
    assert x[2, -1] == pytest.approx(sim2[2] - sim2.max(), abs=1e-6)  # the gap to the best candidate
    assert pair_features(t, media, parts, best=(1.0, 1.0))[0, -2] == pytest.approx(float(media[0] @ t) - 1.0, abs=1e-6)


def test_a_text_only_query_has_no_sense_parts(rng):
    t = _unit(rng.standard_normal(4)).astype(np.float32)
    media = _unit(rng.standard_normal((2, 4))).astype(np.float32)
    x = pair_features(t, media, FormulaParts(media @ t, np.zeros((2, 0), np.float32), np.zeros(0), np.zeros(0)))
    named = dict(zip(PART_NAMES, x[0, 16:]))
    assert named["text_only"] == 1.0 and named["sim2"] == 0.0 and named["senses"] == 0.0


def _pairs(rng, n=300, d=6):
    """Positives: a medium close to its text; negatives: an unrelated medium."""
    t = _unit(rng.standard_normal((n, d)))
    pos = _unit(t + 0.3 * rng.standard_normal((n, d)))
    neg = _unit(rng.standard_normal((n, d)))
    rows = []
    for media in (pos, neg):
        for i in range(n):
            parts = FormulaParts(np.array([media[i] @ t[i]], np.float32), np.zeros((1, 0), np.float32), np.zeros(0), np.zeros(0))
            rows.append(pair_features(t[i], media[i : i + 1], parts, best=(1.0, 0.0))[0])
    return np.array(rows, np.float32), np.r_[np.ones(n), np.zeros(n)].astype(np.float32)


def _auc(scores, y):
    pos, neg = scores[y > 0.5], scores[y < 0.5]
    return float((pos[:, None] > neg[None, :]).mean())


def test_training_separates_matches_from_non_matches(rng):
    x, y = _pairs(rng)
    xt, yt = _pairs(np.random.default_rng(99))  # held out
    untrained, _ = train_head(x, y, cfg=HeadConfig(epochs=0))
    head, losses = train_head(x, y, cfg=HeadConfig(epochs=30))
    assert losses[-1] < losses[0]
    assert _auc(head.score(xt), yt) > 0.95
    assert _auc(untrained.score(xt), yt) < 0.9  # the random start does not do it
    assert np.all((head.score(xt) >= 0) & (head.score(xt) <= 1))


def test_the_same_seed_gives_the_same_head_and_another_seed_another(rng):
    x, y = _pairs(rng, n=60)
    a, _ = train_head(x, y, cfg=HeadConfig(epochs=5, seed=3))
    b, _ = train_head(x, y, cfg=HeadConfig(epochs=5, seed=3))
    c, _ = train_head(x, y, cfg=HeadConfig(epochs=5, seed=4))
    assert np.array_equal(a.w1, b.w1) and a.b2 == b.b2
    assert not np.array_equal(a.w1, c.w1)


def test_continuing_from_a_head_starts_where_it_stopped(rng):
    x, y = _pairs(rng, n=80)
    head, losses = train_head(x, y, cfg=HeadConfig(epochs=20))
    more, more_losses = train_head(x, y, cfg=HeadConfig(epochs=2), init=head)
    fresh, fresh_losses = train_head(x, y, cfg=HeadConfig(epochs=2))
    assert np.array_equal(more.mean, head.mean)  # its standardisation is kept
    assert more_losses[0] < fresh_losses[0]
    assert more_losses[0] <= losses[-1] * 1.5


def test_training_refuses_one_class_and_misfit_inputs(rng):
    x, y = _pairs(rng, n=10)
    with pytest.raises(ValidationError, match="both positive and negative"):
        train_head(x, np.ones(len(y)))
    with pytest.raises(ValidationError, match="do not line up"):
        train_head(x, y[:-1])
    head, _ = train_head(x, y, cfg=HeadConfig(epochs=1))
    with pytest.raises(ValidationError, match="retrain from scratch"):
        train_head(x[:, :-1], y, init=head)
    with pytest.raises(ValidationError, match="expects rows of"):
        head.score(x[:, :-1])


def test_a_head_survives_json_and_a_broken_one_is_refused(rng):
    x, y = _pairs(rng, n=20)
    head, _ = train_head(x, y, cfg=HeadConfig(epochs=2))
    back = MatchHead.from_json(json.loads(json.dumps(head.to_json())))
    np.testing.assert_array_equal(back.score(x), head.score(x))
    broken = head.to_json()
    broken["arrays"]["w1"] = broken["arrays"]["w1"][:8]
    with pytest.raises(ValidationError, match="malformed"):
        MatchHead.from_json(broken)
