"""The naive baseline: every noun → its first WordNet sense, backing off to the nearest hypernym with media."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from sensegraph.evaluation.harness import NAIVE, _store_for, modes
from sensegraph.evaluation.naive import FirstSenseLinker, first_sense, nearest_with_prototype
from sensegraph.graph.embedded import EmbeddedStore
from sensegraph.graph.model import Prototype, Relation, Sense
from sensegraph.linking.base import Candidate, Mention


def test_first_sense_is_the_lowest_rank_of_the_best_alias_match():
    cands = [Candidate("turn", 0.9, {"alias": 1.0}, rank=2), Candidate("animal", 0.1, {"alias": 1.0}, rank=1),
             Candidate("typo", 0.0, {"alias": 0.9}, rank=1)]
    assert first_sense(cands) == "animal"  # the linker's score does not matter, WordNet's order does
    assert first_sense([Candidate("typo", 0.0, {"alias": 0.9}, rank=3)]) == "typo"
    assert first_sense([]) is None


@pytest.fixture
def tree(tmp_path):
    """carrot (root, no media) → root vegetable (no media) → vegetable (media); plant has media too."""
    store = EmbeddedStore(tmp_path / "s")
    store.upsert_senses([Sense(s, s, "") for s in ("carrot", "root_veg", "vegetable", "food", "plant", "lonely")])
    store.upsert_relations([Relation("carrot", "root_veg", "hypernym"), Relation("root_veg", "vegetable", "hypernym"),
                            Relation("vegetable", "food", "hypernym"), Relation("carrot", "plant", "part_holonym")])
    store.bind_encoder("test", 4, 4)
    v = lambda *x: np.asarray(x, dtype=np.float32)  # noqa: E731
    store.set_prototypes([Prototype("vegetable", v(1, 0, 0, 0), media_count=2), Prototype("food", v(0, 1, 0, 0), media_count=5),
                          Prototype("plant", v(0, 0, 1, 0), media_count=3)])
    try:
        yield store
    finally:
        store.close()


def test_back_off_climbs_hypernyms_only_to_the_nearest_with_a_prototype(tree):
    assert nearest_with_prototype(tree, "carrot") == "vegetable"  # not food (further), not plant (not a hypernym)
    assert nearest_with_prototype(tree, "vegetable") == "vegetable"
    assert nearest_with_prototype(tree, "lonely") is None
    assert nearest_with_prototype(tree, "carrot", max_levels=1) is None


class _Inner:
    """The two pieces of an EntityLinker the baseline uses: its noun mentions and their candidates."""

    config = SimpleNamespace(max_text_chars=1000)

    def __init__(self) -> None:
        self.detector = SimpleNamespace(detect=lambda text: [Mention(2, 8, "carrot", salience=0.35)] if "carrot" in text else [])

    def _with_candidates(self, text, mentions):
        return text, list(mentions), [[Candidate("lonely", 0.9, {"alias": 1.0}, rank=2),
                                       Candidate("carrot", 0.1, {"alias": 1.0}, rank=1)] for _ in mentions]


def test_linker_picks_first_senses_at_full_weight_and_backs_off_only_when_asked(tree):
    plain = FirstSenseLinker(_Inner(), tree).link("a carrot")
    assert [(m.text, m.sense_id, m.confidence, m.salience, m.candidates) for m in plain] == [("carrot", "carrot", 1.0, 1.0, [])]
    backed = FirstSenseLinker(_Inner(), tree, backoff=True).link_many(["a carrot", "nothing here", ""])
    assert [[m.sense_id for m in row] for row in backed] == [["vegetable"], [], []]


def test_naive_mode_runs_in_a_store_of_its_own_without_hand_on():
    (mode,) = modes(["naive first sense"])
    assert mode is NAIVE and mode.linker == "first-sense" and mode.calibrate
    assert mode.config == {"search": {"hand_on": False}}
    assert _store_for("/tmp/x", "cold-first-sense", "/t").endswith("cold-first-sense")
