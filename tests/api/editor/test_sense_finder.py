"""The sense finder on both stores: exact name, then prefix, then substring; a count; a media filter."""
from __future__ import annotations

import numpy as np

from sensegraph.graph import sense_finder
from sensegraph.graph.model import Alias, Entity, Evidence, HasSense, Media, Sense
from sensegraph.graph.sense_finder import EXACT, PREFIX, SUBSTRING, SenseCandidate, match_kind, rank_candidates

SENSES = [  # the curator's "bat" problem in miniature
    Sense("n_bat_animal", "bat", "nocturnal mouselike mammal with forelimbs modified to form membranous wings"),
    Sense("n_bat_club", "bat", "a club used for hitting a ball in various games"),
    Sense("n_cricket_bat", "cricket bat", "the club used in playing cricket"),
    Sense("n_battle", "battle", "a hostile meeting of opposing military forces"),
    Sense("n_batch", "batch", "a collection of things treated as a group"),
    Sense("n_probate", "probate", "a judicial certificate saying that a will is genuine"),
    Sense("n_acrobat", "acrobat", "an athlete who performs acts requiring skill and agility"),
    Sense("n_old_bat", "bat (old)", "merged away"),
]


def bat_graph(store) -> None:
    store.bind_encoder("test-enc", 4, 4)
    store.upsert_entities([Entity("e:bat", "bat"), Entity("e:acro", "acrobat"), Entity("e:club", "club")])
    store.upsert_senses(SENSES)
    store.upsert_aliases([Alias("bat", "e:bat"), Alias("Bat", "e:bat"), Alias("acrobat", "e:acro"),
                          Alias("chiropteran", "e:bat"), Alias("club", "e:club")])
    store.upsert_has_sense([HasSense("e:bat", "n_bat_animal", 1), HasSense("e:bat", "n_bat_club", 2),
                            HasSense("e:acro", "n_acrobat", 1), HasSense("e:club", "n_bat_club", 1),
                            HasSense("e:bat", "n_old_bat", 3)])
    rng = np.random.default_rng(0)
    store.upsert_media([Media(f"m{i}", f"file:///m{i}.png", "image", f"sha{i}",
                              embedding=rng.normal(size=4).astype(np.float32), features=rng.normal(size=4).astype(np.float32))
                        for i in range(3)])
    # the club has two media, the animal one, the acrobat one that is detached (does not count)
    store.upsert_evidence([Evidence("m0", "n_bat_club", 0.9, "linker"), Evidence("m1", "n_bat_club", 0.8, "linker"),
                           Evidence("m2", "n_bat_animal", 0.7, "linker"),
                           Evidence("m2", "n_acrobat", 0.5, "editor", detached=True)])
    store.set_redirect("n_old_bat", "n_bat_animal")


def test_match_kind_is_exact_then_word_prefix_then_substring():
    assert match_kind("bat", ["n_bat_club", "bat"]) == EXACT
    assert match_kind("bat", ["battle"]) == PREFIX
    assert match_kind("bat", ["cricket bat"]) == PREFIX  # a word of the name starts with it
    assert match_kind("bat", ["probate"]) == SUBSTRING
    assert match_kind("bat", ["acrobat bats"]) == PREFIX  # the later, word-start occurrence counts
    assert match_kind("bat", ["club"]) is None


def test_ranking_puts_the_exact_id_then_live_senses_with_more_media_first():
    cands = [SenseCandidate("b", "bat", (), None, 0), SenseCandidate("a", "bat", (), "b", 5),
             SenseCandidate("c", "bat", (), None, 3), SenseCandidate("bat", "x", (), None, 0),
             SenseCandidate("d", "probate", (), None, 9)]
    assert [c.sense_id for c, _ in rank_candidates("bat", cands)] == ["bat", "c", "b", "a", "d"]


