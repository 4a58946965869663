"""The linker's build cache: a second linker on the same store loads the lexicon and matchers from
disk (the build step is made to fail to prove it), links the same, and any alias change rebuilds."""
from __future__ import annotations

import pytest

from sensegraph.graph.model import Alias, Entity, HasSense, Relation, Sense
from sensegraph.linking import build_cache
from sensegraph.linking.detect import PhraseMatcherDetector
from sensegraph.linking.linker import EntityLinker

TEXTS = ["The Rockets beat the Lakers", "a rocket and two sharks", "火箭 黄金 大鲨鱼", "Sharks of gold"]


def fill(store) -> None:
    """Rockets vs rocket, sharks vs Sharks, gold, with zh aliases (both matchers get patterns)."""
    store.upsert_senses([
        Sense("team:rockets", "Houston Rockets", "a basketball team based in Houston"),
        Sense("obj:rocket", "rocket", "a jet engine vehicle"), Sense("animal:shark", "shark", "a sea fish"),
        Sense("team:sharks", "Shanghai Sharks", "a basketball team based in Shanghai"),
        Sense("team:lakers", "Los Angeles Lakers", "a basketball team"), Sense("metal:gold", "gold", "a metal"),
        Sense("bball:team", "basketball team", "a team that plays basketball"),
    ])
    store.upsert_entities([Entity(i, i) for i in ("rockets", "rocket", "lakers", "sharks", "gold", "big_shark")])
    store.upsert_aliases([
        Alias("Rockets", "rockets"), Alias("rocket", "rocket"), Alias("Lakers", "lakers"), Alias("Sharks", "sharks"),
        Alias("gold", "gold"), Alias("火箭", "rocket", "zh"), Alias("黄金", "gold", "zh"),
        Alias("大鲨鱼", "big_shark", "zh"),
    ])
    store.upsert_has_sense([
        HasSense("rockets", "team:rockets", 1), HasSense("rocket", "obj:rocket", 1),
        HasSense("rocket", "team:rockets", 2), HasSense("lakers", "team:lakers", 1),
        HasSense("sharks", "animal:shark", 1), HasSense("sharks", "team:sharks", 2),
        HasSense("gold", "metal:gold", 1), HasSense("big_shark", "team:sharks", 1),
    ])
    store.upsert_relations([Relation("team:rockets", "bball:team", "hypernym"),
                            Relation("team:lakers", "bball:team", "hypernym")])


def results(linker: EntityLinker) -> list[list[tuple]]:
    return [[(m.start, m.end, m.sense_id, round(m.confidence, 9)) for m in ms] for ms in linker.link_many(TEXTS)]


def no_build(monkeypatch) -> None:
    """Building the matchers or keying aliases from scratch now fails the test."""
    def boom(*_a, **_k):
        raise AssertionError("the linker was rebuilt instead of loaded from its cache")

    monkeypatch.setattr(PhraseMatcherDetector, "_add_keys", boom)
    monkeypatch.setattr("sensegraph.linking.lexicon.Lexicon.add", boom)


def test_second_linker_loads_from_cache_and_links_the_same(store, tmp_path, monkeypatch):
    fill(store)
    first = EntityLinker(store, None, cache_dir=tmp_path / "cache")
    expected = results(first)
    assert list((tmp_path / "cache").glob("linker-*.pickle"))
    with monkeypatch.context() as m:
        no_build(m)
        second = EntityLinker(store, None, cache_dir=tmp_path / "cache")
        assert results(second) == expected
    assert results(EntityLinker(store, None)) == expected  # the uncached build agrees


def test_alias_edit_invalidates_the_cache(store, tmp_path, monkeypatch):
    fill(store)
    cache = tmp_path / "cache"
    results(EntityLinker(store, None, cache_dir=cache))
    store.upsert_aliases([Alias("Houston", "rockets")])
    with monkeypatch.context() as m:
        no_build(m)
        with pytest.raises(AssertionError, match="rebuilt"):
            EntityLinker(store, None, cache_dir=cache).link("Houston won")
    linked = EntityLinker(store, None, cache_dir=cache).link("Houston won")
    assert [x.sense_id for x in linked] == ["team:rockets"]
    assert len(list(cache.glob("linker-*.pickle"))) == 1  # the stale build was replaced


def test_curator_alias_edit_reaches_a_new_sensegraph(store, tmp_path):
    from sensegraph import SenseGraph

    fill(store)
    cfg = {"encoder": {"cache_dir": str(tmp_path / "cache")}}
    sg = SenseGraph(store, config=cfg)
    sg.replace_part("text_memo", None)  # link without the text model: the cache is what is tested
    assert sg.linker.link("Yao joined") == []
    hits = build_cache.stats["hits"]
    sg.curator("tester").edit_sense("team:sharks", add_aliases=["Yao"])
    again = SenseGraph(store, config=cfg)
    again.replace_part("text_memo", None)
    assert [m.sense_id for m in again.linker.link("Yao joined")] == ["team:sharks"]
    assert build_cache.stats["hits"] == hits  # rebuilt: the edit changed the alias table
    third = SenseGraph(store, config=cfg)
    third.replace_part("text_memo", None)
    assert [m.sense_id for m in third.linker.link("Yao joined")] == ["team:sharks"]
    assert build_cache.stats["hits"] == hits + 1


@pytest.mark.parametrize("damage", [b"", b"not a pickle", None])
def test_corrupt_or_foreign_cache_is_rebuilt(tmp_path, damage):
    from sensegraph.graph.embedded import EmbeddedStore

    toy_store = EmbeddedStore(tmp_path / "store")
    fill(toy_store)
    cache = tmp_path / "cache"
    expected = results(EntityLinker(toy_store, None, cache_dir=cache))
    (path,) = cache.glob("linker-*.pickle")
    if damage is None:  # a valid pickle written for another digest under this name
        import pickle

        data = pickle.loads(path.read_bytes())
        data["digest"] = "0" * 32
        path.write_bytes(pickle.dumps(data))
    else:
        path.write_bytes(damage)
    misses = build_cache.stats["misses"]
    assert results(EntityLinker(toy_store, None, cache_dir=cache)) == expected
    assert build_cache.stats["misses"] == misses + 1
    assert results(EntityLinker(toy_store, None, cache_dir=cache)) == expected  # rewritten, loads again
