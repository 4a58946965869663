"""Choosing the no-match threshold for a target precision (pure)."""
from __future__ import annotations

import pytest

from sensegraph.errors import ValidationError
from sensegraph.matcher.no_match import choose_threshold, decision_counts, precision_recall


def test_separable_scores_give_a_threshold_between_them():
    tau, p, r, reached = choose_threshold([0.8, 0.9, 0.7], [0.2, 0.3], 0.9)
    assert 0.3 < tau < 0.7 and (p, r, reached) == (1.0, 1.0, True)


def test_the_best_recall_at_the_target_precision_is_chosen():
    answerable = [0.9, 0.8, 0.5, 0.35]
    nomatch = [0.1, 0.2, 0.4, 0.6]
    # τ just above 0.4 flags 0.1, 0.2, 0.4 and the answerable 0.35: precision 3/4, recall 3/4
    tau, p, r, reached = choose_threshold(answerable, nomatch, 0.75)
    assert (p, r, reached) == (0.75, 0.75, True) and 0.4 < tau < 0.5
    # at 0.9 only τ ≤ 0.35 qualifies: 0.1 and 0.2 flagged, precision 1, recall 1/2
    tau, p, r, _ = choose_threshold(answerable, nomatch, 0.9)
    assert (p, r) == (1.0, 0.5) and 0.2 < tau < 0.35
    assert decision_counts(answerable, nomatch, tau) == (2, 0, 2)


def test_an_unreachable_target_never_says_no_match():
    tau, p, r, reached = choose_threshold([0.1, 0.2], [0.5, 0.6], 0.9)
    assert not reached and r == 0.0 and tau < 0.1
    assert precision_recall([0.1, 0.2], [0.5, 0.6], tau) == (1.0, 0.0)


def test_bad_calibration_input_is_named():
    with pytest.raises(ValidationError, match="target precision"):
        choose_threshold([0.5], [0.1], 0.0)
    with pytest.raises(ValidationError, match="with answers and dev queries without"):
        choose_threshold([], [0.1], 0.9)
