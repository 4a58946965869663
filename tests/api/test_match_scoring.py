"""The match formula and ranking modes."""
import numpy as np
import pytest

from sensegraph.scoring import cosine_rows, formula_query, match_scores, normalise_weights, rank


def test_match_is_alpha_sim1_plus_beta_weighted_sim2():
    sim1 = np.array([0.2, 0.5])
    per_sense = np.array([[0.9, 0.1], [0.1, 0.3]])
    w = normalise_weights([3.0, 1.0])
    match, sim2 = match_scores(sim1, per_sense, w, alpha=0.4, beta=0.6)
    assert w.tolist() == pytest.approx([0.75, 0.25])
    assert sim2.tolist() == pytest.approx([0.7, 0.15])
    assert match.tolist() == pytest.approx([0.4 * 0.2 + 0.6 * 0.7, 0.4 * 0.5 + 0.6 * 0.15])


def test_text_only_when_no_sense_is_linked():
    sim1 = np.array([0.3, 0.1])
    match, sim2 = match_scores(sim1, np.zeros((2, 0)), np.zeros(0), 0.5, 0.5)
    assert sim2.tolist() == [0, 0] and match.tolist() == pytest.approx([0.15, 0.05])


def test_rank_and_threshold_modes():
    match = np.array([0.1, 0.9, 0.5, 0.7])
    assert rank(match, 2, None).tolist() == [1, 3]
    assert rank(match, None, 0.5).tolist() == [1, 3, 2]
    assert rank(match, 2, 0.5).tolist() == [1, 3]


def test_cosine_rows_handles_zero_rows():
    m = np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    out = cosine_rows(m, np.array([2.0, 0.0]))
    assert out.tolist() == pytest.approx([1.0, 0.0, np.sqrt(0.5)])


def test_the_formula_query_scores_every_medium_by_the_match_formula():
    """One inner product per medium with the (joint, native) query parts equals the formula, so a
    store can rank by the formula itself instead of by either similarity alone."""
    rng = np.random.default_rng(3)
    joint, native = rng.normal(size=(50, 12)), rng.normal(size=(50, 6))
    q, protos = rng.normal(size=12) * 4, rng.normal(size=(3, 6)) * 2  # not unit: the query normalises
    w = normalise_weights([0.9, 0.5, 0.2])
    per_sense = np.stack([cosine_rows(native, p) for p in protos], axis=1)
    want, _ = match_scores(cosine_rows(joint, q), per_sense, w, 0.3, 0.7)
    qj, qn = formula_query(q, list(protos), w, 0.3, 0.7)
    unit = lambda m: m / np.linalg.norm(m, axis=1, keepdims=True)  # noqa: E731 - what a store holds
    np.testing.assert_allclose(unit(joint) @ qj + unit(native) @ qn, want, atol=1e-5)


def test_the_formula_query_without_senses_or_weights():
    q = np.array([3.0, 4.0])
    qj, qn = formula_query(q, [], np.zeros(0), 0.5, 0.5)
    assert qj.tolist() == pytest.approx([0.3, 0.4]) and qn is None
    qj, qn = formula_query(q, [np.ones(2)], np.ones(1), 0.5, 0.0)  # text-only mode: beta 0
    assert qn is None
    qj, qn = formula_query(q, [], np.zeros(0), 0.0, 0.5)  # nothing to rank by: the text orders the candidates
    assert qj.tolist() == pytest.approx([0.6, 0.8]) and qn is None