def test_both_stores_rank_exact_alias_then_prefix_then_substring_with_a_count(store):
    bat_graph(store)
    found = sense_finder.find(store, "  BAT ", 20)
    ids = [s.sense_id for s in found.senses]
    # exact (an alias or the label is "bat"): live ones by media count, the merged one last among them
    assert ids[:3] == ["n_bat_club", "n_bat_animal", "n_old_bat"]
    assert set(ids[3:6]) == {"n_cricket_bat", "n_battle", "n_batch"}  # prefix of a word
    assert ids[6:] == ["n_acrobat", "n_probate"]  # substring only; acrobat (more names) ties on id order
    assert [found.kinds[i] for i in ids] == [EXACT] * 3 + [PREFIX] * 3 + [SUBSTRING] * 2
    assert found.total == 8 and found.with_media == 2
    assert [s.sense_id for s in store.find_senses("bat", 2)] == ids[:2]  # the store method is the same ranking

    short = sense_finder.find(store, "bat", 3)
    assert short.total == 8 and len(short.senses) == 3  # the count is of every match, not the page

    media = sense_finder.find(store, "bat", 20, with_media=True)
    assert [s.sense_id for s in media.senses] == ["n_bat_club", "n_bat_animal"] and media.total == 2
    assert sense_finder.find(store, "chiropteran", 5).kinds == {"n_bat_animal": EXACT, "n_bat_club": EXACT,
                                                                  "n_old_bat": EXACT}
    assert sense_finder.find(store, "   ", 5).total == 0


def test_rest_senses_endpoint_uses_the_same_ranking(tmp_path):
    from fastapi.testclient import TestClient

    from sensegraph import SenseGraph
    from sensegraph.graph.embedded import EmbeddedStore
    from sensegraph.service import create_app

    store = EmbeddedStore(tmp_path / "store")
    bat_graph(store)
    try:
        with TestClient(create_app(SenseGraph(store, config={"service": {"token": "t"}}))) as client:
            got = client.get("/senses", params={"q": "bat", "limit": 4}).json()
            rows = got if isinstance(got, list) else got.get("senses", got.get("results"))
            assert [r["sense_id"] for r in rows][:2] == ["n_bat_club", "n_bat_animal"]
    finally:
        store.close()


def test_a_short_query_matches_only_names_that_start_with_it_on_both_stores(store):
    bat_graph(store)
    found = sense_finder.find(store, "ba", 20)
    # "cricket bat", "acrobat" and "probate" hold "ba" too, but not at the start of a name
    assert {s.sense_id for s in found.senses} == {"n_bat_animal", "n_bat_club", "n_old_bat", "n_battle", "n_batch"}
    assert found.total == 5 and set(found.kinds.values()) == {PREFIX}
    assert [s.sense_id for s in sense_finder.find(store, "b", 20).senses][:2] == ["n_bat_club", "n_bat_animal"]
    assert sense_finder.find(store, "rob", 20).total == 2  # three characters: substrings again (acrobat, probate)


def test_a_query_of_only_whitespace_characters_still_finds_the_sense_with_that_id(store):
    """Hypothesis found it: an id such as U+0085 (whitespace to str.strip) was stripped to nothing."""
    store.upsert_senses([Sense("\x85", "", ""), Sense("n_cat", "cat", "a feline")])
    assert [s.sense_id for s in store.find_senses("\x85", 5)] == ["\x85"]
    assert [s.sense_id for s in store.find_senses("  cat ", 5)] == ["n_cat"]  # padding is still stripped
    assert store.find_senses("", 5) == []


def test_an_id_that_normalising_changes_is_still_found_by_itself(store):
    """Hypothesis found it on Neo4j: "\\r1" normalises to "1", a short needle matched only names starting
    with "1", so the sense named by the exact query was not found."""
    store.upsert_senses([Sense("\r1", "", ""), Sense("1x", "one x", "")])
    assert [s.sense_id for s in store.find_senses("\r1", 5)][0] == "\r1"
    assert "\r1" not in [s.sense_id for s in store.find_senses("1", 5)]  # the bare needle stays a prefix search
