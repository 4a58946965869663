"""The pure scoring functions of disambiguation, on values worked out by hand."""
from __future__ import annotations

import math

import pytest

from sensegraph.linking.base import Candidate, Mention
from sensegraph.linking.disambiguate import (
    ancestor_relatedness,
    coherence_scores,
    combine,
    context_window,
    decide,
    milne_witten,
    prior_scores,
    softmax,
)
from sensegraph.linking.knowledge import definition_only, sense_text
from sensegraph.graph.model import Sense


def test_prior_is_semcor_counts_smoothed_by_rank():
    assert prior_scores([1, 2], [0, 0]) == pytest.approx([2 / 3, 1 / 3])  # no counts: 1/rank
    assert prior_scores([1, 2, 3], [25, 20, 0]) == pytest.approx([26 / 46.8333, 20.5 / 46.8333, (1 / 3) / 46.8333], rel=1e-4)
    assert prior_scores([1, 2], [0, 9])[1] > 0.9  # a tagged rank-2 sense beats an untagged rank 1
    assert sum(prior_scores([1, 3, 7], [5, 0, 1])) == pytest.approx(1.0)


def test_milne_witten():
    n = 1000
    assert milne_witten(frozenset("ab"), frozenset("cd"), n) == 0.0
    assert milne_witten(frozenset("abc"), frozenset("abc"), n) == pytest.approx(1.0)
    expected = 1 - (math.log(3) - math.log(1)) / (math.log(n) - math.log(3))
    assert milne_witten(frozenset("abx"), frozenset("cdx"), n) == pytest.approx(expected)


def test_ancestor_relatedness_counts_hops_through_the_shared_ancestor():
    a = {"a": 0, "team": 1, "org": 2}
    b = {"b": 0, "team": 1, "org": 2}
    assert ancestor_relatedness(a, b) == pytest.approx(1 / 3)  # siblings
    assert ancestor_relatedness(a, {"team": 0, "org": 1}) == pytest.approx(1 / 2)  # parent
    assert ancestor_relatedness(a, {"x": 0}) == 0.0


def test_coherence_uses_other_mentions_and_skips_repeats_of_the_same_key():
    rel = {("t1", "t2"): 0.9, ("w1", "t2"): 0.1}.get
    scores = coherence_scores(
        ["rockets", "lakers", "rockets"],
        [["t1", "w1"], ["t2"], ["t1", "w1"]],
        lambda a, b: rel((a, b), rel((b, a), 0.0)),
    )
    assert scores[0] == pytest.approx([0.9, 0.1])  # only "lakers" counts for the first "rockets"
    assert scores[1] == pytest.approx([0.9])  # mean over the two rockets mentions, best of each
    assert coherence_scores(["x"], [["a", "b"]], lambda a, b: 1.0) == [[0.0, 0.0]]


def test_combine_softmax_and_nil():
    w = {"context": 1.0, "prior": 0.5, "coherence": 0.2, "alias": 1.0}
    assert combine({"context": 0.4, "prior": 0.5, "coherence": 0.0, "alias": 0.9}, w) == pytest.approx(
        0.4 + 0.25 - 0.1
    )
    assert softmax([1.0, 1.0], 0.1) == pytest.approx([0.5, 0.5])
    m = Mention(0, 4, "bank")
    even = [Candidate("s1", parts={"context": 0.3}), Candidate("s2", parts={"context": 0.3}),
            Candidate("s3", parts={"context": 0.3})]
    # NIL means "no sense fits", not "little context": exact alias hits always link, fuzzy ones need confidence
    assert decide(m, even, w, 0.1, nil_threshold=0.5).sense_id == "s1"
    fuzzy = [Candidate(c.sense_id, parts={**c.parts, "alias": 0.9}) for c in even]
    assert decide(m, fuzzy, w, 0.1, nil_threshold=0.5).sense_id is None  # 1/3 < 0.5 and no exact alias: NIL
    assert decide(m, fuzzy, w, 0.1, nil_threshold=0.3).sense_id == "s1"
    clear = [Candidate("s1", parts={"context": 0.2}), Candidate("s2", parts={"context": 0.6})]
    lm = decide(m, clear, w, 0.1, nil_threshold=0.5)
    assert lm.sense_id == "s2" and lm.confidence == pytest.approx(1 / (1 + math.exp(-4)))
    assert [c.sense_id for c in lm.candidates] == ["s2", "s1"]
    assert decide(m, [], w, 0.1, 0.25).sense_id is None


def test_context_window_counts_tokens_and_cjk_characters():
    text = "one two three MENTION four five six"
    s = text.index("MENTION")
    assert context_window(text, s, s + 7, 2) == "two three MENTION four five"
    assert context_window(text, s, s + 7, 0) == "MENTION"
    zh = "我们都喜欢火箭队的比赛"
    s = zh.index("火箭")
    assert context_window(zh, s, s + 2, 2) == "喜欢火箭队的"


def test_sense_text_has_definition_and_neighbours_but_no_examples():
    sense = Sense("n1", "bank", 'sloping land beside a body of water; "they pulled the canoe up on the bank"')
    assert definition_only(sense.gloss) == "sloping land beside a body of water"
    text = sense_text(sense, ["bank", "riverbank"], ["slope"])
    assert text == "bank (riverbank): sloping land beside a body of water; related: slope"
    assert "canoe" not in text


def test_mention_weights_combine_confidence_and_salience():
    """w_k ∝ confidence × salience; a linked sense without a prototype keeps its share out of β."""
    import numpy as np

    from sensegraph.linking.base import LinkedMention
    from sensegraph.scoring import normalise_weights

    head = LinkedMention(0, 6, "kettle", "s:kettle", 0.8, salience=1.0)
    modifier = LinkedMention(0, 8, "electric", "s:electric", 0.9, salience=0.35)
    assert head.weight == pytest.approx(0.8) and modifier.weight == pytest.approx(0.315)
    both = normalise_weights([head.weight, modifier.weight])
    assert both[0] > 2 * both[1] and both.sum() == pytest.approx(1.0)  # the head noun weighs more
    alone = normalise_weights([modifier.weight], unrepresented=head.weight)  # the head has no media
    assert alone[0] == pytest.approx(0.315 / 1.115) and alone[0] < 0.3  # not all of β
    assert normalise_weights([modifier.weight]).tolist() == [1.0]  # nothing else linked: all of it
    assert not np.any(normalise_weights([0.0], unrepresented=0.0))


def test_only_a_heavier_missing_sense_keeps_weight_out_of_beta():
    from sensegraph.scoring import unrepresented_weight

    assert unrepresented_weight([0.8], [0.315]) == pytest.approx(0.485)  # kettle has no media: electric ≤ 0.39
    assert unrepresented_weight([0.5], [1.0]) == 0.0  # "night" has no media: the head "bat" keeps all of β
    assert unrepresented_weight([], [0.4]) == 0.0 and unrepresented_weight([0.7], []) == pytest.approx(0.7)


def test_prior_counts_most_for_a_bare_noun():
    from sensegraph.linking.disambiguate import context_words, prior_strength

    assert context_words("A hand.", 2, 6, 12) == 0 and prior_strength(0) == 1.0
    assert context_words("a grey cartoon cat walking", 15, 18, 12) == 3  # grey, cartoon, walking
    assert prior_strength(1) == pytest.approx(1 / 3) and prior_strength(3) == pytest.approx(1 / 7)
    assert context_words("the bank of the river", 4, 8, 1) == 0  # window of one token: "the", "of"
