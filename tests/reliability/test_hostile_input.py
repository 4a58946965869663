"""Hostile strings: Hypothesis property tests of the store contract and the linker on arbitrary Unicode,
and Cypher-injection attempts through every user-controlled string, on the embedded store and Neo4j."""
from __future__ import annotations


import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sensegraph.errors import NotFound, SenseGraphError, ValidationError
from sensegraph.graph.model import Alias, Entity, Evidence, HasSense, Media, MediaFilter, Relation, Sense


TEXT = st.text(min_size=1, max_size=40)  # any Unicode code points except surrogates, NUL included
IDS = st.text(min_size=1, max_size=24)
SLOW_STORE = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
FAST_STORE = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
INJECTIONS = [
    "'}) DETACH DELETE n //", "\"}) MATCH (n) DETACH DELETE n RETURN 1 //", "` ) DETACH DELETE n //",
    "x'); DROP TABLE senses; --", "\" OR 1=1 --", "$rows", "{sense_id: 'a'}", "\\'; CALL db.clearQueryCaches() //",
    "]->(n) DETACH DELETE n //", "a\u0000b", "<script>alert(1)</script>", "%s%s%n", "../../etc/passwd",
]


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store(request, tmp_path, open_test_store):
    s = open_test_store(request.param, tmp_path / "store")
    s.bind_encoder("hostile-test", 4, 3)
    try:
        yield s
    finally:
        s.close()


def _settings(store):
    return FAST_STORE if store.name == "embedded" else SLOW_STORE


def test_arbitrary_unicode_round_trips_and_upserts_are_idempotent(store):
    @_settings(store)
    @given(sid=IDS, label=st.text(max_size=60), gloss=st.text(max_size=200), alias=TEXT, eid=IDS, caption=st.text(max_size=80))
    @example(sid="\x00", label="", gloss="", alias="0", eid="0", caption="")  # a NUL id: SQLite's json_each cut it once
    def check(sid, label, gloss, alias, eid, caption):
        store.wipe()
        store.bind_encoder("hostile-test", 4, 3)
        batch = dict(
            senses=[Sense(sid, label, gloss)], entities=[Entity(eid, alias)], aliases=[Alias(alias, eid)],
            links=[HasSense(eid, sid, 1)], media=[Media(sid + "#m", "file:///" + alias, "image", caption=caption,
                                                        embedding=np.ones(4, np.float32), features=np.ones(3, np.float32))],
        )
        for _ in range(2):  # the same batch twice = once
            store.upsert_senses(batch["senses"])
            store.upsert_entities(batch["entities"])
            store.upsert_aliases(batch["aliases"])
            store.upsert_has_sense(batch["links"])
            store.upsert_media(batch["media"])
            store.upsert_evidence([Evidence(sid + "#m", sid, 0.5, mention=alias)])
        c = store.counts()
        assert (c["senses"], c["entities"], c["aliases"], c["media"], c["evidence"]) == (1, 1, 1, 1, 1)
        s = store.get_senses([sid])[sid]
        assert (s.label, s.gloss, s.media_count) == (label, gloss, 1)
        assert [(a.alias, a.entity_id, a.sense_id) for a in store.alias_table()] == [(alias, eid, sid)]
        m = store.get_media([sid + "#m"], vectors=False)[sid + "#m"]
        assert (m.caption, m.uri) == (caption, "file:///" + alias)
        assert [e.mention for e in store.evidence(sense_id=sid)] == [alias]
        assert sid in [x.sense_id for x in store.find_senses(sid, 5)]

    check()


def _seed(store) -> None:
    store.upsert_senses([Sense("n1", "cat", "a feline"), Sense("n2", "dog", "a canine")])
    store.upsert_entities([Entity("e1", "cat"), Entity("e2", "dog")])
    store.upsert_aliases([Alias("cat", "e1"), Alias("dog", "e2")])
    store.upsert_has_sense([HasSense("e1", "n1", 1), HasSense("e2", "n2", 1)])
    store.upsert_relations([Relation("n1", "n2", "hypernym", 1.0)])
    v = np.eye(4, dtype=np.float32)
    store.upsert_media([Media(f"m{i}", f"file:///m{i}", "image", caption="c", embedding=v[i], features=v[i][:3] + 0.1)
                        for i in range(3)])
    store.upsert_evidence([Evidence("m0", "n1", 0.9), Evidence("m1", "n2", 0.8)])


