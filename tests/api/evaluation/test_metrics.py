"""Metrics against hand-computed values."""
from __future__ import annotations

import math

import pytest

from sensegraph.errors import ValidationError
from sensegraph.evaluation.metrics import (
    average_precision,
    hit_at_1,
    ndcg_at_k,
    recall_at_k,
    reciprocal_rank,
    score_query,
    summarize,
)

RANKED = ["a", "x", "b", "y", "z", "c"]
GOLD = {"a", "b", "c", "d"}


def test_hit_at_1():
    assert hit_at_1(RANKED, GOLD) == 1.0
    assert hit_at_1(["x", "a"], GOLD) == 0.0
    assert hit_at_1([], GOLD) == 0.0


def test_reciprocal_rank():
    assert reciprocal_rank(["x", "y", "b"], GOLD) == pytest.approx(1 / 3)
    assert reciprocal_rank(["x", "y"], GOLD) == 0.0
    # a duplicate does not push the first relevant id down
    assert reciprocal_rank(["x", "x", "a"], GOLD) == pytest.approx(1 / 2)


def test_recall_at_k():
    assert recall_at_k(RANKED, GOLD, 1) == pytest.approx(1 / 4)
    assert recall_at_k(RANKED, GOLD, 5) == pytest.approx(2 / 4)
    assert recall_at_k(RANKED, GOLD, 10) == pytest.approx(3 / 4)


def test_ndcg_at_k_hand_computed():
    # relevant at ranks 1 and 3 in the top 5; ideal puts 4 relevant ids at ranks 1..4
    dcg = 1 + 1 / math.log2(4)
    idcg = 1 + 1 / math.log2(3) + 1 / math.log2(4) + 1 / math.log2(5)
    assert ndcg_at_k(RANKED, GOLD, 5) == pytest.approx(dcg / idcg)
    # one gold id: the ideal is rank 1 only
    assert ndcg_at_k(["x", "a"], {"a"}, 10) == pytest.approx(1 / math.log2(3))
    assert ndcg_at_k(["a"], {"a"}, 10) == pytest.approx(1.0)


def test_average_precision_hand_computed():
    # relevant at 1, 3, 6; d never retrieved: (1/1 + 2/3 + 3/6) / 4
    assert average_precision(RANKED, GOLD) == pytest.approx((1 + 2 / 3 + 0.5) / 4)
    assert average_precision(["a", "b"], {"a", "b"}) == pytest.approx(1.0)
    assert average_precision(["x"], {"a"}) == 0.0


def test_summarize_macro_average():
    s = summarize([(["a"], {"a"}), (["x", "b"], {"b"})])
    assert s["n"] == 2
    assert s["hit@1"] == pytest.approx(0.5)
    assert s["MRR"] == pytest.approx((1 + 0.5) / 2)
    assert summarize([])["n"] == 0


def test_score_query_names():
    assert list(score_query(RANKED, GOLD)) == ["hit@1", "MRR", "R@5", "R@10", "NDCG@10", "MAP"]


def test_bad_input_is_named():
    with pytest.raises(ValidationError, match="gold set is empty"):
        hit_at_1(["a"], set())
    with pytest.raises(ValidationError, match="k must be a positive integer"):
        recall_at_k(["a"], {"a"}, 0)
