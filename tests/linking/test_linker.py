"""EntityLinker end to end on a real EmbeddedStore: coherence, Chinese aliases, context, bad input."""
from __future__ import annotations

import json

import pytest

from sensegraph.config import LinkerConfig
from sensegraph.errors import ConfigError, ValidationError
from sensegraph.graph.model import AliasEntry
from sensegraph.linking.linker import EntityLinker

NO_COHERENCE = {"w_coherence": 0.0}
COHERENCE = {"w_coherence": 0.5}


def chosen(linked) -> list[tuple[str, str | None]]:
    return [(m.text, m.sense_id) for m in linked]


def test_coherence_pulls_two_teams_together(toy_store):
    text = "The Rockets beat the Lakers"
    # "Rockets" is both the team (exact alias) and the plural of "rocket" (lemma): a tie on prior
    flat = EntityLinker(toy_store, None, NO_COHERENCE).link(text)
    assert chosen(flat) == [("Rockets", "obj:rocket"), ("Lakers", "team:lakers")]
    linked = EntityLinker(toy_store, None, COHERENCE).link(text)
    assert chosen(linked) == [("Rockets", "team:rockets"), ("Lakers", "team:lakers")]
    parts = {c.sense_id: c.parts for c in linked[0].candidates}
    assert parts["team:rockets"]["coherence"] > parts["obj:rocket"]["coherence"] == 0.0
    assert set(parts["obj:rocket"]) == {"context", "prior", "coherence", "visual", "alias"}
    assert chosen(EntityLinker(toy_store, None, COHERENCE).link("a rocket launch")) == [("rocket", "obj:rocket")]


def test_chinese_aliases_link(toy_store):
    linked = EntityLinker(toy_store, None, COHERENCE).link("大鲨鱼喜欢黄金")
    assert chosen(linked) == [("大鲨鱼", "team:sharks"), ("黄金", "metal:gold")]
    assert linked[0].start == 0 and linked[1].start == 5


def test_context_beats_prior_with_minilm(toy_store, minilm):
    linker = EntityLinker(toy_store, minilm.embed_texts, {"w_prior": 0.15, "w_coherence": 0.0})
    [sport] = linker.link("The Sharks won the basketball game last night")
    [fish] = linker.link("The Sharks swam near the coral reef")
    assert sport.sense_id == "team:sharks"  # rank 2, chosen on context
    assert fish.sense_id == "animal:shark"
    ctx = {c.sense_id: c.parts["context"] for c in sport.candidates}
    assert ctx["team:sharks"] > ctx["animal:shark"], ctx


def test_json_shape_and_add_aliases(toy_store):
    linker = EntityLinker(toy_store, None, COHERENCE)
    assert linker.link("the Warriors won") == []
    toy_store.upsert_senses([])  # nothing else changes in the store
    added = linker.add_aliases([AliasEntry("Warriors", "en", "warriors", "team:lakers", 1)])
    assert added == 1
    [m] = linker.link("the Warriors won")
    data = json.loads(json.dumps({"mentions": [m.to_dict()]}))
    assert data["mentions"][0]["text"] == "Warriors" and data["mentions"][0]["sense_id"] == "team:lakers"
    assert set(data["mentions"][0]) == {"text", "start", "end", "sense_id", "confidence", "candidates"}
    assert set(data["mentions"][0]["candidates"][0]) == {"sense_id", "score", "parts"}


@pytest.mark.parametrize(
    "text",
    ["", "   \n\t ", "Rockets\x00\x07 and\x1b[31m Lakers\ud800", "Ελληνικά Rockets русский 大鲨鱼 🚀 العربية"],
)
def test_odd_input_gives_a_result(toy_store, text):
    linked = EntityLinker(toy_store, None, COHERENCE).link(text)
    for m in linked:
        assert text[m.start:m.end] == m.text
    if "Lakers" in text:
        assert chosen(linked) == [("Rockets", "team:rockets"), ("Lakers", "team:lakers")]


def test_too_long_or_not_text_is_a_clear_error(toy_store):
    linker = EntityLinker(toy_store, None, {"max_text_chars": 100_000})
    with pytest.raises(ValidationError, match=r"1,000,000 characters; the limit is 100,000"):
        linker.link("Rockets " * 125_000)
    with pytest.raises(ValidationError, match="must be a string"):
        linker.link(b"Rockets")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="outside the text"):
        linker.link_spans("Rockets", [(3, 30)])


def test_constructor_validates_store_and_config(toy_store):
    with pytest.raises(ConfigError, match="needs a GraphStore"):
        EntityLinker(object(), None)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="nil_threshold"):
        EntityLinker(toy_store, None, {"nil_threshold": 1.5})
    bad = LinkerConfig.model_construct(**{**LinkerConfig().model_dump(), "max_candidates": 0})
    with pytest.raises(ConfigError, match="max_candidates"):
        EntityLinker(toy_store, None, bad)
    with pytest.raises(ConfigError, match="callable"):
        EntityLinker(toy_store, "minilm")  # type: ignore[arg-type]


class _Reads:
    """A ``SenseReads`` that records what the linker asks of it."""

    def __init__(self, inner) -> None:
        self.inner, self.asked, self.forgotten = inner, [], 0

    def senses(self, ids):
        ids = list(ids)
        self.asked.append(sorted(ids))
        return self.inner.senses(ids)

    def forget_senses(self) -> None:
        self.forgotten += 1
        self.inner.forget_senses()


class _Mine:
    """A disambiguator handed in: the linker resolves candidates through its ``knowledge``."""

    def __init__(self, inner) -> None:
        self.inner, self.knowledge = inner, _Reads(inner.knowledge)

    def disambiguate_many(self, items):
        return self.inner.disambiguate_many(items)


def test_parts_handed_in_are_used_through_their_declared_seams(toy_store):
    mine = _Mine(EntityLinker(toy_store, None, NO_COHERENCE).disambiguator)
    linker = EntityLinker(toy_store, None, NO_COHERENCE, disambiguator=mine)
    assert chosen(linker.link("a rocket launch")) == [("rocket", "obj:rocket")]
    assert mine.knowledge.asked and "obj:rocket" in mine.knowledge.asked[0]  # candidates resolved through it
    linker.forget_senses()
    assert mine.knowledge.forgotten == 1


def test_a_part_lacking_its_protocol_is_refused_naming_what_it_needs(toy_store):
    with pytest.raises(ConfigError, match=r"disambiguator must implement Disambiguator \(knowledge, disambiguate_many\)"):
        EntityLinker(toy_store, None, disambiguator=object())  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"detector must implement MentionDetector \(detect, detect_many, add_aliases, matchers\)"):
        EntityLinker(toy_store, None, detector=object())  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"candidate_generator must implement CandidateGenerator"):
        EntityLinker(toy_store, None, candidate_generator=object())  # type: ignore[arg-type]
