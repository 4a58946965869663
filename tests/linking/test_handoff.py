"""Media-aware weights: a linked sense without a prototype hands its weight to the runner-up (small
margin) or to relatives with prototypes within two hops, decayed; none found leaves β unused."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from sensegraph.config import SenseGraphConfig
from sensegraph.graph.embedded import EmbeddedStore
from sensegraph.graph.model import Media, Prototype, Relation, Sense
from sensegraph.handoff import candidate_weights, hand_on, merge, runner_up_share, spread
from sensegraph.linking.base import Candidate, LinkedMention
from sensegraph.search import SearchEngine


def test_spread_decays_per_hop_and_splits_by_distance():
    assert spread(1.0, {"a": 1, "b": 1}) == pytest.approx({"a": 0.25, "b": 0.25})
    got = spread(0.8, {"a": 1, "b": 2})
    assert sum(got.values()) == pytest.approx(0.4) and got["a"] == pytest.approx(2 * got["b"])
    assert spread(1.0, {}) == {} and spread(0.0, {"a": 1}) == {}


def test_runner_up_share_is_the_probability_ratio():
    assert runner_up_share([0.5, 0.5], 0.1) == pytest.approx(1.0)
    assert runner_up_share([0.6, 0.5], 0.1) == pytest.approx(np.exp(-1.0))
    assert runner_up_share([0.6], 0.1) == 0.0


@pytest.fixture
def animals(tmp_path):
    """bat (no media) with two hyponyms that have prototypes, and a club sense with one."""
    store = EmbeddedStore(tmp_path / "s")
    store.upsert_senses([Sense("bat", "bat", "a flying mammal"), Sense("fruit_bat", "fruit bat", ""),
                         Sense("vampire_bat", "vampire bat", ""), Sense("club", "bat", "a club"),
                         Sense("mammal", "mammal", ""), Sense("lonely", "lonely", "")])
    store.upsert_relations([Relation("fruit_bat", "bat", "hypernym"), Relation("vampire_bat", "bat", "hypernym"),
                            Relation("bat", "mammal", "hypernym")])
    store.bind_encoder("test", 4, 4)
    v = lambda *x: np.asarray(x, dtype=np.float32)  # noqa: E731
    store.set_prototypes([Prototype("fruit_bat", v(1, 0, 0, 0), media_count=3), Prototype("vampire_bat", v(0, 1, 0, 0), media_count=2),
                          Prototype("club", v(0, 0, 1, 0), media_count=4)])
    try:
        yield store
    finally:
        store.close()


def engine(store) -> SearchEngine:
    return SearchEngine(store, None, None, SenseGraphConfig())


def test_weight_goes_to_hyponyms_with_prototypes(animals):
    eng = engine(animals)
    mention = LinkedMention(2, 5, "bat", "bat", 0.9, [Candidate("bat", 0.9), Candidate("club", 0.2)])
    extra, given = hand_on(animals, [mention], ["bat"], {"bat": 0.9}, eng.linked_senses, 0.1)
    assert given == {"bat": ["fruit_bat", "vampire_bat"]}
    assert {ls.sense_id: ls.confidence for ls in extra} == pytest.approx({"fruit_bat": 0.225, "vampire_bat": 0.225})


def test_a_close_runner_up_takes_the_weight_first(animals):
    eng = engine(animals)
    mention = LinkedMention(2, 5, "bat", "bat", 0.5, [Candidate("bat", 0.50), Candidate("club", 0.47)])
    extra, given = hand_on(animals, [mention], ["bat"], {"bat": 0.5}, eng.linked_senses, 0.1)
    assert given == {"bat": ["club"]}
    assert extra[0].confidence == pytest.approx(0.5 * np.exp(-0.3))


def test_no_relative_with_media_hands_nothing_on(animals):
    eng = engine(animals)
    mention = LinkedMention(0, 6, "lonely", "lonely", 1.0, [Candidate("lonely", 1.0)])
    assert hand_on(animals, [mention], ["lonely"], {"lonely": 1.0}, eng.linked_senses, 0.1) == ([], {})


def test_merge_sums_weights_of_the_same_sense(animals):
    eng = engine(animals)
    a = eng.linked_senses([("club", 0.4)])
    b = eng.linked_senses([("club", 0.1), ("fruit_bat", 0.2)])
    merged = {ls.sense_id: ls.confidence for ls in merge(a, b)}
    assert merged == pytest.approx({"club": 0.5, "fruit_bat": 0.2})


def test_candidate_weights_count_other_candidates_by_probability():
    m = LinkedMention(0, 3, "bat", "turn", 0.6, [Candidate("turn", 0.5), Candidate("club", 0.45), Candidate("animal", 0.2)], salience=0.5)
    exps = np.exp((np.array([0.5, 0.45, 0.2]) - 0.5) / 0.1)
    got = candidate_weights([m], 0.1, 0.1)
    assert got == pytest.approx({"club": 0.5 * exps[1] / exps.sum()})  # animal: under a tenth of the winner's
    assert candidate_weights([m], 0.1, 0.01).keys() == {"club", "animal"}
    nil = LinkedMention(0, 3, "bat", None, 0.2, [Candidate("turn", 0.5), Candidate("club", 0.45)])
    assert candidate_weights([nil], 0.1, 0.1) == {}


class _Linker:
    def __init__(self, mentions):
        self.mentions = mentions

    def link(self, text):
        return list(self.mentions)


def _search(store, share: float):
    store.upsert_media([Media("m", "file:///m", embedding=np.ones(4, dtype=np.float32) / 2, features=np.ones(4, dtype=np.float32) / 2)])
    mention = LinkedMention(0, 3, "bat", "bat", 0.73, [Candidate("bat", 0.5), Candidate("club", 0.40)])
    cfg = SenseGraphConfig().merged({"search": {"candidate_share": share}})
    eng = SearchEngine(store, SimpleNamespace(encoder_id="test"), _Linker([mention]), cfg,
                       embed_texts=lambda texts: np.ones((len(texts), 4), dtype=np.float32))
    res = eng.search("bat", k=1, alpha=0.5, beta=0.5)
    return {s.sense_id: s.weight for s in res.hits[0].senses}, res.metadata["weight_handed_on"]


def test_a_represented_candidate_takes_its_share_before_relatives(animals):
    weights, handed = _search(animals, 0.0)  # off: the runner-up is not close, so the hyponyms take it
    assert set(weights) == {"fruit_bat", "vampire_bat"} and handed == {"bat": ["fruit_bat", "vampire_bat"]}
    weights, handed = _search(animals, 0.1)
    assert set(weights) == {"club"} and handed == {}
