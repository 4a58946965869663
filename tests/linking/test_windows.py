"""Context windows stay inside their sentence, and crowded mentions share one window (issue 18's speed)."""
from __future__ import annotations

from sensegraph.linking.disambiguate import (
    context_window,
    context_words,
    sentence_starts,
    shared_windows,
    token_bounds,
    window_span,
)
from sensegraph.linking.linker import EntityLinker


def _sentences(text: str) -> list[str]:
    bounds = token_bounds(text)
    firsts = sentence_starts(text, bounds)
    starts, ends = bounds
    return [text[starts[i]:ends[j - 1]] for i, j in zip(firsts, [*firsts[1:], len(starts)])]


def test_sentences_end_at_stops_before_capitals_not_at_abbreviations():
    text = 'The bat flew. A cat sat on the mat. Mr. Smith saw the U.S. Army at 3 p.m. today. "Yes!" he said.'
    assert _sentences(text) == ["The bat flew.", "A cat sat on the mat.",
                                "Mr. Smith saw the U.S. Army at 3 p.m. today.", '"Yes!" he said.']
    assert _sentences("火箭队击败了鲨鱼队。他们很高兴！好") == ["火箭队击败了鲨鱼队。", "他们很高兴！", "好"]
    assert _sentences("one\n\ntwo three. four") == ["one", "two three. four"]  # blank line; lower case goes on
    assert sentence_starts("", token_bounds("")) == [0]


def test_a_window_does_not_cross_into_the_next_sentence():
    text = "The bat hung in the cave. Sales of the new bat rose at the shop."
    s = text.index("bat")
    bounds = token_bounds(text)
    firsts = sentence_starts(text, bounds)
    assert context_window(text, s, s + 3, 12) == "The bat hung in the cave. Sales of the new bat rose at the"  # the old window
    assert context_window(text, s, s + 3, 12, bounds, firsts) == "The bat hung in the cave."
    later = text.index("bat", s + 1)
    assert context_window(text, later, later + 3, 2, bounds, firsts) == "the new bat rose at"
    assert context_words(text, s, s + 3, 12, bounds, firsts) == 2  # hung, cave; not sales, shop


def test_crowded_mentions_share_one_window_that_holds_each_own_window():
    text = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma"
    bounds = token_bounds(text)
    spans = [(text.index(w), text.index(w) + len(w)) for w in ("gamma", "delta", "zeta", "sigma")]
    own = shared_windows(spans, 2, bounds, 0)  # 0: every mention its own window
    assert [" ".join(text[lo:hi].split()) for lo, hi in own] == [
        context_window(text, s, e, 2) for s, e in spans]
    shared = shared_windows(spans, 2, bounds, 9)
    assert shared[0] == shared[1] == shared[2] == (text.index("alpha"), text.index("theta") + 5)  # one union
    assert shared[3] == own[3]  # sigma's window would stretch the union past 9 tokens: its own
    for (lo, hi), (olo, ohi) in zip(shared, own):
        assert lo <= olo and ohi <= hi
    assert window_span(spans[3][0], spans[3][1], 2, bounds)[2:] == (15, 17)  # pi … sigma, token indices


def test_groups_never_span_two_sentences():
    text = "A bat flew. A ball fell."
    bounds = token_bounds(text)
    firsts = sentence_starts(text, bounds)
    spans = [(text.index("bat"), text.index("bat") + 3), (text.index("ball"), text.index("ball") + 4)]
    first, second = shared_windows(spans, 12, bounds, 48, firsts)
    assert text[slice(*first)] == "A bat flew." and text[slice(*second)] == "A ball fell."


def test_a_long_document_embeds_a_window_per_sentence_not_per_mention(toy_store, minilm):
    windows: list[str] = []
    sense_texts: list[str] = []

    def recording(texts):
        texts = list(texts)
        (sense_texts if any(":" in t for t in texts) else windows).extend(texts)
        return minilm.embed_texts(texts)

    doc = " ".join(["The Rockets and the Lakers beat the Sharks in a game of gold and rockets."] * 3 +
                   ["A shark swam past the rocket and the gold near the Sharks."] * 3)
    linker = EntityLinker(toy_store, recording, {"w_coherence": 0.0})
    linked = linker.link(doc)
    assert len(linked) >= 24
    assert len(windows) == 2  # six sentences, two distinct texts: one window each, not one per mention
    assert all(w in doc for w in windows)
    teams = [m.sense_id for m in linked if m.text in ("Rockets", "Lakers")]
    assert teams[:2] == ["team:rockets", "team:lakers"]
