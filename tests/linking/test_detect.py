"""Mention detection and candidate generation over a hand-made alias table (real spaCy, rapidfuzz)."""
from __future__ import annotations

import pytest

from sensegraph.errors import ConfigError
from sensegraph.graph.model import AliasEntry
from sensegraph.linking.base import Mention
from sensegraph.linking.candidates import AliasCandidateGenerator
from sensegraph.linking.detect import PhraseMatcherDetector
from sensegraph.linking.lexicon import Lexicon, length_bounds


def entry(alias: str, sense: str, rank: int = 1, lang: str = "en") -> AliasEntry:
    return AliasEntry(alias, lang, "e:" + alias.lower(), sense, rank)


ENTRIES = [
    entry("New York", "city:ny"), entry("York", "city:york"), entry("goose", "bird:goose"),
    entry("Rockets", "team:rockets"), entry("rocket", "obj:rocket"), entry("ice cream", "food:ice_cream"),
    entry("in", "unit:inch"), entry("US", "country:us"), entry("a", "letter:a"),
    entry("黄金", "metal:gold", lang="zh"), entry("火箭", "team:rockets", lang="zh"),
    entry("大鲨鱼", "team:sharks", lang="zh"), entry("鲨鱼", "animal:shark", lang="zh"),
    entry("jaguar", "animal:jaguar"), entry("jaguar", "car:jaguar", rank=2),
]


@pytest.fixture
def lexicon() -> Lexicon:
    return Lexicon(ENTRIES)


def spans(mentions: list[Mention]) -> list[tuple[str, str]]:
    return [(m.text, m.key) for m in mentions]


def test_longest_match_wins_and_offsets_point_into_the_text(lexicon):
    text = "We flew to New York, then to York."
    found = PhraseMatcherDetector(lexicon).detect(text)
    assert spans(found) == [("New York", "new york"), ("York", "york")]
    assert all(text[m.start:m.end] == m.text for m in found)


def test_case_insensitive_and_lemma_pass(lexicon):
    found = PhraseMatcherDetector(lexicon).detect("GEESE and Ice Creams near the ROCKETS")
    # "geese" -> "goose" comes from WordNet's noun.exc; "creams" -> "cream" from the suffix rules
    assert spans(found) == [("GEESE", "goose"), ("Ice Creams", "ice cream"), ("ROCKETS", "rockets")]


def test_stop_words_are_not_mentions_unless_capitalised_aliases(lexicon):
    found = PhraseMatcherDetector(lexicon).detect("a man in the US and in a boat")
    assert spans(found) == [("US", "us")]


def test_chinese_character_matching_in_mixed_script_text(lexicon):
    text = "Rockets（火箭）和大鲨鱼都喜欢黄金 rocket"
    found = PhraseMatcherDetector(lexicon).detect(text)
    assert [(m.text, m.lang) for m in found] == [
        ("Rockets", "en"), ("火箭", "zh"), ("大鲨鱼", "zh"), ("黄金", "zh"), ("rocket", "en"),
    ]  # 大鲨鱼 (team) wins over the shorter 鲨鱼 inside it
    assert all(text[m.start:m.end] == m.text for m in found)


def test_add_aliases_extends_the_matcher_incrementally(lexicon):
    det = PhraseMatcherDetector(lexicon)
    matcher = det._exact
    assert det.detect("the Lakers won") == []
    assert det.add_aliases([entry("Lakers", "team:lakers")]) == 1
    assert det._exact is matcher  # same matcher object: patterns added, nothing rebuilt
    assert spans(det.detect("the Lakers beat the Rockets")) == [("Lakers", "lakers"), ("Rockets", "rockets")]
    assert det.add_aliases([entry("Lakers", "team:lakers")]) == 0  # idempotent


def test_candidates_exact_lemma_and_fuzzy_with_scores(lexicon):
    gen = AliasCandidateGenerator(lexicon, fuzzy_threshold=88, max_candidates=8)
    rocket = gen.candidates(Mention(0, 6, "Rocket", key="rocket"))
    by_id = {c.sense_id: c.parts["alias"] for c in rocket}
    assert by_id["obj:rocket"] == 1.0
    assert by_id["team:rockets"] == pytest.approx(12 / 13)  # fuzz.ratio("rocket", "rockets") = 92.3
    assert gen.candidates(Mention(0, 6, "jaguer")) == []  # ratio 83.3 < 88
    loose = AliasCandidateGenerator(lexicon, fuzzy_threshold=80, max_candidates=8)
    typo = loose.candidates(Mention(0, 6, "jaguer"))
    assert [c.sense_id for c in typo] == ["animal:jaguar", "car:jaguar"]  # rank order among equals
    assert typo[0].parts["alias"] == pytest.approx(5 / 6)
    assert gen.candidates(Mention(0, 6, "zzzzzz")) == []


def test_candidates_are_capped_and_thresholded(lexicon):
    strict = AliasCandidateGenerator(lexicon, fuzzy_threshold=99, max_candidates=8)
    assert [c.sense_id for c in strict.candidates(Mention(0, 6, "Rocket"))] == ["obj:rocket"]
    capped = AliasCandidateGenerator(lexicon, max_candidates=1)
    assert [c.sense_id for c in capped.candidates(Mention(0, 6, "jaguar"))] == ["animal:jaguar"]
    with pytest.raises(ConfigError, match="max_candidates"):
        AliasCandidateGenerator(lexicon, max_candidates=0)
    with pytest.raises(ConfigError, match="fuzzy_threshold"):
        AliasCandidateGenerator(lexicon, fuzzy_threshold=101)


def test_length_bounds_cover_every_string_that_can_reach_the_threshold():
    from rapidfuzz import fuzz

    lo, hi = length_bounds(6, 88)
    assert fuzz.ratio("rocket", "rockets") >= 88 and lo <= 7 <= hi
    assert fuzz.ratio("rocket", "rocke") < 88 or lo <= 5
    for n in range(1, 12):
        if not lo <= n <= hi:
            assert fuzz.ratio("rocket", "r" * n) < 88
