"""Linking fixtures: a small hand-made sports graph (with Chinese aliases) and the full WordNet 3.0.

The WordNet store, the MiniLM encoder and the linker over them are session-scoped: importing
WordNet takes ~10 s and building the matcher over its ~155k alias rows a few more.
"""
from __future__ import annotations

import pytest

from sensegraph.graph.embedded import EmbeddedStore
from sensegraph.graph.model import Alias, Entity, HasSense, Relation, Sense

TOY_SENSES = [
    Sense("team:rockets", "Houston Rockets", "a professional basketball team based in Houston"),
    Sense("obj:rocket", "rocket", "a jet engine vehicle or weapon propelled by burning fuel"),
    Sense("team:lakers", "Los Angeles Lakers", "a professional basketball team based in Los Angeles"),
    Sense("team:sharks", "Shanghai Sharks", "a professional basketball team based in Shanghai"),
    Sense("animal:shark", "shark", "a large predatory fish of the sea"),
    Sense("metal:gold", "gold", "a soft yellow precious metal"),
    Sense("bball:team", "basketball team", "a team that plays basketball"),
    Sense("vehicle", "vehicle", "a conveyance that transports people or objects"),
]
TOY_ENTITIES = [
    Entity("rockets", "Rockets"), Entity("rocket", "rocket"), Entity("lakers", "Lakers"),
    Entity("sharks", "Sharks"), Entity("gold", "gold"), Entity("big_shark", "大鲨鱼"),
]
TOY_ALIASES = [
    Alias("Rockets", "rockets"), Alias("rocket", "rocket"), Alias("Lakers", "lakers"),
    Alias("Sharks", "sharks"), Alias("gold", "gold"),
    Alias("火箭", "rocket", "zh"), Alias("火箭", "rockets", "zh"), Alias("黄金", "gold", "zh"),
    Alias("大鲨鱼", "big_shark", "zh"),
]
TOY_HAS_SENSE = [
    HasSense("rockets", "team:rockets", 1), HasSense("rocket", "obj:rocket", 1),
    HasSense("rocket", "team:rockets", 2), HasSense("lakers", "team:lakers", 1),
    HasSense("sharks", "animal:shark", 1), HasSense("sharks", "team:sharks", 2),
    HasSense("gold", "metal:gold", 1), HasSense("big_shark", "team:sharks", 1),
    HasSense("big_shark", "animal:shark", 2),
]
TOY_RELATIONS = [
    Relation("team:rockets", "bball:team", "hypernym"),
    Relation("team:lakers", "bball:team", "hypernym"),
    Relation("team:sharks", "bball:team", "hypernym"),
    Relation("obj:rocket", "vehicle", "hypernym"),
]


@pytest.fixture
def toy_store(tmp_path):
    """A tiny real EmbeddedStore: basketball teams vs rockets and sharks, with zh aliases."""
    store = EmbeddedStore(tmp_path / "toy")
    store.upsert_senses(TOY_SENSES)
    store.upsert_entities(TOY_ENTITIES)
    store.upsert_aliases(TOY_ALIASES)
    store.upsert_has_sense(TOY_HAS_SENSE)
    store.upsert_relations(TOY_RELATIONS)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture(scope="session")
def wordnet_store(tmp_path_factory):
    """All WordNet 3.0 nouns in an EmbeddedStore (Debian's wordnet-base)."""
    from sensegraph.graph.importers.wordnet import import_wordnet

    store = EmbeddedStore(tmp_path_factory.mktemp("wordnet") / "store")
    import_wordnet(store)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture(scope="session")
def minilm():
    from sensegraph.encoders.text import MiniLMTextEncoder

    return MiniLMTextEncoder()


@pytest.fixture(scope="session")
def wordnet_linker(wordnet_store, minilm):
    """The default linker (defaults from LinkerConfig) over WordNet with MiniLM context."""
    from sensegraph.linking.linker import EntityLinker

    return EntityLinker(wordnet_store, minilm.embed_texts)
