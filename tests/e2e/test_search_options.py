"""``SenseGraph.search``'s explicit parameters: a misspelt one fails naming the valid ones, and pins
(``senses={word: sense_id}``) show in the linked output, must name a word of the query, and say when
the pinned sense has no prototype to rank by."""
from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from sensegraph import SenseGraph
from sensegraph.errors import NotFound, ValidationError
from sensegraph.evaluation.dataset import load_evalset, resolve_media

MOUSE_DEVICE, MOUSE_ANIMAL, BAT_ANIMAL = "n03793489", "n02330245", "n02139199"
EVALSET = Path(__file__).parents[2] / "evalsets" / "core"
SEARCH_KEYWORDS = ["alpha", "beta", "senses", "threshold", "filters"]


@pytest.fixture
def mice(sg):
    """Two computer-mouse drawings with captions (the device sense gets a prototype), one uncaptioned."""
    media = {m.id: m for m in load_evalset(EVALSET).media}
    records = [{"id": mid, "media": str(resolve_media(media[mid].media)), "text": text}
               for mid, text in (("mouse-device-1", "a white computer mouse"),
                                 ("mouse-device-2", "a small computer mouse with a cable"),
                                 ("mouse-animal-1", None))]
    report = sg.ingest(records)
    assert report.ingested == 3 and not report.skipped
    assert sg.store.get_prototypes([MOUSE_DEVICE]) and not sg.store.get_prototypes([BAT_ANIMAL])
    return sg


@pytest.mark.parametrize("method", ["search", "search_result", "search_many"])
def test_a_misspelt_keyword_fails_naming_every_valid_one(tmp_path, method):
    with SenseGraph(tmp_path / "store") as sg:
        call = getattr(sg, method)
        query = ["a mouse"] if method == "search_many" else "a mouse"
        with pytest.raises(TypeError) as err:
            call(query, k=3, alpah=0.2)
        message = str(err.value)
        assert f"{method}() got unknown keyword argument 'alpah' (did you mean 'alpha'?)" in message
        assert all(name in message for name in SEARCH_KEYWORDS + ["k"]), message
        params = inspect.signature(call).parameters
        assert [n for n in SEARCH_KEYWORDS if params[n].kind is inspect.Parameter.KEYWORD_ONLY] == SEARCH_KEYWORDS


def test_recommend_names_its_keywords_too(tmp_path):
    with SenseGraph(tmp_path / "store") as sg, pytest.raises(TypeError, match=r"'senses'.*valid: media_id, k, alpha, beta"):
        sg.recommend("m1", senses={"mouse": MOUSE_DEVICE})


def test_a_pinned_sense_shows_in_the_linked_output(mice):
    res = mice.search_result("a mouse next to the keyboard", k=3, senses={"Mouse": MOUSE_ANIMAL})
    by_text = {m["text"].lower(): m for m in res.linked}
    assert by_text["mouse"]["sense_id"] == MOUSE_ANIMAL and by_text["mouse"]["pinned"] is True
    assert by_text["mouse"]["confidence"] == 1.0
    assert all(m["pinned"] is False for t, m in by_text.items() if t != "mouse")
    plain = mice.search_result("a mouse next to the keyboard", k=3)
    assert all(m["pinned"] is False for m in plain.linked)


def test_a_pinned_word_the_linker_skipped_becomes_a_pinned_mention(mice):
    assert "one" not in {m["text"] for m in mice.search_result("a white one on the desk", k=3).linked}
    res = mice.search_result("a white one on the desk", k=3, senses={"one": MOUSE_DEVICE})
    pinned = [m for m in res.linked if m["pinned"]]
    assert [(m["text"], m["start"], m["end"], m["sense_id"]) for m in pinned] == [("one", 8, 11, MOUSE_DEVICE)]
    assert res.hits and any(s.sense_id == MOUSE_DEVICE for s in res.hits[0].senses)


def test_pinning_a_word_not_in_the_query_is_an_error_naming_it(mice):
    with pytest.raises(ValidationError, match=r"pinned word 'rat' is not in the query 'a mouse next to the keyboard'"):
        mice.search("a mouse next to the keyboard", senses={"rat": MOUSE_ANIMAL})
    with pytest.raises(ValidationError, match="pinned word 'mous'"):  # part of a word is not the word
        mice.search("a mouse next to the keyboard", senses={"mous": MOUSE_ANIMAL})
    with pytest.raises(NotFound, match="n99999999"):
        mice.search("a mouse next to the keyboard", senses={"mouse": "n99999999"})


def test_a_pinned_sense_without_a_prototype_says_so_in_the_metadata(mice):
    res = mice.search_result("a bat next to the mouse", k=3, senses={"bat": BAT_ANIMAL, "mouse": MOUSE_DEVICE})
    assert res.metadata["senses_without_prototype"] == [BAT_ANIMAL]
    ranked_by = {s.sense_id for s in res.hits[0].senses} if res.hits else set()
    assert MOUSE_DEVICE in ranked_by and BAT_ANIMAL not in ranked_by
    ranked = mice.search_result("a mouse", k=3, senses={"mouse": MOUSE_DEVICE})
    assert ranked.metadata["senses_without_prototype"] == []