@pytest.mark.parametrize("payload", INJECTIONS)
def test_injection_strings_are_data_everywhere(store, payload):
    """Every user-controlled string is a parameter: stored verbatim where written, found nowhere it
    should not be, and nothing else in the graph changes."""
    _seed(store)
    base = dict(store.counts())
    store.upsert_senses([Sense("n1", payload, payload)])  # label, gloss
    store.upsert_entities([Entity("e-inj", payload)])
    store.upsert_aliases([Alias(payload, "e-inj", lang=payload[:8] or "en")])
    store.upsert_has_sense([HasSense("e-inj", "n1", 2)])
    store.upsert_media([Media("m0", payload, "image", caption=payload)])  # uri, caption
    store.upsert_evidence([Evidence("m0", "n1", 0.9, mention=payload)])
    store.upsert_relations([Relation("n1", "n2", payload, 0.5)])  # relation type
    store.set_meta("k-" + payload[:20], payload)
    # reads and filters with the payload as a value: nothing found, nothing raised but NotFound/Validation
    assert store.get_senses([payload]) == {}
    assert store.get_media([payload]) == {}
    assert store.evidence(sense_id=payload) == [] and store.evidence(media_id=payload) == []
    assert store.media_by_sha256(payload) is None
    assert store.neighbours([payload]) == []
    store.find_senses(payload, 5)
    assert [m for m, _ in store.search_media(np.eye(4, dtype=np.float32)[0], 3,
                                             filters=MediaFilter(sense_id=payload))] == []
    hits = store.search_media(np.eye(4, dtype=np.float32)[0], 3, filters=MediaFilter(exclude_ids=(payload,)))
    assert len(hits) == 3
    try:  # an unknown modality matches nothing (or is refused)
        assert store.search_media(np.ones(4, np.float32), 3, filters=MediaFilter(modality=payload)) == []
    except ValidationError:
        pass
    with pytest.raises(NotFound):
        store.resolve(payload)
    with pytest.raises(NotFound):
        store.move_evidence(["m0"], "n1", payload)
    with pytest.raises((NotFound, ValidationError)):
        store.merge_senses("n1", payload)
    after = store.counts()
    expected = dict(base, entities=base["entities"] + 1, aliases=base["aliases"] + 1, relations=base["relations"] + 1)
    assert after == expected
    s = store.get_senses(["n1"])["n1"]
    assert (s.label, s.gloss) == (payload, payload)
    m = store.get_media(["m0"], vectors=False)["m0"]
    assert (m.uri, m.caption) == (payload, payload)
    assert store.get_meta("k-" + payload[:20]) == payload
    assert payload in {a.text for a in store.aliases_of("n1")}


@pytest.fixture(scope="module")
def linker(tmp_path_factory, template, clean):
    """The real EntityLinker over the WordNet template (cached text embeddings, real MiniLM)."""
    from sensegraph import SenseGraph

    from .conftest import fresh_store_dir

    sg = SenseGraph(str(fresh_store_dir(template, tmp_path_factory.mktemp("linker") / "store")))
    sg.link("warm up the cat and the moon")
    yield sg
    sg.close()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(st.text(max_size=300), st.from_regex(r"(cat|moon|coffee|\W|\s|[\u4e00-\u9fff]){0,40}", fullmatch=True)))
def test_the_linker_never_crashes_on_arbitrary_unicode(linker, text):
    try:
        mentions = linker.link(text)
    except ValidationError:
        return
    for m in mentions:
        assert 0 <= m.start <= m.end <= len(text) and text[m.start:m.end] == m.text
        assert m.sense_id is None or 0.0 <= m.confidence <= 1.0


@pytest.mark.parametrize("payload", INJECTIONS[:6])
def test_injection_strings_through_search_and_link_change_nothing(linker, payload):
    before = dict(linker.store.counts())
    try:
        linker.search(payload, k=3)
        linker.link(payload)
        linker.search("a cat", k=3, filters={"sense_id": payload})
    except SenseGraphError as exc:  # a clear refusal is fine; anything else fails the test
        assert isinstance(exc, ValidationError | NotFound), exc
    assert linker.store.counts() == before
